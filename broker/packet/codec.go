package packet

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// Error is a decoding or protocol error. Code is the MQTT 5 reason code a
// server sends (in CONNACK or DISCONNECT) when it refuses the packet.
type Error struct {
	Code   ReasonCode
	Reason string
}

func (e *Error) Error() string { return "packet: " + e.Reason }

// Is matches sentinel errors by code: errors.Is(err, ErrMalformed) holds for
// every *Error whose Code is MalformedPacket.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors, matched with errors.Is.
var (
	ErrMalformed          = &Error{Code: MalformedPacket, Reason: "malformed packet"}
	ErrProtocol           = &Error{Code: ProtocolError, Reason: "protocol error"}
	ErrTooLarge           = &Error{Code: PacketTooLarge, Reason: "packet too large"}
	ErrTopicNameInvalid   = &Error{Code: TopicNameInvalid, Reason: "topic name invalid"}
	ErrUnsupportedVersion = &Error{Code: UnsupportedProtocolVersion, Reason: "unsupported protocol version"}
	// ErrIncomplete is returned by DecodeFixedHeader when b holds only a
	// prefix of a fixed header.
	ErrIncomplete = errors.New("packet: incomplete")
)

// MaxRemaining is the largest remaining length MQTT can express.
const MaxRemaining = 268435455

// Decode decodes a packet body (variable header and payload) whose fixed
// header is fh. version is the protocol version of the connection; it is
// ignored for CONNECT, which carries its own. Strings and byte slices in the
// result are copies: they never alias body.
func Decode(fh FixedHeader, body []byte, version byte) (Packet, error) {
	return decode(fh, body, version, false)
}

// decode is Decode; alias lets the packet's byte slices share body.
func decode(fh FixedHeader, body []byte, version byte, alias bool) (Packet, error) {
	if fh.Remaining != len(body) {
		return nil, malformed("remaining length does not match the body")
	}
	if err := checkFlags(fh.Type, fh.Flags); err != nil {
		return nil, err
	}
	r := &reader{b: body, alias: alias}
	if fh.Type == CONNECT {
		return decodeConnect(r)
	}
	if version != Version31 && version != Version311 && version != Version5 {
		// Also version 0: no CONNECT yet [MQTT-3.1.0-1].
		return nil, protocolErr(fh.Type.String() + " on a connection without a protocol version [MQTT-3.1.0-1]")
	}
	switch fh.Type {
	case CONNACK:
		return decodeConnack(r, version)
	case PUBLISH:
		return decodePublish(r, fh.Flags, version)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		return decodeAck(r, fh.Type, version)
	case SUBSCRIBE:
		return decodeSubscribe(r, version)
	case SUBACK:
		return decodeSuback(r, version)
	case UNSUBSCRIBE:
		return decodeUnsubscribe(r, version)
	case UNSUBACK:
		return decodeUnsuback(r, version)
	case PINGREQ:
		return decodeEmpty(r, &Pingreq{})
	case PINGRESP:
		return decodeEmpty(r, &Pingresp{})
	case DISCONNECT:
		return decodeDisconnect(r, version)
	}
	// AUTH, the last type: checkFlags refused type 0.
	if version != Version5 {
		return nil, protocolErr("AUTH before MQTT 5")
	}
	return decodeAuth(r)
}

// encoder carries what Append works out about a packet before writing it.
type encoder struct {
	version byte // of the connection, or of the CONNECT being encoded
	first   byte // first byte of the fixed header
	body    int  // remaining length
	props   int  // size of the properties, Property Length excluded
	will    int  // size of the CONNECT will properties
	form    int  // formBare, formReason or formFull, for the short forms
}

// plan checks p and sizes its encoding.
func (e *encoder) plan(p Packet) error {
	if e.version != Version31 && e.version != Version311 && e.version != Version5 {
		if _, ok := p.(*Connect); !ok {
			return encodeErr(UnsupportedProtocolVersion, fmt.Sprintf("protocol version %d", e.version))
		}
	}
	var err error
	switch p := p.(type) {
	case *Connect:
		err = e.planConnect(p)
	case *Connack:
		err = e.planConnack(p)
	case *Publish:
		err = e.planPublish(p)
	case *Ack:
		err = e.planAck(p)
	case *Subscribe:
		err = e.planSubscribe(p)
	case *Suback:
		err = e.planSuback(p)
	case *Unsubscribe:
		err = e.planUnsubscribe(p)
	case *Unsuback:
		err = e.planUnsuback(p)
	case *Pingreq:
		e.first = byte(PINGREQ) << 4
	case *Pingresp:
		e.first = byte(PINGRESP) << 4
	case *Disconnect:
		err = e.planDisconnect(p)
	case *Auth:
		err = e.planAuth(p)
	default:
		// No %T of p here: that would make every packet passed to Append
		// escape to the heap (the broker encodes from its stack).
		return encodeErr(MalformedPacket, "unknown packet type")
	}
	if err == nil && e.body > MaxRemaining {
		err = encodeErr(PacketTooLarge, "remaining length above 268435455")
	}
	return err
}

