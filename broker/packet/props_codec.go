package packet

import (
	"fmt"
	"math/bits"
)

// propCtx names a place where properties are carried, to check which
// properties it allows (the table in [MQTT-2.2.2.2]).
type propCtx uint16

const (
	ctxConnect propCtx = 1 << iota
	ctxConnack
	ctxPublish
	ctxWill
	ctxPubAck // PUBACK, PUBREC, PUBREL and PUBCOMP
	ctxSubscribe
	ctxSuback
	ctxUnsubscribe
	ctxUnsuback
	ctxDisconnect
	ctxAuth

	ctxAll = ctxConnect | ctxConnack | ctxPublish | ctxWill | ctxPubAck | ctxSubscribe |
		ctxSuback | ctxUnsubscribe | ctxUnsuback | ctxDisconnect | ctxAuth
)

// wireType is the data type of a property value [MQTT-1.5].
type wireType uint8

const (
	wByte   wireType = iota + 1 // Byte
	wTwo                        // Two Byte Integer
	wFour                       // Four Byte Integer
	wVarint                     // Variable Byte Integer
	wString                     // UTF-8 Encoded String
	wBinary                     // Binary Data
	wPair                       // UTF-8 String Pair
)

type propInfo struct {
	name string
	wire wireType
	ctx  propCtx
}

// props describes every MQTT 5 property, indexed by identifier.
var props = [...]propInfo{
	PropPayloadFormat:        {"Payload Format Indicator", wByte, ctxPublish | ctxWill},
	PropMessageExpiry:        {"Message Expiry Interval", wFour, ctxPublish | ctxWill},
	PropContentType:          {"Content Type", wString, ctxPublish | ctxWill},
	PropResponseTopic:        {"Response Topic", wString, ctxPublish | ctxWill},
	PropCorrelationData:      {"Correlation Data", wBinary, ctxPublish | ctxWill},
	PropSubscriptionID:       {"Subscription Identifier", wVarint, ctxPublish | ctxSubscribe},
	PropSessionExpiry:        {"Session Expiry Interval", wFour, ctxConnect | ctxConnack | ctxDisconnect},
	PropAssignedClientID:     {"Assigned Client Identifier", wString, ctxConnack},
	PropServerKeepAlive:      {"Server Keep Alive", wTwo, ctxConnack},
	PropAuthMethod:           {"Authentication Method", wString, ctxConnect | ctxConnack | ctxAuth},
	PropAuthData:             {"Authentication Data", wBinary, ctxConnect | ctxConnack | ctxAuth},
	PropRequestProblemInfo:   {"Request Problem Information", wByte, ctxConnect},
	PropWillDelay:            {"Will Delay Interval", wFour, ctxWill},
	PropRequestResponseInfo:  {"Request Response Information", wByte, ctxConnect},
	PropResponseInfo:         {"Response Information", wString, ctxConnack},
	PropServerReference:      {"Server Reference", wString, ctxConnack | ctxDisconnect},
	PropReasonString:         {"Reason String", wString, ctxConnack | ctxPubAck | ctxSuback | ctxUnsuback | ctxDisconnect | ctxAuth},
	PropReceiveMaximum:       {"Receive Maximum", wTwo, ctxConnect | ctxConnack},
	PropTopicAliasMaximum:    {"Topic Alias Maximum", wTwo, ctxConnect | ctxConnack},
	PropTopicAlias:           {"Topic Alias", wTwo, ctxPublish},
	PropMaximumQoS:           {"Maximum QoS", wByte, ctxConnack},
	PropRetainAvailable:      {"Retain Available", wByte, ctxConnack},
	PropUserProperty:         {"User Property", wPair, ctxAll},
	PropMaximumPacketSize:    {"Maximum Packet Size", wFour, ctxConnect | ctxConnack},
	PropWildcardSubAvailable: {"Wildcard Subscription Available", wByte, ctxConnack},
	PropSubIDAvailable:       {"Subscription Identifier Available", wByte, ctxConnack},
	PropSharedSubAvailable:   {"Shared Subscription Available", wByte, ctxConnack},
}

func propLookup(id PropID) propInfo {
	if int(id) < len(props) {
		return props[id]
	}
	return propInfo{}
}

// String returns the specification's name of the property.
func (id PropID) String() string {
	if info := propLookup(id); info.wire != 0 {
		return info.name
	}
	return fmt.Sprintf("PropID(0x%02X)", byte(id))
}

// Field accessors, by identifier, for the generic property code. Each
// returns nil for an identifier of another wire type.

func (p *Properties) byteField(id PropID) *byte {
	switch id {
	case PropPayloadFormat:
		return &p.PayloadFormat
	case PropRequestProblemInfo:
		return &p.RequestProblemInfo
	case PropRequestResponseInfo:
		return &p.RequestResponseInfo
	case PropMaximumQoS:
		return &p.MaximumQoS
	case PropRetainAvailable:
		return &p.RetainAvailable
	case PropWildcardSubAvailable:
		return &p.WildcardSubAvailable
	case PropSubIDAvailable:
		return &p.SubIDAvailable
	case PropSharedSubAvailable:
		return &p.SharedSubAvailable
	}
	return nil
}

