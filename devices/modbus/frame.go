package modbus

import "fmt"

// request is one request PDU and what its response must look like.
type request struct {
	slave, fn byte
	addr      uint16
	qty       uint16 // quantity, or the value for functions 5 and 6
	data      []byte // request data after the function code
}

// responseLen returns the full length of the response that starts with
// prefix (at least 2 bytes), checking slave id and function code.
func (r *request) responseLen(prefix []byte) (int, error) {
	if prefix[0] != r.slave {
		return 0, fmt.Errorf("%w: slave id %d, want %d", ErrBadFrame, prefix[0], r.slave)
	}
	switch prefix[1] {
	case r.fn:
	case r.fn | 0x80:
		return 5, nil
	default:
		return 0, fmt.Errorf("%w: function %d, want %d", ErrBadFrame, prefix[1], r.fn)
	}
	switch r.fn {
	case FuncReadCoils, FuncReadDiscreteInputs:
		return 5 + (int(r.qty)+7)/8, nil
	case FuncReadHoldingRegisters, FuncReadInputRegisters:
		return 5 + 2*int(r.qty), nil
	}
	return 8, nil // writes echo address and value or quantity
}

// parse checks a complete response frame of the length responseLen gave
// and returns its data: the bytes after the byte count for reads, nil for
// writes.
func (r *request) parse(frame []byte) ([]byte, error) {
	want, err := r.responseLen(frame)
	if err != nil {
		return nil, err
	}
	if len(frame) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadFrame, len(frame), want)
	}
	if !CheckCRC(frame) {
		return nil, fmt.Errorf("%w: CRC mismatch", ErrBadFrame)
	}
	if frame[1] == r.fn|0x80 {
		return nil, &ExceptionError{Function: r.fn, Code: ExceptionCode(frame[2])}
	}
	switch r.fn {
	case FuncReadCoils, FuncReadDiscreteInputs, FuncReadHoldingRegisters, FuncReadInputRegisters:
		if int(frame[2]) != want-5 {
			return nil, fmt.Errorf("%w: byte count %d, want %d", ErrBadFrame, frame[2], want-5)
		}
		return frame[3 : want-2], nil
	}
	// Writes: 5 and 6 echo the request; 15 and 16 echo address and quantity.
	for i := range 4 {
		if frame[2+i] != r.data[i] {
			return nil, fmt.Errorf("%w: response % X does not echo request", ErrBadFrame, frame[2:6])
		}
	}
	return nil, nil
}
