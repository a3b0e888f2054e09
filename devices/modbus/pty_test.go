//go:build linux

package modbus_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

// ptyBus returns a simulator serving ids on the master side of a raw
// pseudo-terminal and the terminal side, as a serial adapter opens it.
func ptyBus(t *testing.T, ids ...byte) (*os.File, *modbustest.Slave) {
	t.Helper()
	p := devicestest.OpenPTY(t, "")
	sim := modbustest.NewSlave(p.Master, ids...)
	serve(t, sim, func() error { p.Unplug(); return nil })
	return p.Tty, sim
}

func TestPseudoTerminal(t *testing.T) {
	ctx := context.Background()
	tty, sim := ptyBus(t, 1, 17)
	ports := map[string]modbus.Port{
		"deadlines":       tty,
		"tarm-like (EOF)": tarmPort{f: tty, timeout: 20 * time.Millisecond},
	}
	for name, port := range ports {
		t.Run(name, func(t *testing.T) {
			c := modbus.NewClient(port, modbus.Options{Timeout: 300 * time.Millisecond})
			// 0x0D and 0x0A in the data would be mangled by a cooked terminal.
			want := []uint16{0x0D0A, 0x1A03, 0x7F11, 0x1300}
			if err := c.WriteMultipleRegisters(ctx, 17, 1000, want); err != nil {
				t.Fatal(err)
			}
			got, err := c.ReadHoldingRegisters(ctx, 17, 1000, 4)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("read back %04X, %v", got, err)
			}
			v, _ := modbus.Encode(123.456, modbus.Float32, modbus.CDAB)
			sim.SetInputRegisters(1, 30, v...)
			regs, err := c.ReadInputRegisters(ctx, 1, 30, 2)
			if err != nil {
				t.Fatal(err)
			}
			if f, _ := modbus.Decode(regs, modbus.Float32, modbus.CDAB); f != float64(float32(123.456)) {
				t.Errorf("float = %v", f)
			}
			coils := []bool{true, false, true, true, false, true, false, true, true, true, false}
			if err := c.WriteMultipleCoils(ctx, 1, 13, coils); err != nil {
				t.Fatal(err)
			}
			if got, err := c.ReadCoils(ctx, 1, 13, uint16(len(coils))); err != nil || !slices.Equal(got, coils) {
				t.Fatalf("coils %v, %v", got, err)
			}

			sim.SetSilent(1, true)
			if _, err := c.ReadInputRegisters(ctx, 1, 30, 2); !errors.Is(err, modbus.ErrTimeout) {
				t.Fatalf("silent slave: %v, want ErrTimeout", err)
			}
			sim.SetSilent(1, false)
			sim.SetException(1, modbus.FuncReadInputRegisters, 31, modbus.IllegalDataAddress)
			var ee *modbus.ExceptionError
			if _, err := c.ReadInputRegisters(ctx, 1, 30, 2); !errors.As(err, &ee) || ee.Code != modbus.IllegalDataAddress {
				t.Fatalf("exception: %v", err)
			}
			sim.SetException(1, modbus.FuncReadInputRegisters, 31, 0)
		})
	}
}