// write appends the body of p as planned.
func (e *encoder) write(dst []byte, p Packet) []byte {
	switch p := p.(type) {
	case *Connect:
		return e.writeConnect(dst, p)
	case *Connack:
		return e.writeConnack(dst, p)
	case *Publish:
		return e.writePublish(dst, p)
	case *Ack:
		return e.writeAck(dst, p)
	case *Subscribe:
		return e.writeSubscribe(dst, p)
	case *Suback:
		return e.writeCodes(dst, p.PacketID, &p.Properties, p.ReasonCodes)
	case *Unsubscribe:
		return e.writeUnsubscribe(dst, p)
	case *Unsuback:
		return e.writeUnsuback(dst, p)
	case *Disconnect:
		return e.writeTail(dst, p.ReasonCode, &p.Properties)
	case *Auth:
		return e.writeTail(dst, p.ReasonCode, &p.Properties)
	}
	return dst // PINGREQ and PINGRESP have no body
}

// Append appends the wire encoding of p for protocol version to dst.
// Properties, reason codes and AUTH are written for Version5 only.
//
// A CONNECT is encoded for its own ProtocolVersion (version when that is 0).
// Fields that hang on a flag (the will, user name and password of CONNECT)
// are written only when their flag is set. Append writes the shortest form
// of each packet and allocates nothing when dst has room for it. It returns
// an *Error, and dst unchanged, for a packet it cannot encode or whose
// encoding the decoder would refuse: strings over 65535 bytes, a remaining
// length over MaxRemaining (code PacketTooLarge), a property or reason code
// the packet may not carry, a missing packet identifier, and so on. It does
// not check that strings are well-formed UTF-8. p must not be a nil pointer.
func Append(dst []byte, p Packet, version byte) ([]byte, error) {
	e := encoder{version: version}
	if err := e.plan(p); err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, 1+varintSize(e.body)+e.body)
	dst = appendVarint(append(dst, e.first), e.body)
	return e.write(dst, p), nil
}

// Size returns the number of bytes Append would append for p, or -1 when
// Append would fail. A broker uses it to honour a client's Maximum Packet
// Size.
func Size(p Packet, version byte) int {
	e := encoder{version: version}
	if err := e.plan(p); err != nil {
		return -1
	}
	return 1 + varintSize(e.body) + e.body
}

// Read reads one whole packet from r. A packet larger than maxSize bytes in
// all (0: no limit) gives ErrTooLarge without reading its body.
//
// Read returns io.EOF when r ends before the first byte and
// io.ErrUnexpectedEOF when it ends inside the packet. It reads the fixed
// header a byte at a time (with ReadByte when r is an io.ByteReader), so it
// never reads past the packet.
func Read(r io.Reader, maxSize int, version byte) (Packet, error) {
	fh, hlen, err := readFixedHeader(r)
	if err != nil {
		return nil, err
	}
	if maxSize > 0 && hlen+fh.Remaining > maxSize {
		return nil, &Error{Code: PacketTooLarge,
			Reason: fmt.Sprintf("packet too large: %s of %d bytes, limit %d", fh.Type, hlen+fh.Remaining, maxSize)}
	}
	body := make([]byte, fh.Remaining)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return decode(fh, body, version, true)
}

// readFixedHeader reads a fixed header from r one byte at a time.
func readFixedHeader(r io.Reader) (FixedHeader, int, error) {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = &byteReader{r: r}
	}
	var buf [MaxHeaderSize]byte
	for n := 0; ; n++ {
		c, err := br.ReadByte()
		if err != nil {
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return FixedHeader{}, 0, err
		}
		buf[n] = c
		fh, size, err := DecodeFixedHeader(buf[:n+1])
		if err != ErrIncomplete {
			return fh, size, err
		}
	}
}

// byteReader reads single bytes from a reader that has no ReadByte.
type byteReader struct {
	r io.Reader
	b [1]byte
}

func (b *byteReader) ReadByte() (byte, error) {
	_, err := io.ReadFull(b.r, b.b[:])
	return b.b[0], err
}
