package modbus

import (
	"fmt"
	"math"
)

// DataType is how a value is stored in one or two registers.
type DataType int

// Data types for Decode and Encode.
const (
	Bool    DataType = iota + 1 // one register, non-zero is true (1)
	Int16                       // one register, two's complement
	Uint16                      // one register
	Int32                       // two registers, two's complement
	Uint32                      // two registers
	Float32                     // two registers, IEEE 754 single precision
)

var typeNames = [...]string{Bool: "bool", Int16: "int16", Uint16: "uint16", Int32: "int32", Uint32: "uint32", Float32: "float32"}

// String returns the name ParseDataType accepts, such as "int16".
func (t DataType) String() string {
	if t >= Bool && t <= Float32 {
		return typeNames[t]
	}
	return fmt.Sprintf("DataType(%d)", int(t))
}

// ParseDataType returns the DataType named s ("bool", "int16", "uint16",
// "int32", "uint32" or "float32").
func ParseDataType(s string) (DataType, error) {
	for t := Bool; t <= Float32; t++ {
		if typeNames[t] == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("data type %q: %w", s, ErrInvalid)
}

// Registers returns how many registers t occupies (1 or 2), or 0 for an
// unknown type.
func (t DataType) Registers() int {
	switch t {
	case Bool, Int16, Uint16:
		return 1
	case Int32, Uint32, Float32:
		return 2
	}
	return 0
}

// Order names the order of a value's bytes in registers. A value's bytes
// are A B C D from most to least significant (A B for 16-bit types); the
// order lists them as they appear on the wire, first register first and
// the high byte of each register first.
//
//	ABCD  big-endian words, big-endian bytes (the Modbus standard)
//	CDAB  little-endian words ("word swap"), big-endian bytes
//	BADC  big-endian words, bytes swapped within each word
//	DCBA  little-endian words, bytes swapped (fully little-endian)
//
// For 16-bit types only the byte order matters: ABCD and CDAB give AB,
// BADC and DCBA give BA. The empty Order means ABCD.
type Order string

// The four supported orders.
const (
	ABCD Order = "ABCD"
	CDAB Order = "CDAB"
	BADC Order = "BADC"
	DCBA Order = "DCBA"
)

// swaps returns whether o swaps words and bytes within words.
func (o Order) swaps() (words, bytes bool, err error) {
	switch o {
	case ABCD, "":
		return false, false, nil
	case CDAB:
		return true, false, nil
	case BADC:
		return false, true, nil
	case DCBA:
		return true, true, nil
	}
	return false, false, fmt.Errorf("order %q: %w", string(o), ErrInvalid)
}

func swap16(v uint16) uint16 { return v<<8 | v>>8 }

// Decode converts the registers holding one value of type t in order o to
// a float64, which represents every value of these types exactly. regs
// must have exactly t.Registers() elements. A float32 NaN or infinity is
// returned as is; callers that publish numbers should check for it.
func Decode(regs []uint16, t DataType, o Order) (float64, error) {
	words, bytes, err := o.swaps()
	if err != nil {
		return 0, err
	}
	n := t.Registers()
	if n == 0 {
		return 0, fmt.Errorf("data type %v: %w", t, ErrInvalid)
	}
	if len(regs) != n {
		return 0, fmt.Errorf("%v needs %d registers, got %d: %w", t, n, len(regs), ErrInvalid)
	}
	if n == 1 {
		v := regs[0]
		if bytes {
			v = swap16(v)
		}
		switch t {
		case Bool:
			if v != 0 {
				return 1, nil
			}
			return 0, nil
		case Int16:
			return float64(int16(v)), nil
		}
		return float64(v), nil
	}
	hi, lo := regs[0], regs[1]
	if words {
		hi, lo = lo, hi
	}
	if bytes {
		hi, lo = swap16(hi), swap16(lo)
	}
	u := uint32(hi)<<16 | uint32(lo)
	switch t {
	case Int32:
		return float64(int32(u)), nil
	case Uint32:
		return float64(u), nil
	}
	return float64(math.Float32frombits(u)), nil
}

// Encode converts v to the registers that hold it as type t in order o.
// Integer types round v to the nearest integer (halves away from zero) and
// Bool accepts only 0 and 1; a value that does not fit t, NaN or an
// infinity gives ErrRange. Float32 rounds to the nearest float32.
func Encode(v float64, t DataType, o Order) ([]uint16, error) {
	words, bytes, err := o.swaps()
	if err != nil {
		return nil, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("%v as %v: %w", v, t, ErrRange)
	}
	r := math.Round(v)
	var u uint32
	switch t {
	case Bool:
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("%v as bool: %w", v, ErrRange)
		}
		u = uint32(v)
	case Int16:
		if r < math.MinInt16 || r > math.MaxInt16 {
			return nil, fmt.Errorf("%v as int16: %w", v, ErrRange)
		}
		u = uint32(uint16(int16(r)))
	case Uint16:
		if r < 0 || r > math.MaxUint16 {
			return nil, fmt.Errorf("%v as uint16: %w", v, ErrRange)
		}
		u = uint32(r)
	case Int32:
		if r < math.MinInt32 || r > math.MaxInt32 {
			return nil, fmt.Errorf("%v as int32: %w", v, ErrRange)
		}
		u = uint32(int32(r))
	case Uint32:
		if r < 0 || r > math.MaxUint32 {
			return nil, fmt.Errorf("%v as uint32: %w", v, ErrRange)
		}
		u = uint32(r)
	case Float32:
		f := float32(v)
		if math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("%v as float32: %w", v, ErrRange)
		}
		u = math.Float32bits(f)
	default:
		return nil, fmt.Errorf("data type %v: %w", t, ErrInvalid)
	}
	if t.Registers() == 1 {
		w := uint16(u)
		if bytes {
			w = swap16(w)
		}
		return []uint16{w}, nil
	}
	hi, lo := uint16(u>>16), uint16(u)
	if bytes {
		hi, lo = swap16(hi), swap16(lo)
	}
	if words {
		hi, lo = lo, hi
	}
	return []uint16{hi, lo}, nil
}
