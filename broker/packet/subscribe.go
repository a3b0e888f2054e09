package packet

// SUBSCRIBE options byte [MQTT-3.8.3.1].
const (
	optQoS            = 0x03
	optNoLocal        = 0x04
	optRetainAsPub    = 0x08
	optRetainHandling = 0x30
	optRHShift        = 4
	optReserved5      = 0xC0 // MQTT 5
	optReserved3      = 0xFC // MQTT 3.1 and 3.1.1
)

func decodeSubscribe(r *reader, version byte) (Packet, error) {
	s := &Subscribe{}
	var err error
	if s.PacketID, err = r.packetID(); err != nil {
		return nil, err
	}
	if version == Version5 {
		if err := r.properties(ctxSubscribe, &s.Properties); err != nil {
			return nil, err
		}
	}
	if len(r.b) == 0 {
		return nil, protocolErr("SUBSCRIBE without subscriptions [MQTT-3.8.3-3]")
	}
	for len(r.b) > 0 {
		var o SubOptions
		if o.Filter, err = r.string(); err != nil {
			return nil, err
		}
		opts, err := r.byte()
		if err != nil {
			return nil, err
		}
		if err := o.set(opts, version); err != nil {
			return nil, err
		}
		s.Subscriptions = append(s.Subscriptions, o)
	}
	return s, nil
}

// set decodes a subscription options byte into o.
func (o *SubOptions) set(opts, version byte) error {
	o.QoS = opts & optQoS
	if version != Version5 {
		if opts&optReserved3 != 0 || o.QoS == 3 {
			return malformed("SUBSCRIBE reserved bits set or QoS 3 [MQTT-3-8.3-4]")
		}
		return nil
	}
	if opts&optReserved5 != 0 {
		return malformed("SUBSCRIBE options reserved bits set [MQTT-3.8.3-5]")
	}
	if o.QoS == 3 {
		return protocolErr("SUBSCRIBE Maximum QoS 3 (3.8.3.1)")
	}
	o.NoLocal = opts&optNoLocal != 0
	o.RetainAsPublished = opts&optRetainAsPub != 0
	o.RetainHandling = (opts & optRetainHandling) >> optRHShift
	if o.RetainHandling == 3 {
		return protocolErr("SUBSCRIBE Retain Handling 3 (3.8.3.1)")
	}
	return nil
}

// options encodes the subscription options byte for version.
func (o *SubOptions) options(version byte) byte {
	b := o.QoS
	if version != Version5 {
		return b
	}
	if o.NoLocal {
		b |= optNoLocal
	}
	if o.RetainAsPublished {
		b |= optRetainAsPub
	}
	return b | o.RetainHandling<<optRHShift
}

func (e *encoder) planSubscribe(s *Subscribe) error {
	if s.PacketID == 0 {
		return encodeErr(ProtocolError, "packet identifier 0 [MQTT-2.2.1-3]")
	}
	if len(s.Subscriptions) == 0 {
		return encodeErr(ProtocolError, "SUBSCRIBE without subscriptions [MQTT-3.8.3-3]")
	}
	n, err := e.planIDAndProps(ctxSubscribe, &s.Properties)
	if err != nil {
		return err
	}
	for i := range s.Subscriptions {
		o := &s.Subscriptions[i]
		if o.QoS > 2 || (e.version == Version5 && o.RetainHandling > 2) {
			return encodeErr(MalformedPacket, "SUBSCRIBE QoS or Retain Handling above 2")
		}
		f, err := stringSize(len(o.Filter), "topic filter")
		if err != nil {
			return err
		}
		if n += f + 1; n > MaxRemaining {
			return encodeErr(PacketTooLarge, "SUBSCRIBE longer than the maximum remaining length")
		}
	}
	e.first, e.body = byte(SUBSCRIBE)<<4|0x02, n
	return nil
}

// planIDAndProps sizes a packet identifier and, in MQTT 5, properties.
func (e *encoder) planIDAndProps(ctx propCtx, p *Properties) (int, error) {
	if e.version != Version5 {
		return 2, nil
	}
	var err error
	e.props, err = propertiesSize(p, ctx)
	return 2 + blockSize(e.props), err
}

func (e *encoder) writeIDAndProps(dst []byte, id uint16, p *Properties) []byte {
	dst = appendUint16(dst, id)
	if e.version == Version5 {
		dst = appendProperties(dst, p, e.props)
	}
	return dst
}

func (e *encoder) writeSubscribe(dst []byte, s *Subscribe) []byte {
	dst = e.writeIDAndProps(dst, s.PacketID, &s.Properties)
	for i := range s.Subscriptions {
		o := &s.Subscriptions[i]
		dst = append(appendString(dst, o.Filter), o.options(e.version))
	}
	return dst
}

func decodeSuback(r *reader, version byte) (Packet, error) {
	s := &Suback{}
	var err error
	if s.PacketID, err = r.packetID(); err != nil {
		return nil, err
	}
	if version == Version5 {
		if err := r.properties(ctxSuback, &s.Properties); err != nil {
			return nil, err
		}
	}
	if s.ReasonCodes, err = r.reasonCodes(SUBACK, version); err != nil {
		return nil, err
	}
	return s, nil
}

