package i2cdev

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestSimBusTx(t *testing.T) {
	chips := []SimChip{
		{Addr: 0x10, Registers: map[uint16][]byte{0x00: {1, 2}, 0xFE: {0xA, 0xB}}},
		{Addr: 0x11, PointerBytes: 2, Registers: map[uint16][]byte{0x2400: {7, 8, 9}}},
	}
	type tx struct {
		addr uint16
		w    []byte
		n    int
	}
	tests := []struct {
		name string
		txs  []tx
		want []byte // the last transaction's read
		err  string
	}{
		{"read from pointer", []tx{{0x10, []byte{0x00}, 3}}, []byte{1, 2, 0}, ""},
		{"auto-increment across reads", []tx{{0x10, []byte{0x00}, 1}, {0x10, nil, 2}}, []byte{2, 0}, ""},
		{"wraps at 0xFF", []tx{{0x10, []byte{0xFE}, 4}}, []byte{0xA, 0xB, 1, 2}, ""},
		{"write stores data", []tx{{0x10, []byte{0x40, 5, 6}, 0}, {0x10, []byte{0x3F}, 4}}, []byte{0, 5, 6, 0}, ""},
		{"two-byte pointer", []tx{{0x11, []byte{0x24, 0x00}, 0}, {0x11, nil, 3}}, []byte{7, 8, 9}, ""},
		{"two-byte write", []tx{{0x11, []byte{0x30, 0x00, 0xEE}, 0}, {0x11, []byte{0x30, 0x00}, 1}}, []byte{0xEE}, ""},
		{"probe", []tx{{0x10, nil, 0}}, []byte{}, ""},
		{"nack", []tx{{0x12, []byte{0x00}, 1}}, nil, "address 0x12: no acknowledge"},
		{"short pointer", []tx{{0x11, []byte{0x24}, 0}}, nil, "wrote 1 bytes, the register pointer takes 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus, err := NewSimBus(chips...)
			if err != nil {
				t.Fatal(err)
			}
			var r []byte
			for _, x := range tt.txs {
				r = make([]byte, x.n)
				err = bus.Tx(x.addr, x.w, r)
				if err != nil {
					break
				}
			}
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v, want %q", err, tt.err)
				}
			case err != nil:
				t.Error(err)
			case !bytes.Equal(r, tt.want):
				t.Errorf("read % x, want % x", r, tt.want)
			}
		})
	}
}

func TestSimBusErrors(t *testing.T) {
	bus, err := NewSimBus(DemoBME280())
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	bus.SetError(boom)
	if err := bus.Tx(0x76, []byte{0xD0}, make([]byte, 1)); !errors.Is(err, boom) {
		t.Errorf("SetError: got %v", err)
	}
	bus.SetError(nil)
	if err := bus.Tx(0x76, []byte{0xD0}, make([]byte, 1)); err != nil {
		t.Errorf("SetError(nil): got %v", err)
	}
	if err := bus.Close(); err != nil || !bus.Closed() {
		t.Fatalf("Close: %v, Closed %v", err, bus.Closed())
	}
	if err := bus.Tx(0x76, []byte{0xD0}, make([]byte, 1)); !errors.Is(err, ErrBusClosed) {
		t.Errorf("after Close: got %v", err)
	}
	if err := bus.Set(0x77, 0); !errors.Is(err, ErrNACK) {
		t.Errorf("Set without chip: got %v", err)
	}
	if _, err := bus.Get(0x77, 0, 1); !errors.Is(err, ErrNACK) {
		t.Errorf("Get without chip: got %v", err)
	}
}

func TestNewSimBusInvalid(t *testing.T) {
	tests := []struct {
		name  string
		chips []SimChip
		want  string
	}{
		{"address", []SimChip{{Addr: 0x80}}, "sim chip 0x80: address is not 7-bit"},
		{"duplicate", []SimChip{{Addr: 0x44}, {Addr: 0x44}}, "sim chip 0x44: two chips at this address"},
		{"pointer", []SimChip{{Addr: 0x44, PointerBytes: 3}}, "pointer bytes must be 1 or 2, got 3"},
		{"too long", []SimChip{{Addr: 0x76, Registers: map[uint16][]byte{0xFF: {1, 2}}}}, "register 0xff: 2 bytes do not fit a 1-byte pointer"},
		{"too high", []SimChip{{Addr: 0x76, Registers: map[uint16][]byte{0x2400: {1}}}}, "register 0x2400: 1 bytes do not fit"},
	}
	for _, tt := range tests {
		if _, err := NewSimBus(tt.chips...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSimBusSetGet(t *testing.T) {
	bus, err := NewSimBus(DemoBME280())
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Set(0x76, 0xF3, 0x08); err != nil {
		t.Fatal(err)
	}
	got, err := bus.Get(0x76, 0xF2, 3)
	if err != nil || !bytes.Equal(got, []byte{0, 0x08, 0}) {
		t.Errorf("Get = % x, %v", got, err)
	}
}

func TestSimBusConcurrent(t *testing.T) {
	bus, err := NewSimBus(DemoBME280(), DemoSHT3x())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 100 {
				r := make([]byte, 1)
				if err := bus.Tx(0x76, []byte{0xD0}, r); err != nil || r[0] != 0x60 {
					t.Errorf("chip id 0x%02x, %v", r[0], err)
				}
				if err := bus.Set(0x44, 0x3000, byte(i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
