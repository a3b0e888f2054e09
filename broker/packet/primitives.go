package packet

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// maxString is the longest UTF-8 string or binary field: a two-byte length.
const maxString = 65535

// reader decodes the MQTT data types [MQTT-1.5] from the front of a packet
// body. Every method fails with a malformed-packet error when the body is too
// short.
type reader struct {
	b []byte
	// alias lets byte slices share b instead of copying it: only Read sets
	// it, for a body buffer nobody else holds.
	alias bool
}

func (r *reader) byte() (byte, error) {
	if len(r.b) < 1 {
		return 0, errTruncated
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) uint16() (uint16, error) {
	if len(r.b) < 2 {
		return 0, errTruncated
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v, nil
}

func (r *reader) uint32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, errTruncated
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

func (r *reader) varint() (int, error) {
	v, n, err := decodeVarint(r.b)
	if err == ErrIncomplete {
		return 0, errTruncated
	}
	if err != nil {
		return 0, err
	}
	r.b = r.b[n:]
	return v, nil
}

// field returns the next length-prefixed field, uncopied and unchecked.
func (r *reader) field() ([]byte, error) {
	n, err := r.uint16()
	if err != nil {
		return nil, err
	}
	if int(n) > len(r.b) {
		return nil, errTruncated
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f, nil
}

// utf8Bytes returns the next UTF-8 Encoded String, checked but uncopied.
func (r *reader) utf8Bytes() ([]byte, error) {
	f, err := r.field()
	if err != nil {
		return nil, err
	}
	return f, checkUTF8(f)
}

// string returns a copy of the next UTF-8 Encoded String.
func (r *reader) string() (string, error) {
	f, err := r.utf8Bytes()
	return string(f), err
}

// binary returns the next Binary Data field, nil when empty.
func (r *reader) binary() ([]byte, error) {
	f, err := r.field()
	if err != nil {
		return nil, err
	}
	return r.own(f), nil
}

// rest consumes and returns the remainder of the body, nil when empty.
func (r *reader) rest() []byte {
	f := r.b
	r.b = nil
	return r.own(f)
}

// own returns f, copied unless the reader may alias its input.
func (r *reader) own(f []byte) []byte {
	if len(f) == 0 {
		return nil
	}
	if r.alias {
		return f[:len(f):len(f)]
	}
	return bytes.Clone(f)
}

// end fails unless the body has been consumed.
func (r *reader) end() error {
	if len(r.b) != 0 {
		return errTrailing
	}
	return nil
}

// checkUTF8 enforces [MQTT-1.5.3-1] (well-formed UTF-8, no surrogates) and
// [MQTT-1.5.3-2] (no U+0000), [MQTT-1.5.4-1] and [MQTT-1.5.4-2] in MQTT 5.
// Other control characters and non-characters are accepted.
func checkUTF8(b []byte) error {
	if !utf8.Valid(b) {
		return errBadUTF8
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return errNulInString
	}
	return nil
}

func appendUint16(dst []byte, v uint16) []byte {
	return append(dst, byte(v>>8), byte(v))
}

func appendUint32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendString(dst []byte, s string) []byte {
	return append(appendUint16(dst, uint16(len(s))), s...)
}

func appendBinary(dst []byte, b []byte) []byte {
	return append(appendUint16(dst, uint16(len(b))), b...)
}

// stringSize is the encoded size of a string or binary field of length n,
// or an error when it does not fit a two-byte length.
func stringSize(n int, what string) (int, error) {
	if n > maxString {
		return 0, encodeErr(MalformedPacket, what+" longer than 65535 bytes [MQTT-1.5.4]")
	}
	return 2 + n, nil
}
