// Package packet is the MQTT control packet codec of edgemq: it turns bytes
// into packets and packets into bytes for MQTT 3.1 (protocol name "MQIsdp",
// level 3), 3.1.1 ("MQTT", level 4) and 5.0 ("MQTT", level 5).
//
// # A pure codec
//
// The package does no networking, keeps no connection state and starts no
// goroutines. Its only I/O is Read, which reads exactly one packet from an
// io.Reader: the fixed header a byte at a time, then the body with
// io.ReadFull, so it never consumes bytes of the next packet. Code that
// manages its own buffers uses DecodeFixedHeader and Decode instead.
// Append encodes a packet onto a byte slice and Size tells its encoded size
// beforehand (the broker needs it to honour a client's Maximum Packet Size).
//
// Packets are the pointer types of types.go (*Connect, *Publish, ...). The
// decoder is told the protocol version of the connection; a CONNECT carries
// its own version and is decoded without one. Reason codes, properties and
// AUTH exist in version 5 only: before it they are neither read nor written.
//
// # Copy semantics
//
// Decode copies every string and byte slice it returns: a packet never
// aliases the body it was decoded from, so the caller may reuse its buffer at
// once. Read allocates one body buffer per packet and lets the packet's byte
// slices (payload, correlation data, ...) share it, with their capacity
// clipped; that buffer belongs to the packet alone. Empty binary fields
// decode as nil.
//
// Append allocates nothing when dst has room for the packet, and always
// writes the canonical form: a remaining length in its shortest encoding,
// properties in identifier order, and the short forms of MQTT 5 (a PUBACK,
// PUBREC, PUBREL or PUBCOMP of Success without properties has remaining
// length 2; a DISCONNECT or AUTH of Success without properties has remaining
// length 0).
//
// # Errors
//
// Every decoding failure is an *Error whose Code is the MQTT 5 reason code a
// server sends back in CONNACK or DISCONNECT; match it with errors.Is against
// the sentinels, which compare by code:
//
//   - ErrMalformed (0x81): the bytes do not parse. Bad fixed header flags,
//     a remaining length over four bytes or not in its shortest form, a
//     remaining length that does not match the body, truncated or trailing
//     fields, ill-formed UTF-8 or U+0000 in a string, PUBLISH QoS 3, reserved
//     CONNECT flags or subscription option bits, an unknown property or one
//     the packet may not carry, a property length beyond the packet.
//   - ErrProtocol (0x82): the packet parses but breaks a rule. Packet
//     identifier 0, a SUBSCRIBE or UNSUBSCRIBE with nothing in it, a
//     duplicated property, a property value out of range, a reason code the
//     packet may not carry, AUTH before MQTT 5, a packet other than CONNECT
//     before the version is known.
//   - ErrTopicNameInvalid (0x90): a wildcard in a PUBLISH or will topic, or
//     an empty one where no Topic Alias can stand in for it.
//   - ErrUnsupportedVersion (0x84): a CONNECT whose protocol name and level
//     are not one of the pairs above.
//   - ErrTooLarge (0x95): from Read, for a packet over the size limit, and
//     from Append, for one over MaxRemaining.
//   - A Topic Alias of 0 has its own code, TopicAliasInvalid (0x94), as the
//     specification asks (3.3.2.3.4).
//
// Read also returns io.EOF when the stream ends between packets and
// io.ErrUnexpectedEOF when it ends inside one. Append returns the same kind
// of *Error, its Reason starting with "cannot encode", for a packet the
// decoder would refuse or that cannot be represented.
//
// Comments tagged [MQTT-x.y.z-n] mark the normative statement a check
// implements; untagged section numbers refer to the MQTT 5 text.
//
// # Left to the broker
//
// Checks that need connection or session state are not made here: topic
// filter syntax (MQTT 5 answers it per subscription in SUBACK), Topic Alias
// mapping and maximum, Subscription Identifiers in a client's PUBLISH,
// Receive Maximum accounting, the Authentication Method of an AUTH exchange,
// client identifier rules, and Payload Format Indicator validation.
package packet