func (p *Properties) twoField(id PropID) *uint16 {
	switch id {
	case PropServerKeepAlive:
		return &p.ServerKeepAlive
	case PropReceiveMaximum:
		return &p.ReceiveMaximum
	case PropTopicAliasMaximum:
		return &p.TopicAliasMaximum
	case PropTopicAlias:
		return &p.TopicAlias
	}
	return nil
}

func (p *Properties) fourField(id PropID) *uint32 {
	switch id {
	case PropMessageExpiry:
		return &p.MessageExpiry
	case PropSessionExpiry:
		return &p.SessionExpiry
	case PropWillDelay:
		return &p.WillDelay
	case PropMaximumPacketSize:
		return &p.MaximumPacketSize
	}
	return nil
}

func (p *Properties) stringField(id PropID) *string {
	switch id {
	case PropContentType:
		return &p.ContentType
	case PropResponseTopic:
		return &p.ResponseTopic
	case PropAssignedClientID:
		return &p.AssignedClientID
	case PropAuthMethod:
		return &p.AuthMethod
	case PropResponseInfo:
		return &p.ResponseInfo
	case PropServerReference:
		return &p.ServerReference
	case PropReasonString:
		return &p.ReasonString
	}
	return nil
}

func (p *Properties) binaryField(id PropID) *[]byte {
	switch id {
	case PropCorrelationData:
		return &p.CorrelationData
	case PropAuthData:
		return &p.AuthData
	}
	return nil
}

// checkValue enforces the value ranges of the specification on the present
// property id.
func (p *Properties) checkValue(id PropID) error {
	switch id {
	case PropPayloadFormat, PropRequestProblemInfo, PropRequestResponseInfo, PropMaximumQoS,
		PropRetainAvailable, PropWildcardSubAvailable, PropSubIDAvailable, PropSharedSubAvailable:
		// [MQTT-2.2.2.2]: each of these is 0 or 1, any other value is a
		// Protocol Error (3.1.2.11.6, 3.1.2.11.7, 3.2.2.3.4, ...).
		if *p.byteField(id) > 1 {
			return protocolErr(id.String() + " must be 0 or 1")
		}
	case PropReceiveMaximum:
		if p.ReceiveMaximum == 0 {
			return protocolErr("Receive Maximum of 0 (3.1.2.11.3, 3.2.2.3.3)")
		}
	case PropMaximumPacketSize:
		if p.MaximumPacketSize == 0 {
			return protocolErr("Maximum Packet Size of 0 (3.1.2.11.4, 3.2.2.3.6)")
		}
	case PropTopicAlias:
		// 3.3.4: a Topic Alias of 0 is a Protocol Error, answered with
		// 0x94 Topic Alias invalid [MQTT-3.3.2-8].
		if p.TopicAlias == 0 {
			return &Error{Code: TopicAliasInvalid, Reason: "topic alias invalid: Topic Alias of 0 [MQTT-3.3.2-8]"}
		}
	}
	return nil
}

