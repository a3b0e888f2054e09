package modbus_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/edgemq/edgemq/devices/modbus"
)

func TestDecodeEncode(t *testing.T) {
	f32 := float64(float32(123.456))
	tests := []struct {
		typ   modbus.DataType
		order modbus.Order
		regs  []uint16
		v     float64
	}{
		{modbus.Float32, modbus.ABCD, []uint16{0x42F6, 0xE979}, f32},
		{modbus.Float32, modbus.CDAB, []uint16{0xE979, 0x42F6}, f32},
		{modbus.Float32, modbus.BADC, []uint16{0xF642, 0x79E9}, f32},
		{modbus.Float32, modbus.DCBA, []uint16{0x79E9, 0xF642}, f32},
		{modbus.Float32, "", []uint16{0xC2F6, 0xE979}, -f32},
		{modbus.Float32, modbus.ABCD, []uint16{0x3F80, 0x0000}, 1},
		{modbus.Float32, modbus.ABCD, []uint16{0, 0}, 0},
		{modbus.Uint32, modbus.ABCD, []uint16{0x1234, 0x5678}, 0x12345678},
		{modbus.Uint32, modbus.CDAB, []uint16{0x5678, 0x1234}, 0x12345678},
		{modbus.Uint32, modbus.BADC, []uint16{0x3412, 0x7856}, 0x12345678},
		{modbus.Uint32, modbus.DCBA, []uint16{0x7856, 0x3412}, 0x12345678},
		{modbus.Uint32, modbus.ABCD, []uint16{0xFFFF, 0xFFFF}, math.MaxUint32},
		{modbus.Int32, modbus.ABCD, []uint16{0xF8A4, 0x32EB}, -123456789},
		{modbus.Int32, modbus.CDAB, []uint16{0x32EB, 0xF8A4}, -123456789},
		{modbus.Int32, modbus.BADC, []uint16{0xA4F8, 0xEB32}, -123456789},
		{modbus.Int32, modbus.DCBA, []uint16{0xEB32, 0xA4F8}, -123456789},
		{modbus.Int32, modbus.ABCD, []uint16{0x8000, 0x0000}, math.MinInt32},
		{modbus.Int16, modbus.ABCD, []uint16{0xFFFE}, -2},
		{modbus.Int16, modbus.CDAB, []uint16{0xFFFE}, -2},
		{modbus.Int16, modbus.BADC, []uint16{0xFEFF}, -2},
		{modbus.Int16, modbus.DCBA, []uint16{0xFEFF}, -2},
		{modbus.Int16, modbus.ABCD, []uint16{0x090B}, 2315},
		{modbus.Int16, modbus.ABCD, []uint16{0x8000}, -32768},
		{modbus.Uint16, modbus.ABCD, []uint16{0xFFFF}, 65535},
		{modbus.Uint16, modbus.BADC, []uint16{0x0B09}, 2315},
		{modbus.Bool, modbus.ABCD, []uint16{1}, 1},
		{modbus.Bool, modbus.ABCD, []uint16{0}, 0},
	}
	for _, tt := range tests {
		got, err := modbus.Decode(tt.regs, tt.typ, tt.order)
		if err != nil || got != tt.v {
			t.Errorf("Decode(%04X, %v, %q) = %v, %v; want %v", tt.regs, tt.typ, tt.order, got, err, tt.v)
		}
		regs, err := modbus.Encode(tt.v, tt.typ, tt.order)
		if err != nil || !slices.Equal(regs, tt.regs) {
			t.Errorf("Encode(%v, %v, %q) = %04X, %v; want %04X", tt.v, tt.typ, tt.order, regs, err, tt.regs)
		}
	}
	// Decoding of a non-zero bool register and rounding on encode.
	if v, _ := modbus.Decode([]uint16{0x0100}, modbus.Bool, modbus.ABCD); v != 1 {
		t.Errorf("bool 0x0100 = %v", v)
	}
	if r, err := modbus.Encode(2314.9999999, modbus.Int16, modbus.ABCD); err != nil || r[0] != 2315 {
		t.Errorf("rounding: %v, %v", r, err)
	}
	if r, err := modbus.Encode(-0.5, modbus.Int16, modbus.ABCD); err != nil || r[0] != 0xFFFF {
		t.Errorf("half away from zero: %04X, %v", r, err)
	}
}

func TestDecodeEncodeErrors(t *testing.T) {
	if _, err := modbus.Decode([]uint16{1}, modbus.Float32, modbus.ABCD); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("short registers: %v", err)
	}
	if _, err := modbus.Decode([]uint16{1, 2}, modbus.Int16, modbus.ABCD); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("long registers: %v", err)
	}
	if _, err := modbus.Decode([]uint16{1}, modbus.DataType(0), modbus.ABCD); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := modbus.Decode([]uint16{1}, modbus.Int16, "ACBD"); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("unknown order: %v", err)
	}
	if _, err := modbus.Encode(1, modbus.DataType(99), modbus.ABCD); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("encode unknown type: %v", err)
	}
	if _, err := modbus.Encode(1, modbus.Int16, "abcd"); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("encode unknown order: %v", err)
	}
	ranges := []struct {
		v float64
		t modbus.DataType
	}{
		{32767.5, modbus.Int16}, {-32768.6, modbus.Int16}, {65536, modbus.Uint16}, {-1, modbus.Uint16},
		{math.MaxInt32 + 1, modbus.Int32}, {math.MinInt32 - 1, modbus.Int32},
		{math.MaxUint32 + 1, modbus.Uint32}, {-0.6, modbus.Uint32},
		{2, modbus.Bool}, {0.5, modbus.Bool}, {1e39, modbus.Float32}, {-1e39, modbus.Float32},
		{math.NaN(), modbus.Float32}, {math.Inf(1), modbus.Int32},
	}
	for _, r := range ranges {
		if _, err := modbus.Encode(r.v, r.t, modbus.ABCD); !errors.Is(err, modbus.ErrRange) {
			t.Errorf("Encode(%v, %v): %v, want ErrRange", r.v, r.t, err)
		}
	}
}

func TestParseDataType(t *testing.T) {
	for _, ty := range []modbus.DataType{modbus.Bool, modbus.Int16, modbus.Uint16, modbus.Int32, modbus.Uint32, modbus.Float32} {
		got, err := modbus.ParseDataType(ty.String())
		if err != nil || got != ty {
			t.Errorf("ParseDataType(%q) = %v, %v", ty.String(), got, err)
		}
		if n := ty.Registers(); n != 1 && n != 2 {
			t.Errorf("%v.Registers() = %d", ty, n)
		}
	}
	if _, err := modbus.ParseDataType("float64"); !errors.Is(err, modbus.ErrInvalid) {
		t.Errorf("float64: %v", err)
	}
	if s := modbus.DataType(42).String(); s != "DataType(42)" {
		t.Errorf("String = %q", s)
	}
}
