package packet

// Helpers that build the *Error values returned by the decoder and by Append.
// The Reason names the rule that was broken, with its conformance tag where
// the specification has one; the Code is what a server sends back.

func malformed(reason string) error {
	return &Error{Code: MalformedPacket, Reason: "malformed packet: " + reason}
}

func protocolErr(reason string) error {
	return &Error{Code: ProtocolError, Reason: "protocol error: " + reason}
}

func topicNameErr(reason string) error {
	return &Error{Code: TopicNameInvalid, Reason: "topic name invalid: " + reason}
}

func unsupportedVersion(reason string) error {
	return &Error{Code: UnsupportedProtocolVersion, Reason: "unsupported protocol version: " + reason}
}

// encodeErr reports a packet that Append cannot or must not write. Its Code
// is what the decoder would report for the same bytes (MalformedPacket when
// the value cannot be represented at all).
func encodeErr(code ReasonCode, reason string) error {
	return &Error{Code: code, Reason: "cannot encode: " + reason}
}

// Errors of the primitive readers, shared because they carry no context.
var (
	errTruncated    = &Error{Code: MalformedPacket, Reason: "malformed packet: body shorter than its fields"}
	errTrailing     = &Error{Code: MalformedPacket, Reason: "malformed packet: bytes left after the last field"}
	errBadUTF8      = &Error{Code: MalformedPacket, Reason: "malformed packet: ill-formed UTF-8 string [MQTT-1.5.3-1] [MQTT-1.5.4-1]"}
	errNulInString  = &Error{Code: MalformedPacket, Reason: "malformed packet: U+0000 in UTF-8 string [MQTT-1.5.3-2] [MQTT-1.5.4-2]"}
	errVarintLong   = &Error{Code: MalformedPacket, Reason: "malformed packet: variable byte integer longer than 4 bytes [MQTT-1.5.5]"}
	errVarintNonMin = &Error{Code: MalformedPacket, Reason: "malformed packet: variable byte integer not in its shortest form [MQTT-1.5.5-1]"}
)

// asEncodeErr turns a decoder's *Error into the same error from Append.
func asEncodeErr(err error) error {
	if e, ok := err.(*Error); ok {
		return encodeErr(e.Code, e.Reason)
	}
	return err
}
