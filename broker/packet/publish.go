package packet

// PUBLISH fixed header flags [MQTT-3.3.1].
const (
	pubRetain   = 0x01
	pubQoSShift = 1
	pubDup      = 0x08
)

// checkTopicName checks a Topic Name: no wildcards [MQTT-3.3.2-2] and at
// least one character [MQTT-4.7.3-1], unless allowEmpty (a PUBLISH in MQTT 5
// may leave the name to its Topic Alias).
func checkTopicName[T string | []byte](topic T, allowEmpty bool) error {
	if len(topic) == 0 && !allowEmpty {
		return topicNameErr("empty topic name [MQTT-4.7.3-1]")
	}
	for i := 0; i < len(topic); i++ {
		if topic[i] == '+' || topic[i] == '#' {
			return topicNameErr("wildcard in topic name [MQTT-3.3.2-2]")
		}
	}
	return nil
}

func decodePublish(r *reader, flags, version byte) (Packet, error) {
	p := &Publish{}
	if err := decodePublishInto(r, flags, version, p); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodePublishInto is Decode for a PUBLISH, into *p (overwritten): the
// broker's hot path decodes into a Publish on its stack instead of
// allocating one per message. Like Decode, it copies what it returns.
func DecodePublishInto(fh FixedHeader, body []byte, version byte, p *Publish) error {
	if fh.Type != PUBLISH {
		return protocolErr("not a PUBLISH")
	}
	if fh.Remaining != len(body) {
		return malformed("remaining length does not match the body")
	}
	if err := checkFlags(fh.Type, fh.Flags); err != nil {
		return err
	}
	if version != Version31 && version != Version311 && version != Version5 {
		return protocolErr("PUBLISH on a connection without a protocol version [MQTT-3.1.0-1]")
	}
	r := reader{b: body}
	return decodePublishInto(&r, fh.Flags, version, p)
}

func decodePublishInto(r *reader, flags, version byte, p *Publish) error {
	*p = Publish{
		Dup:    flags&pubDup != 0,
		QoS:    flags >> pubQoSShift & 3,
		Retain: flags&pubRetain != 0,
	}
	// checkFlags has refused QoS 3 [MQTT-3.3.1-4].
	if p.Dup && p.QoS == 0 {
		// [MQTT-3.3.1-2]. MQTT 5 names no consequence, so its definition of
		// a Protocol Error applies (4.13.1: found after parsing); 3.1.1
		// closes the connection either way.
		if version == Version5 {
			return protocolErr("DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")
		}
		return malformed("DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")
	}
	topic, err := r.utf8Bytes()
	if err != nil {
		return err
	}
	if err := checkTopicName(topic, version == Version5); err != nil {
		return err
	}
	p.Topic = string(topic)
	if p.QoS > 0 {
		if p.PacketID, err = r.packetID(); err != nil {
			return err
		}
	}
	if version == Version5 {
		if err := r.properties(ctxPublish, &p.Properties); err != nil {
			return err
		}
		if p.Topic == "" && !p.Properties.Has(PropTopicAlias) {
			return protocolErr("empty topic name without a Topic Alias (3.3.2.1)")
		}
	}
	p.Payload = r.rest()
	return nil
}

// packetID reads a Packet Identifier, which must not be 0 [MQTT-2.2.1-3].
func (r *reader) packetID() (uint16, error) {
	id, err := r.uint16()
	if err == nil && id == 0 {
		err = protocolErr("packet identifier 0 [MQTT-2.2.1-3]")
	}
	return id, err
}

func (e *encoder) planPublish(p *Publish) error {
	if p.QoS > 2 {
		return encodeErr(MalformedPacket, "PUBLISH with QoS above 2 [MQTT-3.3.1-4]")
	}
	if p.Dup && p.QoS == 0 {
		return encodeErr(MalformedPacket, "DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]")
	}
	if p.QoS > 0 && p.PacketID == 0 {
		return encodeErr(ProtocolError, "packet identifier 0 [MQTT-2.2.1-3]")
	}
	if err := checkTopicName(p.Topic, e.version == Version5); err != nil {
		return asEncodeErr(err)
	}
	n, err := stringSize(len(p.Topic), "topic name")
	if err != nil {
		return err
	}
	if p.QoS > 0 {
		n += 2
	}
	if e.version == Version5 {
		if p.Topic == "" && !p.Properties.Has(PropTopicAlias) {
			return encodeErr(ProtocolError, "empty topic name without a Topic Alias")
		}
		if e.props, err = propertiesSize(&p.Properties, ctxPublish); err != nil {
			return err
		}
		n += blockSize(e.props)
	}
	if len(p.Payload) > MaxRemaining-n {
		return encodeErr(PacketTooLarge, "PUBLISH longer than the maximum remaining length")
	}
	e.body = n + len(p.Payload)
	e.first = byte(PUBLISH)<<4 | p.QoS<<pubQoSShift
	if p.Dup {
		e.first |= pubDup
	}
	if p.Retain {
		e.first |= pubRetain
	}
	return nil
}

func (e *encoder) writePublish(dst []byte, p *Publish) []byte {
	dst = appendString(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendUint16(dst, p.PacketID)
	}
	if e.version == Version5 {
		dst = appendProperties(dst, &p.Properties, e.props)
	}
	return append(dst, p.Payload...)
}
