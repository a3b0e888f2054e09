package modbus

// crcTable is the CRC-16/MODBUS table (reflected polynomial 0xA001).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA001
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC returns the CRC-16/MODBUS of b (initial value 0xFFFF, reflected
// polynomial 0xA001). On the wire it follows the frame low byte first.
func CRC(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc = crc>>8 ^ crcTable[byte(crc)^c]
	}
	return crc
}

// AppendCRC appends the CRC of frame to it, low byte first.
func AppendCRC(frame []byte) []byte {
	c := CRC(frame)
	return append(frame, byte(c), byte(c>>8))
}

// CheckCRC reports whether frame ends with the correct CRC of the bytes
// before it.
func CheckCRC(frame []byte) bool {
	n := len(frame)
	if n < 3 {
		return false
	}
	c := CRC(frame[:n-2])
	return frame[n-2] == byte(c) && frame[n-1] == byte(c>>8)
}