// reasonCodes reads the payload of SUBACK or UNSUBACK: one or more codes.
func (r *reader) reasonCodes(t Type, version byte) ([]ReasonCode, error) {
	if len(r.b) == 0 {
		return nil, protocolErr(t.String() + " without reason codes (3.9.3, 3.11.3)")
	}
	codes := make([]ReasonCode, len(r.b))
	for i, c := range r.b {
		codes[i] = ReasonCode(c)
		if err := checkReason(t, codes[i], version); err != nil {
			return nil, err
		}
	}
	r.b = nil
	return codes, nil
}

func (e *encoder) planCodes(t Type, codes []ReasonCode, n int) error {
	if len(codes) == 0 {
		return encodeErr(ProtocolError, t.String()+" without reason codes")
	}
	for _, c := range codes {
		if !ValidReasonCode(t, c, e.version) {
			return encodeErr(ProtocolError, t.String()+" with a reason code it may not carry")
		}
	}
	if len(codes) > MaxRemaining-n {
		return encodeErr(PacketTooLarge, t.String()+" longer than the maximum remaining length")
	}
	e.first, e.body = byte(t)<<4, n+len(codes)
	return nil
}

func (e *encoder) planSuback(s *Suback) error {
	if s.PacketID == 0 {
		return encodeErr(ProtocolError, "packet identifier 0 [MQTT-2.2.1-3]")
	}
	n, err := e.planIDAndProps(ctxSuback, &s.Properties)
	if err != nil {
		return err
	}
	return e.planCodes(SUBACK, s.ReasonCodes, n)
}

func (e *encoder) writeCodes(dst []byte, id uint16, p *Properties, codes []ReasonCode) []byte {
	dst = e.writeIDAndProps(dst, id, p)
	for _, c := range codes {
		dst = append(dst, byte(c))
	}
	return dst
}

func decodeUnsubscribe(r *reader, version byte) (Packet, error) {
	u := &Unsubscribe{}
	var err error
	if u.PacketID, err = r.packetID(); err != nil {
		return nil, err
	}
	if version == Version5 {
		if err := r.properties(ctxUnsubscribe, &u.Properties); err != nil {
			return nil, err
		}
	}
	if len(r.b) == 0 {
		return nil, protocolErr("UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]")
	}
	for len(r.b) > 0 {
		f, err := r.string()
		if err != nil {
			return nil, err
		}
		u.Filters = append(u.Filters, f)
	}
	return u, nil
}

func (e *encoder) planUnsubscribe(u *Unsubscribe) error {
	if u.PacketID == 0 {
		return encodeErr(ProtocolError, "packet identifier 0 [MQTT-2.2.1-3]")
	}
	if len(u.Filters) == 0 {
		return encodeErr(ProtocolError, "UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]")
	}
	n, err := e.planIDAndProps(ctxUnsubscribe, &u.Properties)
	if err != nil {
		return err
	}
	for _, f := range u.Filters {
		s, err := stringSize(len(f), "topic filter")
		if err != nil {
			return err
		}
		if n += s; n > MaxRemaining {
			return encodeErr(PacketTooLarge, "UNSUBSCRIBE longer than the maximum remaining length")
		}
	}
	e.first, e.body = byte(UNSUBSCRIBE)<<4|0x02, n
	return nil
}

func (e *encoder) writeUnsubscribe(dst []byte, u *Unsubscribe) []byte {
	dst = e.writeIDAndProps(dst, u.PacketID, &u.Properties)
	for _, f := range u.Filters {
		dst = appendString(dst, f)
	}
	return dst
}

func decodeUnsuback(r *reader, version byte) (Packet, error) {
	u := &Unsuback{}
	var err error
	if u.PacketID, err = r.packetID(); err != nil {
		return nil, err
	}
	if version != Version5 {
		return u, r.end()
	}
	if err := r.properties(ctxUnsuback, &u.Properties); err != nil {
		return nil, err
	}
	if u.ReasonCodes, err = r.reasonCodes(UNSUBACK, version); err != nil {
		return nil, err
	}
	return u, nil
}

func (e *encoder) planUnsuback(u *Unsuback) error {
	if u.PacketID == 0 {
		return encodeErr(ProtocolError, "packet identifier 0 [MQTT-2.2.1-3]")
	}
	if e.version != Version5 {
		e.first, e.body = byte(UNSUBACK)<<4, 2 // the codes are MQTT 5 only
		return nil
	}
	n, err := e.planIDAndProps(ctxUnsuback, &u.Properties)
	if err != nil {
		return err
	}
	return e.planCodes(UNSUBACK, u.ReasonCodes, n)
}

func (e *encoder) writeUnsuback(dst []byte, u *Unsuback) []byte {
	if e.version != Version5 {
		return appendUint16(dst, u.PacketID)
	}
	return e.writeCodes(dst, u.PacketID, &u.Properties, u.ReasonCodes)
}
