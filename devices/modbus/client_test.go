package modbus_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/modbus"
)

var errEOF = io.EOF

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRC(t *testing.T) {
	tests := []struct{ frame, crc string }{
		{"01 03 00 00 00 0A", "C5 CD"},
		{"01 03 00 00 00 01", "84 0A"},
		{"11 03 00 6B 00 03", "76 87"}, // Modbus over serial line guide example
	}
	for _, tt := range tests {
		f := unhex(t, tt.frame)
		got := modbus.AppendCRC(f)
		if want := unhex(t, tt.frame+tt.crc); !slices.Equal(got, want) {
			t.Errorf("AppendCRC(%s) = % X, want % X", tt.frame, got, want)
		}
		if !modbus.CheckCRC(got) {
			t.Errorf("CheckCRC(% X) = false", got)
		}
		got[len(got)-1] ^= 1
		if modbus.CheckCRC(got) {
			t.Errorf("CheckCRC accepts corrupted % X", got)
		}
	}
	if modbus.CheckCRC([]byte{1, 2}) {
		t.Error("CheckCRC accepts a 2-byte frame")
	}
}

func TestFunctions(t *testing.T) {
	ctx := context.Background()
	port, sim := pipeBus(t, nil, 1, 2)
	c := modbus.NewClient(port, modbus.Options{Timeout: 2 * time.Second})

	bits := []bool{true, false, true, true, false, false, true, false, true}
	sim.SetCoils(1, 100, bits...)
	sim.SetDiscreteInputs(1, 200, bits[:3]...)
	sim.SetHoldingRegisters(1, 300, 1, 0xFFFF, 0x1234)
	sim.SetInputRegisters(2, 0, 7, 8)
	sim.SetInputRegisters(2, 65534, 0xAAAA, 0x5555)

	tests := []struct {
		name  string
		call  func() (any, error)
		want  any
		check func() any // state of the simulator after a write
	}{
		{"1 read coils", func() (any, error) { return c.ReadCoils(ctx, 1, 100, 9) }, bits, nil},
		{"1 read one coil", func() (any, error) { return c.ReadCoils(ctx, 1, 102, 1) }, []bool{true}, nil},
		{"2 read discrete inputs", func() (any, error) { return c.ReadDiscreteInputs(ctx, 1, 199, 5) },
			[]bool{false, true, false, true, false}, nil},
		{"3 read holding", func() (any, error) { return c.ReadHoldingRegisters(ctx, 1, 300, 3) }, []uint16{1, 0xFFFF, 0x1234}, nil},
		{"3 read 125 holding", func() (any, error) {
			r, err := c.ReadHoldingRegisters(ctx, 1, 0, 125)
			return len(r), err
		}, 125, nil},
		{"4 read input", func() (any, error) { return c.ReadInputRegisters(ctx, 2, 0, 2) }, []uint16{7, 8}, nil},
		{"4 read last addresses", func() (any, error) { return c.ReadInputRegisters(ctx, 2, 65534, 2) }, []uint16{0xAAAA, 0x5555}, nil},
		{"5 write coil on", func() (any, error) { return nil, c.WriteSingleCoil(ctx, 1, 7, true) }, nil,
			func() any { return sim.Coil(1, 7) }},
		{"5 write coil off", func() (any, error) { return nil, c.WriteSingleCoil(ctx, 1, 100, false) }, nil,
			func() any { return sim.Coil(1, 100) }},
		{"6 write register", func() (any, error) { return nil, c.WriteSingleRegister(ctx, 2, 40, 0xBEEF) }, nil,
			func() any { return sim.HoldingRegisters(2, 40, 1) }},
		{"15 write coils", func() (any, error) { return nil, c.WriteMultipleCoils(ctx, 1, 500, bits) }, nil,
			func() any {
				out := make([]bool, len(bits))
				for i := range out {
					out[i] = sim.Coil(1, 500+uint16(i))
				}
				return out
			}},
		{"16 write registers", func() (any, error) { return nil, c.WriteMultipleRegisters(ctx, 1, 600, []uint16{1, 2, 3}) }, nil,
			func() any { return sim.HoldingRegisters(1, 600, 3) }},
	}
	wantAfter := map[string]any{
		"5 write coil on":    true,
		"5 write coil off":   false,
		"6 write register":   []uint16{0xBEEF},
		"15 write coils":     bits,
		"16 write registers": []uint16{1, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.check != nil {
				if got, want := tt.check(), wantAfter[tt.name]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("simulator has %v, want %v", got, want)
				}
			}
		})
	}
}

