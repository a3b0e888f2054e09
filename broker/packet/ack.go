package packet

// This file holds the packets made of little more than a reason code:
// PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT, AUTH, PINGREQ and PINGRESP.
// In MQTT 5 their reason code and properties may be left out [MQTT-3.4.2.1]
// [MQTT-3.14.2.1] [MQTT-3.15.2.1]: the encoder always takes the shortest form.

// Layouts of a packet whose tail may be left out.
const (
	formBare   = iota // no reason code, no properties: Success
	formReason        // reason code only
	formFull          // reason code and properties
)

func decodeAck(r *reader, kind Type, version byte) (Packet, error) {
	a := &Ack{}
	if err := decodeAckInto(r, kind, version, a); err != nil {
		return nil, err
	}
	return a, nil
}

// DecodeAckInto is Decode for a PUBACK, PUBREC, PUBREL or PUBCOMP, into *a
// (overwritten): like DecodePublishInto, for the broker's hot path.
func DecodeAckInto(fh FixedHeader, body []byte, version byte, a *Ack) error {
	switch fh.Type {
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
	default:
		return protocolErr("not an acknowledgement")
	}
	if fh.Remaining != len(body) {
		return malformed("remaining length does not match the body")
	}
	if err := checkFlags(fh.Type, fh.Flags); err != nil {
		return err
	}
	if version != Version31 && version != Version311 && version != Version5 {
		return protocolErr(fh.Type.String() + " on a connection without a protocol version [MQTT-3.1.0-1]")
	}
	r := reader{b: body}
	return decodeAckInto(&r, fh.Type, version, a)
}

func decodeAckInto(r *reader, kind Type, version byte, a *Ack) error {
	*a = Ack{Kind: kind}
	var err error
	if a.PacketID, err = r.packetID(); err != nil {
		return err
	}
	if version != Version5 || len(r.b) == 0 {
		return r.end()
	}
	// 3.4.2.1: Remaining Length 2 means Success; below 4 there are no
	// properties.
	return r.reasonAndProps(kind, ctxPubAck, &a.ReasonCode, &a.Properties)
}

// reasonAndProps reads the tail of a short-form packet: a reason code, then
// properties if any byte is left.
func (r *reader) reasonAndProps(t Type, ctx propCtx, code *ReasonCode, p *Properties) error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	*code = ReasonCode(c)
	if err := checkReason(t, *code, Version5); err != nil {
		return err
	}
	if len(r.b) > 0 {
		if err := r.properties(ctx, p); err != nil {
			return err
		}
	}
	return r.end()
}

// planTail sizes a reason code and properties in the shortest layout the
// packet allows: nothing for Success without properties, then, when
// reasonOnly (the packet may end after its reason code), the code alone.
func (e *encoder) planTail(t Type, ctx propCtx, code ReasonCode, p *Properties, reasonOnly bool) error {
	if !ValidReasonCode(t, code, Version5) {
		return encodeErr(ProtocolError, t.String()+" with a reason code it may not carry")
	}
	var err error
	if e.props, err = propertiesSize(p, ctx); err != nil {
		return err
	}
	switch {
	case e.props == 0 && code == Success:
		e.form = formBare
	case e.props == 0 && reasonOnly:
		e.form, e.body = formReason, e.body+1
	default:
		e.form, e.body = formFull, e.body+1+blockSize(e.props)
	}
	return nil
}

func (e *encoder) writeTail(dst []byte, code ReasonCode, p *Properties) []byte {
	switch e.form {
	case formReason:
		dst = append(dst, byte(code))
	case formFull:
		dst = appendProperties(append(dst, byte(code)), p, e.props)
	}
	return dst
}

func (e *encoder) planAck(a *Ack) error {
	switch a.Kind {
	case PUBACK, PUBREC, PUBCOMP:
		e.first = byte(a.Kind) << 4
	case PUBREL:
		e.first = byte(PUBREL)<<4 | 0x02
	default:
		return encodeErr(MalformedPacket, "Ack of kind "+a.Kind.String())
	}
	if a.PacketID == 0 {
		return encodeErr(ProtocolError, "packet identifier 0 [MQTT-2.2.1-3]")
	}
	e.body = 2
	if e.version != Version5 {
		return nil
	}
	return e.planTail(a.Kind, ctxPubAck, a.ReasonCode, &a.Properties, true)
}

func (e *encoder) writeAck(dst []byte, a *Ack) []byte {
	dst = appendUint16(dst, a.PacketID)
	if e.version != Version5 {
		return dst
	}
	return e.writeTail(dst, a.ReasonCode, &a.Properties)
}

func decodeDisconnect(r *reader, version byte) (Packet, error) {
	d := &Disconnect{}
	if version != Version5 || len(r.b) == 0 {
		// 3.14.2.1: Remaining Length 0 is a normal disconnection.
		return d, r.end()
	}
	if err := r.reasonAndProps(DISCONNECT, ctxDisconnect, &d.ReasonCode, &d.Properties); err != nil {
		return nil, err
	}
	return d, nil
}

func (e *encoder) planDisconnect(d *Disconnect) error {
	e.first = byte(DISCONNECT) << 4
	if e.version != Version5 {
		return nil
	}
	return e.planTail(DISCONNECT, ctxDisconnect, d.ReasonCode, &d.Properties, true)
}

func decodeAuth(r *reader) (Packet, error) {
	a := &Auth{}
	if len(r.b) == 0 {
		return a, nil // 3.15.2.1: Remaining Length 0 is Success
	}
	if len(r.b) == 1 {
		// Only Success may drop the Property Length, together with the code.
		return nil, malformed("AUTH without a Property Length (3.15.2.1)")
	}
	if err := r.reasonAndProps(AUTH, ctxAuth, &a.ReasonCode, &a.Properties); err != nil {
		return nil, err
	}
	return a, nil
}

func (e *encoder) planAuth(a *Auth) error {
	if e.version != Version5 {
		return encodeErr(ProtocolError, "AUTH before MQTT 5")
	}
	e.first = byte(AUTH) << 4
	return e.planTail(AUTH, ctxAuth, a.ReasonCode, &a.Properties, false)
}

// decodeEmpty decodes the packets without a variable header: PINGREQ,
// PINGRESP, and DISCONNECT before MQTT 5.
func decodeEmpty(r *reader, p Packet) (Packet, error) {
	return p, r.end()
}
