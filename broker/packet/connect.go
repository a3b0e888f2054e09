package packet

// Protocol names of CONNECT [MQTT-3.1.2-1].
const (
	protocolMQTT   = "MQTT"
	protocolMQIsdp = "MQIsdp"
)

// CONNECT flags [MQTT-3.1.2.3].
const (
	flagReserved     = 0x01
	flagCleanStart   = 0x02
	flagWill         = 0x04
	flagWillQoSShift = 3
	flagWillRetain   = 0x20
	flagPassword     = 0x40
	flagUsername     = 0x80
)

// protocolName returns the protocol name that goes with a protocol level,
// or "" for a level this package does not speak.
func protocolName(version byte) string {
	switch version {
	case Version31:
		return protocolMQIsdp
	case Version311, Version5:
		return protocolMQTT
	}
	return ""
}

func decodeConnect(r *reader) (Packet, error) {
	name, err := r.field()
	if err != nil {
		return nil, err
	}
	level, err := r.byte()
	if err != nil {
		return nil, err
	}
	// [MQTT-3.1.2-1] [MQTT-3.1.2-2]: MQIsdp goes with 3, MQTT with 4 and 5.
	want := protocolName(level)
	if want == "" || string(name) != want {
		return nil, unsupportedVersion("protocol name and level do not match a supported version [MQTT-3.1.2-2]")
	}
	c := &Connect{ProtocolName: want, ProtocolVersion: level}
	flags, err := r.byte()
	if err != nil {
		return nil, err
	}
	if err := c.setFlags(flags); err != nil {
		return nil, err
	}
	if c.KeepAlive, err = r.uint16(); err != nil {
		return nil, err
	}
	if level == Version5 {
		if err := r.properties(ctxConnect, &c.Properties); err != nil {
			return nil, err
		}
		if c.Properties.Has(PropAuthData) && !c.Properties.Has(PropAuthMethod) {
			return nil, protocolErr("Authentication Data without Authentication Method (3.1.2.11.10)")
		}
	}
	if c.ClientID, err = r.string(); err != nil {
		return nil, err
	}
	if c.WillFlag {
		if err := r.will(c); err != nil {
			return nil, err
		}
	}
	if c.UsernameFlag {
		if c.Username, err = r.string(); err != nil {
			return nil, err
		}
	}
	if c.PasswordFlag {
		if c.Password, err = r.binary(); err != nil {
			return nil, err
		}
	}
	return c, r.end()
}

// setFlags decodes the Connect Flags byte into c.
func (c *Connect) setFlags(flags byte) error {
	// [MQTT-3.1.2-3]; MQTT 3.1 left the bit unused without requiring 0.
	if flags&flagReserved != 0 && c.ProtocolVersion != Version31 {
		return malformed("reserved CONNECT flag set [MQTT-3.1.2-3]")
	}
	c.CleanStart = flags&flagCleanStart != 0
	c.WillFlag = flags&flagWill != 0
	c.WillQoS = flags >> flagWillQoSShift & 3
	c.WillRetain = flags&flagWillRetain != 0
	c.PasswordFlag = flags&flagPassword != 0
	c.UsernameFlag = flags&flagUsername != 0
	if !c.WillFlag && (c.WillQoS != 0 || c.WillRetain) {
		// 3.1.1 [MQTT-3.1.2-13] [MQTT-3.1.2-15], 5 [MQTT-3.1.2-11] [MQTT-3.1.2-13]
		return malformed("Will QoS or Will Retain set without the Will Flag [MQTT-3.1.2-13]")
	}
	if c.WillQoS == 3 {
		return malformed("Will QoS 3 [MQTT-3.1.2-14]") // [MQTT-3.1.2-12] in 5
	}
	// MQTT 5 allows a password without a user name (3.1.2.9).
	if c.PasswordFlag && !c.UsernameFlag && c.ProtocolVersion != Version5 {
		return malformed("Password Flag without User Name Flag [MQTT-3.1.2-22]")
	}
	return nil
}

// will reads the Will Properties, Will Topic and Will Payload.
func (r *reader) will(c *Connect) (err error) {
	if c.ProtocolVersion == Version5 {
		if err := r.properties(ctxWill, &c.WillProperties); err != nil {
			return err
		}
	}
	topic, err := r.utf8Bytes()
	if err != nil {
		return err
	}
	if err := checkTopicName(topic, false); err != nil {
		return err
	}
	c.WillTopic = string(topic)
	c.WillPayload, err = r.binary()
	return err
}

