package packet

// maxVarintLen is the longest Variable Byte Integer: four bytes [MQTT-1.5.5].
const maxVarintLen = 4

// MaxHeaderSize is the largest fixed header: one type byte and a four-byte
// remaining length.
const MaxHeaderSize = 1 + maxVarintLen

// checkFlags checks the low nibble of the first byte against the packet type.
func checkFlags(t Type, flags byte) error {
	switch t {
	case 0:
		return malformed("reserved packet type 0 [MQTT-2.1.2]")
	case PUBLISH:
		if flags&0x06 == 0x06 {
			return malformed("PUBLISH with QoS 3 [MQTT-3.3.1-4]")
		}
		return nil
	case PUBREL, SUBSCRIBE, UNSUBSCRIBE:
		// MQTT 3.1 allowed DUP on these; 3.1.1 and 5 fix the flags, and a
		// fixed header carries no version, so 0b0010 is required throughout.
		if flags != 0x02 {
			return malformed(t.String() + " fixed header flags must be 0010 [MQTT-2.2.2-2] [MQTT-2.1.3-1]")
		}
		return nil
	default:
		if flags != 0 {
			return malformed(t.String() + " fixed header flags must be 0000 [MQTT-2.2.2-2] [MQTT-2.1.3-1]")
		}
		return nil
	}
}

// decodeVarint decodes the Variable Byte Integer at the start of b and returns
// it with its size. It returns ErrIncomplete when b ends inside it.
func decodeVarint(b []byte) (value, size int, err error) {
	for i := 0; i < maxVarintLen; i++ {
		if i >= len(b) {
			return 0, 0, ErrIncomplete
		}
		c := b[i]
		value |= int(c&0x7F) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				return 0, 0, errVarintNonMin // [MQTT-1.5.5-1]
			}
			return value, i + 1, nil
		}
	}
	return 0, 0, errVarintLong
}

// varintSize is the size of the Variable Byte Integer encoding of v; 5 means
// v is too large to be encoded.
func varintSize(v int) int {
	switch {
	case v < 128:
		return 1
	case v < 16384:
		return 2
	case v < 2097152:
		return 3
	case v <= MaxRemaining:
		return 4
	}
	return 5
}

// appendVarint appends v, which must lie in [0, MaxRemaining], as a
// Variable Byte Integer in its shortest form.
func appendVarint(dst []byte, v int) []byte {
	for v >= 128 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// DecodeFixedHeader parses the fixed header at the start of b and returns it
// with its size in bytes. It returns ErrIncomplete when b is a prefix of a
// header, and ErrMalformed for a remaining length longer than four bytes.
// Flags are checked against the packet type ([MQTT-2.2.2-2]).
func DecodeFixedHeader(b []byte) (FixedHeader, int, error) {
	if len(b) == 0 {
		return FixedHeader{}, 0, ErrIncomplete
	}
	t, flags := Type(b[0]>>4), b[0]&0x0F
	if err := checkFlags(t, flags); err != nil {
		return FixedHeader{}, 0, err
	}
	n, size, err := decodeVarint(b[1:])
	if err != nil {
		return FixedHeader{}, 0, err
	}
	return FixedHeader{Type: t, Flags: flags, Remaining: n}, 1 + size, nil
}
