package modbustest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

// bus starts a simulator for ids on one end of a net.Pipe and returns the
// other end. Serve's result is sent on the returned channel.
func bus(t *testing.T, ids ...byte) (net.Conn, *modbustest.Slave, context.CancelFunc, <-chan error) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	sim := modbustest.NewSlave(b, ids...)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx) }()
	return a, sim, cancel, done
}

// exchange writes req with its CRC and reads n bytes of response.
func exchange(t *testing.T, c net.Conn, req []byte, n int) []byte {
	t.Helper()
	if _, err := c.Write(modbus.AppendCRC(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp := make([]byte, n)
	if _, err := io.ReadFull(c, resp); err != nil {
		t.Fatalf("response to % X: %v", req, err)
	}
	return resp
}

func TestSlaveRequests(t *testing.T) {
	c, sim, _, _ := bus(t, 1)
	sim.SetHoldingRegisters(1, 0, 0x1234)
	tests := []struct {
		name string
		req  []byte
		want []byte // without CRC
	}{
		{"read holding", []byte{1, 3, 0, 0, 0, 1}, []byte{1, 3, 2, 0x12, 0x34}},
		{"read 0 registers", []byte{1, 3, 0, 0, 0, 0}, []byte{1, 0x83, 3}},
		{"read 126 registers", []byte{1, 4, 0, 0, 0, 126}, []byte{1, 0x84, 3}},
		{"read past the end", []byte{1, 1, 0xFF, 0xFF, 0, 2}, []byte{1, 0x81, 2}},
		{"coil value 0x1234", []byte{1, 5, 0, 0, 0x12, 0x34}, []byte{1, 0x85, 3}},
		{"byte count mismatch", []byte{1, 16, 0, 0, 0, 2, 2, 0, 1}, []byte{1, 0x90, 3}},
		{"write coils", []byte{1, 15, 0, 10, 0, 3, 1, 0b101}, []byte{1, 15, 0, 10, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, c, tt.req, len(tt.want)+2)
			if want := modbus.AppendCRC(tt.want); !slices.Equal(got, want) {
				t.Errorf("got % X, want % X", got, want)
			}
		})
	}
	if !sim.Coil(1, 10) || sim.Coil(1, 11) || !sim.Coil(1, 12) {
		t.Error("coils 10..12 not written as 1 0 1")
	}
}

func TestSlaveResynchronises(t *testing.T) {
	c, sim, _, _ := bus(t, 1)
	sim.SetInputRegisters(1, 5, 77)
	// A request with a bad CRC and one for an unknown function are dropped;
	// the next good request is answered.
	for _, junk := range [][]byte{{1, 4, 0, 5, 0, 1, 0, 0}, {1, 0x2B, 0x0E, 1, 0}} {
		if _, err := c.Write(junk); err != nil {
			t.Fatal(err)
		}
		got := exchange(t, c, []byte{1, 4, 0, 5, 0, 1}, 7)
		if want := modbus.AppendCRC([]byte{1, 4, 2, 0, 77}); !slices.Equal(got, want) {
			t.Errorf("after % X: got % X, want % X", junk, got, want)
		}
	}
}

func TestServeStops(t *testing.T) {
	_, _, cancel, done := bus(t, 1)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}

	a, b := net.Pipe()
	defer a.Close()
	sim := modbustest.NewSlave(b, 1)
	errc := make(chan error, 1)
	go func() { errc <- sim.Serve(context.Background()) }()
	_ = b.Close()
	if err := <-errc; err != nil {
		t.Errorf("Serve after close: %v", err)
	}
}

func TestServeReadError(t *testing.T) {
	want := errors.New("line broken")
	sim := modbustest.NewSlave(failPort{want})
	if err := sim.Serve(context.Background()); !errors.Is(err, want) {
		t.Errorf("Serve = %v, want %v", err, want)
	}
}

type failPort struct{ err error }

func (p failPort) Read([]byte) (int, error)  { return 0, p.err }
func (p failPort) Write([]byte) (int, error) { return 0, p.err }

func ExampleSlave() {
	master, port := net.Pipe()
	sim := modbustest.NewSlave(port, 1, 2)
	sim.SetInputRegisters(2, 0, 215)
	sim.SetSilent(1, true) // slave 1 is unplugged
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sim.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	c := modbus.NewClient(master, modbus.Options{Timeout: 50 * time.Millisecond})
	regs, err := c.ReadInputRegisters(ctx, 2, 0, 1)
	fmt.Println(regs, err)
	_, err = c.ReadInputRegisters(ctx, 1, 0, 1)
	fmt.Println(errors.Is(err, modbus.ErrTimeout))
	// Output:
	// [215] <nil>
	// true
}