func (e *encoder) planConnect(c *Connect) error {
	v := c.ProtocolVersion
	if v == 0 {
		v = e.version
	}
	name := protocolName(v)
	if name == "" || (c.ProtocolName != "" && c.ProtocolName != name) {
		return encodeErr(UnsupportedProtocolVersion, "CONNECT protocol name and version do not match")
	}
	e.version = v
	if c.WillFlag && c.WillQoS > 2 {
		return encodeErr(MalformedPacket, "Will QoS above 2")
	}
	if c.PasswordFlag && !c.UsernameFlag && v != Version5 {
		return encodeErr(MalformedPacket, "password without user name before MQTT 5 [MQTT-3.1.2-22]")
	}
	z := sizer{n: 2 + len(name) + 1 + 1 + 2} // protocol name, level, flags, keep alive
	if v == Version5 {
		e.props = z.properties(&c.Properties, ctxConnect)
	}
	z.field(len(c.ClientID), "client identifier")
	if c.WillFlag {
		if err := checkTopicName(c.WillTopic, false); err != nil {
			return asEncodeErr(err)
		}
		if v == Version5 {
			e.will = z.properties(&c.WillProperties, ctxWill)
		}
		z.field(len(c.WillTopic), "will topic")
		z.field(len(c.WillPayload), "will payload")
	}
	if c.UsernameFlag {
		z.field(len(c.Username), "user name")
	}
	if c.PasswordFlag {
		z.field(len(c.Password), "password")
	}
	e.first, e.body = byte(CONNECT)<<4, z.n
	return z.err
}

// sizer adds up the size of fields, keeping the first error.
type sizer struct {
	n   int
	err error
}

// field adds a string or binary field of length n.
func (z *sizer) field(n int, what string) {
	if z.err == nil {
		var s int
		s, z.err = stringSize(n, what)
		z.n += s
	}
}

// properties adds a property block and returns the size of its properties.
func (z *sizer) properties(p *Properties, ctx propCtx) int {
	if z.err != nil {
		return 0
	}
	var n int
	n, z.err = propertiesSize(p, ctx)
	z.n += blockSize(n)
	return n
}

func (e *encoder) writeConnect(dst []byte, c *Connect) []byte {
	dst = appendString(dst, protocolName(e.version))
	dst = append(dst, e.version, c.flags(), byte(c.KeepAlive>>8), byte(c.KeepAlive))
	if e.version == Version5 {
		dst = appendProperties(dst, &c.Properties, e.props)
	}
	dst = appendString(dst, c.ClientID)
	if c.WillFlag {
		if e.version == Version5 {
			dst = appendProperties(dst, &c.WillProperties, e.will)
		}
		dst = appendString(dst, c.WillTopic)
		dst = appendBinary(dst, c.WillPayload)
	}
	if c.UsernameFlag {
		dst = appendString(dst, c.Username)
	}
	if c.PasswordFlag {
		dst = appendBinary(dst, c.Password)
	}
	return dst
}

// flags encodes the Connect Flags byte; the will fields count only with the
// Will Flag.
func (c *Connect) flags() byte {
	var f byte
	if c.CleanStart {
		f |= flagCleanStart
	}
	if c.WillFlag {
		f |= flagWill | c.WillQoS<<flagWillQoSShift
		if c.WillRetain {
			f |= flagWillRetain
		}
	}
	if c.PasswordFlag {
		f |= flagPassword
	}
	if c.UsernameFlag {
		f |= flagUsername
	}
	return f
}

func decodeConnack(r *reader, version byte) (Packet, error) {
	flags, err := r.byte()
	if err != nil {
		return nil, err
	}
	if flags&^1 != 0 {
		return nil, malformed("reserved CONNACK acknowledge flags set [MQTT-3.2.2-1]")
	}
	c := &Connack{SessionPresent: flags == 1}
	code, err := r.byte()
	if err != nil {
		return nil, err
	}
	c.ReasonCode = ReasonCode(code)
	if err := checkReason(CONNACK, c.ReasonCode, version); err != nil {
		return nil, err
	}
	if c.SessionPresent && c.ReasonCode != Success {
		// 3.1.1 [MQTT-3.2.2-4], 5 [MQTT-3.2.2-6]
		return nil, protocolErr("Session Present with a refusing CONNACK [MQTT-3.2.2-4]")
	}
	if version == Version5 {
		if err := r.properties(ctxConnack, &c.Properties); err != nil {
			return nil, err
		}
	}
	return c, r.end()
}

func (e *encoder) planConnack(c *Connack) error {
	if !ValidReasonCode(CONNACK, c.ReasonCode, e.version) {
		return encodeErr(ProtocolError, "CONNACK with a reason code it may not carry")
	}
	if c.SessionPresent && c.ReasonCode != Success {
		return encodeErr(ProtocolError, "Session Present with a refusing CONNACK [MQTT-3.2.2-4]")
	}
	e.first = byte(CONNACK) << 4
	e.body = 2
	if e.version == Version5 {
		var err error
		if e.props, err = propertiesSize(&c.Properties, ctxConnack); err != nil {
			return err
		}
		e.body += blockSize(e.props)
	}
	return nil
}

func (e *encoder) writeConnack(dst []byte, c *Connack) []byte {
	var flags byte
	if c.SessionPresent {
		flags = 1
	}
	dst = append(dst, flags, byte(c.ReasonCode))
	if e.version == Version5 {
		dst = appendProperties(dst, &c.Properties, e.props)
	}
	return dst
}