// decodeProperties reads a Property Length and the properties it covers into
// p, checking them for the place ctx.
func (r *reader) properties(ctx propCtx, p *Properties) error {
	n, err := r.varint()
	if err != nil {
		return err
	}
	if n > len(r.b) {
		return malformed("property length exceeds the packet [MQTT-2.2.2]")
	}
	pr := reader{b: r.b[:n:n], alias: r.alias}
	r.b = r.b[n:]
	for len(pr.b) > 0 {
		if err := pr.property(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// property reads one property into p.
func (r *reader) property(ctx propCtx, p *Properties) error {
	c, _ := r.byte() // the caller checked there is one
	id := PropID(c)
	info := propLookup(id)
	if info.wire == 0 {
		return malformed(fmt.Sprintf("unknown property identifier 0x%02X [MQTT-2.2.2.2]", c))
	}
	if info.ctx&ctx == 0 {
		// 2.2.2.2: an identifier not valid for the packet type is a
		// Malformed Packet.
		return malformed(id.String() + " property not allowed in this packet [MQTT-2.2.2.2]")
	}
	switch id {
	case PropUserProperty:
		k, err := r.string()
		if err != nil {
			return err
		}
		v, err := r.string()
		if err != nil {
			return err
		}
		p.User = append(p.User, UserProperty{Key: k, Value: v})
		return nil
	case PropSubscriptionID:
		v, err := r.varint()
		if err != nil {
			return err
		}
		if v == 0 {
			return protocolErr("Subscription Identifier of 0 (3.3.2.3.8, 3.8.2.1.2)")
		}
		if ctx == ctxSubscribe && len(p.SubscriptionIDs) > 0 {
			return protocolErr("Subscription Identifier more than once in SUBSCRIBE (3.8.2.1.2)")
		}
		p.SubscriptionIDs = append(p.SubscriptionIDs, uint32(v))
		return nil
	}
	if p.Has(id) {
		return protocolErr(id.String() + " property included more than once")
	}
	if err := r.propertyValue(id, info.wire, p); err != nil {
		return err
	}
	p.Set(id)
	return p.checkValue(id)
}

// propertyValue reads the value of a single-valued property.
func (r *reader) propertyValue(id PropID, w wireType, p *Properties) (err error) {
	switch w {
	case wByte:
		*p.byteField(id), err = r.byte()
	case wTwo:
		*p.twoField(id), err = r.uint16()
	case wFour:
		*p.fourField(id), err = r.uint32()
	case wString:
		*p.stringField(id), err = r.string()
	case wBinary:
		*p.binaryField(id), err = r.binary()
	}
	return err
}

// propSet is the set of properties of p to encode, as bits by identifier.
func propSet(p *Properties) uint64 {
	set := p.present &^ (1<<PropSubscriptionID | 1<<PropUserProperty)
	if len(p.SubscriptionIDs) > 0 {
		set |= 1 << PropSubscriptionID
	}
	if len(p.User) > 0 {
		set |= 1 << PropUserProperty
	}
	return set
}

// propertiesSize checks p for the place ctx and returns the size of its
// properties, without the Property Length in front of them.
func propertiesSize(p *Properties, ctx propCtx) (int, error) {
	n := 0
	for set := propSet(p); set != 0; set &= set - 1 {
		id := PropID(bits.TrailingZeros64(set))
		info := propLookup(id)
		if info.wire == 0 {
			return 0, encodeErr(MalformedPacket, fmt.Sprintf("unknown property identifier 0x%02X", byte(id)))
		}
		if info.ctx&ctx == 0 {
			return 0, encodeErr(MalformedPacket, id.String()+" property not allowed in this packet [MQTT-2.2.2.2]")
		}
		size, err := p.valueSize(id, info.wire, ctx)
		if err != nil {
			return 0, err
		}
		n += size
		if n > MaxRemaining {
			return 0, encodeErr(PacketTooLarge, "properties longer than the maximum remaining length")
		}
	}
	return n, nil
}

// valueSize returns the encoded size of property id, identifier included.
func (p *Properties) valueSize(id PropID, w wireType, ctx propCtx) (int, error) {
	switch w {
	case wByte:
		return 2, asEncodeErr(p.checkValue(id))
	case wTwo:
		return 3, asEncodeErr(p.checkValue(id))
	case wFour:
		return 5, asEncodeErr(p.checkValue(id))
	case wString:
		s, err := stringSize(len(*p.stringField(id)), id.String())
		return 1 + s, err
	case wBinary:
		s, err := stringSize(len(*p.binaryField(id)), id.String())
		return 1 + s, err
	case wVarint:
		if ctx == ctxSubscribe && len(p.SubscriptionIDs) > 1 {
			return 0, encodeErr(ProtocolError, "more than one Subscription Identifier in SUBSCRIBE")
		}
		n := 0
		for _, v := range p.SubscriptionIDs {
			if v == 0 || v > MaxRemaining {
				return 0, encodeErr(ProtocolError, "Subscription Identifier out of 1..268435455")
			}
			n += 1 + varintSize(int(v))
		}
		return n, nil
	}
	// wPair
	n := 0
	for _, u := range p.User {
		k, err := stringSize(len(u.Key), "user property name")
		if err != nil {
			return 0, err
		}
		v, err := stringSize(len(u.Value), "user property value")
		if err != nil {
			return 0, err
		}
		n += 1 + k + v
		if n > MaxRemaining {
			return 0, encodeErr(PacketTooLarge, "user properties longer than the maximum remaining length")
		}
	}
	return n, nil
}

// blockSize is the size of a property block whose properties take n bytes.
func blockSize(n int) int { return varintSize(n) + n }

// appendProperties appends the Property Length n, as computed by
// propertiesSize, and the properties of p in identifier order.
func appendProperties(dst []byte, p *Properties, n int) []byte {
	dst = appendVarint(dst, n)
	for set := propSet(p); set != 0; set &= set - 1 {
		id := PropID(bits.TrailingZeros64(set))
		switch props[id].wire {
		case wByte:
			dst = append(dst, byte(id), *p.byteField(id))
		case wTwo:
			dst = appendUint16(append(dst, byte(id)), *p.twoField(id))
		case wFour:
			dst = appendUint32(append(dst, byte(id)), *p.fourField(id))
		case wString:
			dst = appendString(append(dst, byte(id)), *p.stringField(id))
		case wBinary:
			dst = appendBinary(append(dst, byte(id)), *p.binaryField(id))
		case wVarint:
			for _, v := range p.SubscriptionIDs {
				dst = appendVarint(append(dst, byte(id)), int(v))
			}
		case wPair:
			for _, u := range p.User {
				dst = append(dst, byte(id))
				dst = appendString(appendString(dst, u.Key), u.Value)
			}
		}
	}
	return dst
}