func TestBroadcast(t *testing.T) {
	ctx := context.Background()
	port, sim := pipeBus(t, nil, 1, 2)
	sim.SetSilent(2, true) // an absent slave does not apply broadcasts
	c := modbus.NewClient(port, modbus.Options{})
	if err := c.WriteSingleRegister(ctx, modbus.BroadcastID, 10, 42); err != nil {
		t.Fatal(err)
	}
	// The simulator handles requests in order, so this read follows the
	// broadcast.
	r, err := c.ReadHoldingRegisters(ctx, 1, 10, 1)
	if err != nil || r[0] != 42 {
		t.Errorf("slave 1: %v, %v; want [42]", r, err)
	}
	if got := sim.HoldingRegisters(2, 10, 1); got[0] != 0 {
		t.Errorf("silent slave 2 applied the broadcast: %v", got)
	}
}

func TestInvalidArguments(t *testing.T) {
	ctx := context.Background()
	c := modbus.NewClient(&scriptedPort{}, modbus.Options{})
	calls := map[string]error{}
	_, calls["qty 0"] = c.ReadHoldingRegisters(ctx, 1, 0, 0)
	_, calls["qty 126"] = c.ReadInputRegisters(ctx, 1, 0, 126)
	_, calls["bits 2001"] = c.ReadCoils(ctx, 1, 0, 2001)
	_, calls["past 65535"] = c.ReadDiscreteInputs(ctx, 1, 65535, 2)
	_, calls["read broadcast"] = c.ReadHoldingRegisters(ctx, 0, 0, 1)
	_, calls["slave 248"] = c.ReadHoldingRegisters(ctx, 248, 0, 1)
	calls["no coils"] = c.WriteMultipleCoils(ctx, 1, 0, nil)
	calls["124 registers"] = c.WriteMultipleRegisters(ctx, 1, 0, make([]uint16, 124))
	calls["1969 coils"] = c.WriteMultipleCoils(ctx, 1, 0, make([]bool, 1969))
	for name, err := range calls {
		if !errors.Is(err, modbus.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestException(t *testing.T) {
	ctx := context.Background()
	port, sim := pipeBus(t, nil, 1)
	c := modbus.NewClient(port, modbus.Options{Retries: 3})
	sim.SetException(1, modbus.FuncReadHoldingRegisters, 20, modbus.IllegalDataAddress)
	sim.SetException(1, 0, 50, modbus.SlaveDeviceBusy)

	check := func(err error, fn byte, code modbus.ExceptionCode, name string) {
		t.Helper()
		var ee *modbus.ExceptionError
		if !errors.As(err, &ee) {
			t.Fatalf("err = %v, want *ExceptionError", err)
		}
		if ee.Function != fn || ee.Code != code {
			t.Errorf("got function %d code %d, want %d %d", ee.Function, ee.Code, fn, code)
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %q", err, name)
		}
	}
	before := sim.Requests()
	_, err := c.ReadHoldingRegisters(ctx, 1, 18, 4)
	check(err, 3, modbus.IllegalDataAddress, "illegal data address")
	if n := sim.Requests() - before; n != 1 {
		t.Errorf("exception was retried: %d requests", n)
	}
	if _, err := c.ReadInputRegisters(ctx, 1, 18, 4); err != nil {
		t.Errorf("other function: %v", err)
	}
	err = c.WriteSingleCoil(ctx, 1, 50, true)
	check(err, 5, modbus.SlaveDeviceBusy, "slave device busy")
	err = c.WriteMultipleRegisters(ctx, 1, 49, []uint16{1, 2})
	check(err, 16, modbus.SlaveDeviceBusy, "slave device busy")

	sim.SetException(1, modbus.FuncReadHoldingRegisters, 20, 0)
	if _, err := c.ReadHoldingRegisters(ctx, 1, 18, 4); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	if got := modbus.ExceptionCode(99).String(); got != "exception 99" {
		t.Errorf("unknown code: %q", got)
	}
}

func TestSilentSlaveTimeout(t *testing.T) {
	ctx := context.Background()
	port, sim := pipeBus(t, nil, 1, 2)
	c := modbus.NewClient(port, modbus.Options{Timeout: 50 * time.Millisecond, Retries: 2})
	sim.SetHoldingRegisters(1, 0, 11)
	sim.SetSilent(1, true)
	before := sim.Requests()
	_, err := c.ReadHoldingRegisters(ctx, 1, 0, 1)
	if !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if n := sim.Requests() - before; n != 3 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
	}
	// Another slave on the same bus still answers.
	if _, err := c.ReadHoldingRegisters(ctx, 2, 0, 1); err != nil {
		t.Fatal(err)
	}
	sim.SetSilent(1, false)
	if r, err := c.ReadHoldingRegisters(ctx, 1, 0, 1); err != nil || r[0] != 11 {
		t.Fatalf("after silence: %v, %v", r, err)
	}
}

func TestContextCancel(t *testing.T) {
	port, sim := pipeBus(t, nil, 1)
	sim.SetSilent(1, true)
	c := modbus.NewClient(port, modbus.Options{Timeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for sim.Requests() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.ReadHoldingRegisters(ctx, 1, 0, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A context deadline bounds the attempt too.
	ctx, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := c.ReadHoldingRegisters(ctx, 1, 0, 1); !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, modbus.ErrTimeout) {
		t.Fatalf("err = %v, want deadline or timeout", err)
	}
}

func TestBadCRCRetried(t *testing.T) {
	ctx := context.Background()
	var cp *corruptPort
	port, sim := pipeBus(t, func(c net.Conn) modbus.Port {
		cp = &corruptPort{Conn: c}
		return cp
	}, 1)
	sim.SetHoldingRegisters(1, 0, 5)

	c := modbus.NewClient(port, modbus.Options{Timeout: time.Second})
	cp.corrupt.Store(1)
	if _, err := c.ReadHoldingRegisters(ctx, 1, 0, 1); !errors.Is(err, modbus.ErrBadFrame) {
		t.Fatalf("err = %v, want ErrBadFrame", err)
	}
	c = modbus.NewClient(port, modbus.Options{Timeout: time.Second, Retries: 1})
	cp.corrupt.Store(1)
	if r, err := c.ReadHoldingRegisters(ctx, 1, 0, 1); err != nil || r[0] != 5 {
		t.Fatalf("with a retry: %v, %v", r, err)
	}
}

func TestBadFrames(t *testing.T) {
	crc := func(s string) []byte { return modbus.AppendCRC(unhex(t, s)) }
	tests := []struct {
		name string
		resp []byte
		want error
	}{
		{"ok", crc("01 03 02 00 2A"), nil},
		{"wrong slave", crc("02 03 02 00 2A"), modbus.ErrBadFrame},
		{"wrong function", crc("01 04 02 00 2A"), modbus.ErrBadFrame},
		{"bad crc", append(unhex(t, "01 03 02 00 2A"), 0, 0), modbus.ErrBadFrame},
		{"byte count", crc("01 03 03 00 2A"), modbus.ErrBadFrame},
		{"truncated", unhex(t, "01 03 02 00"), modbus.ErrTimeout},
		{"nothing", nil, modbus.ErrTimeout},
		{"exception", crc("01 83 02"), &modbus.ExceptionError{}},
		{"exception bad crc", unhex(t, "01 83 02 00 00"), modbus.ErrBadFrame},
	}
	for _, tt := range tests {
		for _, split := range []int{0, 1, 2, 3} {
			t.Run(fmt.Sprintf("%s/split%d", tt.name, split), func(t *testing.T) {
				p := &scriptedPort{resp: slices.Clone(tt.resp), split: split}
				c := modbus.NewClient(p, modbus.Options{Timeout: 20 * time.Millisecond})
				r, err := c.ReadHoldingRegisters(context.Background(), 1, 0, 1)
				if want := unhex(t, "01 03 00 00 00 01 84 0A"); !slices.Equal(p.req, want) {
					t.Errorf("request % X, want % X", p.req, want)
				}
				switch w := tt.want.(type) {
				case nil:
					if err != nil || r[0] != 42 {
						t.Errorf("got %v, %v", r, err)
					}
				case *modbus.ExceptionError:
					if !errors.As(err, &w) {
						t.Errorf("err = %v, want exception", err)
					}
				default:
					if !errors.Is(err, tt.want) {
						t.Errorf("err = %v, want %v", err, tt.want)
					}
				}
			})
		}
	}
	writes := []struct {
		name string
		resp []byte
		want error
	}{
		{"echo", crc("01 06 00 07 12 34"), nil},
		{"wrong echo value", crc("01 06 00 07 12 35"), modbus.ErrBadFrame},
		{"wrong echo address", crc("01 06 00 08 12 34"), modbus.ErrBadFrame},
	}
	for _, tt := range writes {
		t.Run(tt.name, func(t *testing.T) {
			p := &scriptedPort{resp: tt.resp}
			c := modbus.NewClient(p, modbus.Options{Timeout: 20 * time.Millisecond})
			err := c.WriteSingleRegister(context.Background(), 1, 7, 0x1234)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestStrayBytesDiscarded puts an unsolicited frame in front of the
// answer: the attempt fails as a bad frame, and the retry must first drop
// what is left of the real answer.
func TestStrayBytesDiscarded(t *testing.T) {
	ctx := context.Background()
	var sp *strayPort
	port, sim := pipeBus(t, func(c net.Conn) modbus.Port {
		sp = &strayPort{Conn: c}
		return sp
	}, 1)
	sim.SetHoldingRegisters(1, 0, 1, 2)
	sp.inject(modbus.AppendCRC([]byte{9, 3, 4, 0, 1, 0, 2}))
	c := modbus.NewClient(port, modbus.Options{Timeout: time.Second, Retries: 1})
	before := sim.Requests()
	if r, err := c.ReadHoldingRegisters(ctx, 1, 0, 2); err != nil || !slices.Equal(r, []uint16{1, 2}) {
		t.Fatalf("got %v, %v", r, err)
	}
	if n := sim.Requests() - before; n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if r, err := c.ReadHoldingRegisters(ctx, 1, 1, 1); err != nil || r[0] != 2 {
		t.Fatalf("next request: %v, %v", r, err)
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	port, sim := pipeBus(t, nil, 1, 2)
	sim.SetHoldingRegisters(1, 0, 100, 101)
	sim.SetHoldingRegisters(2, 0, 200, 201)
	c := modbus.NewClient(port, modbus.Options{Timeout: 5 * time.Second})
	var wg sync.WaitGroup
	for _, id := range []byte{1, 2} {
		wg.Go(func() {
			for i := range 50 {
				r, err := c.ReadHoldingRegisters(ctx, id, 0, 2)
				want := []uint16{uint16(id) * 100, uint16(id)*100 + 1}
				if err != nil || !slices.Equal(r, want) {
					t.Errorf("slave %d round %d: %v, %v", id, i, r, err)
					return
				}
				if err := c.WriteSingleRegister(ctx, id, 10, uint16(i)); err != nil {
					t.Errorf("slave %d write: %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzResponse(f *testing.F) {
	crc := func(b ...byte) []byte { return modbus.AppendCRC(b) }
	// fn selects the call (see the switch); read quantities are qty%max+1.
	f.Add(byte(3), uint16(0), uint8(0), crc(1, 3, 2, 0, 42))
	f.Add(byte(1), uint16(8), uint8(2), crc(1, 1, 2, 0xFF, 1))
	f.Add(byte(4), uint16(0x1234), uint8(1), crc(1, 6, 0, 7, 0x12, 0x34))
	f.Add(byte(6), uint16(1), uint8(3), crc(1, 16, 0, 7, 0, 2))
	f.Add(byte(2), uint16(0), uint8(0), crc(1, 0x83, 2))
	f.Fuzz(func(t *testing.T, fn byte, qty uint16, split uint8, resp []byte) {
		p := &scriptedPort{resp: resp, split: int(split)}
		c := modbus.NewClient(p, modbus.Options{Timeout: time.Millisecond, DrainTimeout: time.Millisecond})
		ctx := context.Background()
		var err error
		var n int
		switch fn % 8 {
		case 0, 1:
			var r []bool
			r, err = c.ReadCoils(ctx, 1, 7, qty%modbus.MaxReadBits+1)
			n = len(r)
			if err == nil && n != int(qty%modbus.MaxReadBits+1) {
				t.Fatalf("%d coils", n)
			}
		case 2, 3:
			var r []uint16
			r, err = c.ReadHoldingRegisters(ctx, 1, 7, qty%modbus.MaxReadRegisters+1)
			n = len(r)
			if err == nil && n != int(qty%modbus.MaxReadRegisters+1) {
				t.Fatalf("%d registers", n)
			}
		case 4, 5:
			err = c.WriteSingleRegister(ctx, 1, 7, qty)
		default:
			err = c.WriteMultipleRegisters(ctx, 1, 7, make([]uint16, qty%modbus.MaxWriteRegisters+1))
		}
		if err == nil {
			return
		}
		var ee *modbus.ExceptionError
		if !errors.Is(err, modbus.ErrBadFrame) && !errors.Is(err, modbus.ErrTimeout) && !errors.As(err, &ee) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}

func BenchmarkReadHoldingPipe(b *testing.B) {
	port, sim := pipeBus(b, nil, 1)
	sim.SetHoldingRegisters(1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	c := modbus.NewClient(port, modbus.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadHoldingRegisters(ctx, 1, 0, 10); err != nil {
			b.Fatal(err)
		}
	}
}
