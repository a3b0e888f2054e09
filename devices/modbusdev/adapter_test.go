package modbusdev_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
	"github.com/edgemq/edgemq/devices/modbusdev"
)

// pipePort is the master's end of a net.Pipe whose Close leaves the
// pipe open, so that the adapter can reopen it after a restart.
type pipePort struct{ net.Conn }

func (pipePort) Close() error { return nil }

// bus returns a simulator for ids on a net.Pipe and an opener for the
// adapter's end. The simulator stops when the test ends.
func bus(t testing.TB, ids ...byte) (func(modbusdev.Config) (modbusdev.Port, error), *modbustest.Slave) {
	t.Helper()
	master, end := net.Pipe()
	sim := modbustest.NewSlave(end, ids...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var serr error
	// Exits when ctx is done and the pipe is closed (cleanup).
	go func() { defer wg.Done(); serr = sim.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		end.Close()
		master.Close()
		wg.Wait()
		if serr != nil {
			t.Errorf("Serve: %v", serr)
		}
	})
	return func(modbusdev.Config) (modbusdev.Port, error) { return pipePort{master}, nil }, sim
}

// run runs a until the test ends and returns its publisher.
func run(t *testing.T, a *modbusdev.Adapter) *devicestest.Publisher {
	t.Helper()
	p := &devicestest.Publisher{Cmds: make(chan devices.Command, 8)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// Exits when ctx is done (cleanup).
	go func() { done <- a.Run(ctx, p) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5 s of the cancel")
		}
	})
	return p
}

// last returns the last value published for group/field, or "".
func last(p *devicestest.Publisher, group, field string) string {
	rs := p.Readings()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Group != group {
			continue
		}
		for _, f := range rs[i].Fields {
			if f.Name == field {
				return f.Value.String()
			}
		}
	}
	return ""
}

func statusIs(p *devicestest.Publisher, group string, online bool) func() bool {
	return func() bool {
		s := p.GroupStatus(group)
		return len(s) > 0 && s[len(s)-1] == online
	}
}

func ptr[T any](v T) *T { return &v }

func regs(t *testing.T, v float64, typ modbus.DataType, o modbus.Order) []uint16 {
	t.Helper()
	r, err := modbus.Encode(v, typ, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestValues(t *testing.T) {
	open, sim := bus(t, 1)
	sim.SetInputRegisters(1, 0, regs(t, 230.1, modbus.Float32, modbus.ABCD)...)
	sim.SetInputRegisters(1, 2, regs(t, 5.25, modbus.Float32, modbus.CDAB)...)
	sim.SetInputRegisters(1, 4, 2315)                                            // 23.15 with scale 0.01
	sim.SetInputRegisters(1, 5, regs(t, -1234567, modbus.Int32, modbus.ABCD)...) // int32
	sim.SetHoldingRegisters(1, 100, regs(t, 4000000000, modbus.Uint32, modbus.CDAB)...)
	sim.SetHoldingRegisters(1, 102, 0x3412) // uint16 BADC: 0x1234
	sim.SetHoldingRegisters(1, 103, regs(t, -5, modbus.Int16, modbus.ABCD)...)
	sim.SetHoldingRegisters(1, 104, 1) // bool
	sim.SetCoils(1, 10, true, false)
	sim.SetDiscreteInputs(1, 20, true)
	a, err := modbusdev.New(modbusdev.Config{
		Port: "bus", Open: open, Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Slaves: []modbusdev.Slave{{ID: 1, Name: "meter1", Points: []modbusdev.Point{
			{Name: "voltage", Table: "input", Address: 0, Type: "float32", Unit: "V"},
			{Name: "current", Table: "input", Address: 2, Type: "float32", Order: "CDAB", Decimals: ptr(3)},
			{Name: "temp", Table: "input", Address: 4, Type: "int16", Scale: ptr(0.01)},
			{Name: "energy", Table: "input", Address: 5, Type: "int32", Scale: ptr(0.1), Offset: 1000},
			{Name: "counter", Table: "holding", Address: 100, Type: "uint32", Order: "CDAB"},
			{Name: "code", Table: "holding", Address: 102, Order: "BADC"},
			{Name: "trim", Table: "holding", Address: 103, Type: "int16", Scale: ptr(0.5), Decimals: ptr(2)},
			{Name: "enabled", Table: "holding", Address: 104, Type: "bool"},
			{Name: "relay1", Table: "coil", Address: 10},
			{Name: "relay2", Table: "coil", Address: 11},
			{Name: "door", Table: "discrete", Address: 20},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Unit("meter1/voltage") != "V" || a.Unit("meter1/current") != "" {
		t.Errorf("Unit: %q %q", a.Unit("meter1/voltage"), a.Unit("meter1/current"))
	}
	p := run(t, a)
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(p.Readings()) > 0 }, "a reading")
	want := map[string]string{
		"voltage": "230.1", "current": "5.250", "temp": "23.15", "energy": "-122456.7",
		"counter": "4000000000", "code": "4660", "trim": "-2.50", "enabled": "1",
		"relay1": "1", "relay2": "0", "door": "1",
	}
	r := p.Readings()[0]
	if r.Group != "meter1" || len(r.Fields) != len(want) {
		t.Fatalf("reading %+v", r)
	}
	for _, f := range r.Fields {
		if got := f.Value.String(); got != want[f.Name] {
			t.Errorf("%s = %s, want %s", f.Name, got, want[f.Name])
		}
	}
	brokertest.Eventually(t, 5*time.Second, statusIs(p, "meter1", true), "meter1 online")
	// Contiguous points share a request: input 0-6, holding 100-104, the
	// coils and the discrete input: 4 requests per cycle.
	n := len(p.Readings())
	polls := p.Counted(devices.Polls)
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(p.Readings()) >= n+2 }, "more cycles")
	n2, polls2 := len(p.Readings()), p.Counted(devices.Polls)
	if per := float64(polls2-polls) / float64(n2-n); per < 3.5 || per > 4.5 {
		t.Errorf("%.1f requests per cycle, want 4", per)
	}
	if got := p.GroupStatus("meter1"); len(got) != 1 {
		t.Errorf("status published %v, want once", got)
	}
}

func TestSilentSlave(t *testing.T) {
	open, sim := bus(t, 1, 2)
	sim.SetHoldingRegisters(1, 0, 11)
	sim.SetHoldingRegisters(2, 0, 22)
	a, err := modbusdev.New(modbusdev.Config{
		Port: "bus", Open: open, Interval: 50 * time.Millisecond, Timeout: 100 * time.Millisecond, Retries: ptr(2),
		Slaves: []modbusdev.Slave{
			{ID: 1, Name: "m1", Points: []modbusdev.Point{{Name: "v", Table: "holding", Address: 0}, {Name: "w", Table: "holding", Address: 7}}},
			{ID: 2, Name: "m2", Points: []modbusdev.Point{{Name: "v", Table: "holding", Address: 0}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sim.SetSilent(1, true)
	p := run(t, a)
	brokertest.Eventually(t, 5*time.Second, statusIs(p, "m1", false), "m1 offline")
	brokertest.Eventually(t, 5*time.Second, statusIs(p, "m2", true), "m2 online")
	// m2 keeps being polled while m1 stays silent.
	sim.SetHoldingRegisters(2, 0, 23)
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "m2", "v") == "23" }, "m2 polled")
	if got := last(p, "m1", "v"); got != "" {
		t.Errorf("silent m1 published %q", got)
	}
	// An offline slave gets one request per cycle, not one per point
	// and retry.
	r0, c0 := sim.Requests(), len(p.Readings())
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(p.Readings()) >= c0+3 }, "cycles")
	if per := float64(sim.Requests()-r0) / float64(len(p.Readings())-c0); per > 2.5 {
		t.Errorf("%.1f requests per cycle with m1 offline, want 2", per)
	}

	sim.SetSilent(1, false)
	brokertest.Eventually(t, 5*time.Second, statusIs(p, "m1", true), "m1 online again")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "m1", "v") == "11" }, "m1 publishes")
	if got := p.GroupStatus("m2"); !slices.Equal(got, []bool{true}) {
		t.Errorf("m2 status %v, want only online", got)
	}
}

func TestWrites(t *testing.T) {
	open, sim := bus(t, 3)
	a, err := modbusdev.New(modbusdev.Config{
		Port: "bus", Open: open, Interval: time.Hour, Timeout: 200 * time.Millisecond,
		Slaves: []modbusdev.Slave{{ID: 3, Name: "plc", Points: []modbusdev.Point{
			{Name: "relay", Table: "coil", Address: 5, Writable: true},
			{Name: "setpoint", Table: "holding", Address: 10, Type: "int16", Scale: ptr(0.1), Writable: true},
			{Name: "limit", Table: "holding", Address: 20, Type: "float32", Order: "CDAB", Writable: true},
			{Name: "level", Table: "holding", Address: 30, Type: "uint16", Offset: -40, Writable: true},
			{Name: "mode", Table: "holding", Address: 31, Type: "bool", Writable: true},
			{Name: "ro", Table: "holding", Address: 40},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Writable(); !slices.Equal(got, []string{"plc/relay", "plc/setpoint", "plc/limit", "plc/level", "plc/mode"}) {
		t.Errorf("Writable() = %q", got)
	}
	p := run(t, a)
	brokertest.Eventually(t, 5*time.Second, statusIs(p, "plc", true), "online")
	send := func(field, payload string) { p.Cmds <- devices.Command{Field: field, Payload: payload} }

	send("plc/relay", "ON")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "plc", "relay") == "1" }, "relay read back")
	if !sim.Coil(3, 5) {
		t.Error("coil not set")
	}
	send("plc/relay", "false")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "plc", "relay") == "0" }, "relay off")

	send("plc/setpoint", "-21.5")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "plc", "setpoint") == "-21.5" }, "setpoint read back")
	if got := sim.HoldingRegisters(3, 10, 1); int16(got[0]) != -215 {
		t.Errorf("setpoint register %d, want -215", int16(got[0]))
	}
	send("plc/limit", "12.75")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "plc", "limit") == "12.75" }, "limit read back")
	if got := sim.HoldingRegisters(3, 20, 2); !slices.Equal(got, regs(t, 12.75, modbus.Float32, modbus.CDAB)) {
		t.Errorf("limit registers %04X", got)
	}
	send("plc/level", "0")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "plc", "level") == "0" }, "level read back")
	if got := sim.HoldingRegisters(3, 30, 1); got[0] != 40 {
		t.Errorf("level register %d, want 40", got[0])
	}
	send("plc/mode", "on")
	brokertest.Eventually(t, 5*time.Second, func() bool { return last(p, "plc", "mode") == "1" }, "mode read back")

	// Refused: not written, counted.
	before := sim.Requests()
	for _, c := range [][2]string{
		{"plc/relay", "maybe"},
		{"plc/setpoint", "abc"},
		{"plc/setpoint", "3277"}, // 32770 does not fit int16
		{"plc/level", "-41"},     // -1 does not fit uint16
		{"plc/mode", "2"},
		{"plc/ro", "1"}, // not writable
		{"plc/limit", "NaN"},
	} {
		send(c[0], c[1])
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return p.Counted(devices.CommandsRejected) == 7 }, "rejected commands counted")
	if got := sim.Requests(); got != before {
		t.Errorf("%d requests for refused commands", got-before)
	}

	// A write the slave refuses is counted; the slave stays online.
	sim.SetException(3, modbus.FuncWriteSingleRegister, 10, modbus.IllegalDataValue)
	send("plc/setpoint", "1")
	brokertest.Eventually(t, 5*time.Second, func() bool { return p.Counted(devices.CommandsRejected) == 8 }, "exception counted")
	if got := sim.HoldingRegisters(3, 10, 1); int16(got[0]) != -215 {
		t.Errorf("setpoint register %d after a refused write", int16(got[0]))
	}
	// A write to a silent slave puts it offline.
	sim.SetSilent(3, true)
	send("plc/relay", "1")
	brokertest.Eventually(t, 5*time.Second, statusIs(p, "plc", false), "offline after an unanswered write")
}

func TestExceptionSplitsRequest(t *testing.T) {
	open, sim := bus(t, 1)
	sim.SetInputRegisters(1, 0, 1, 2, 3)
	sim.SetException(1, modbus.FuncReadInputRegisters, 1, modbus.IllegalDataAddress)
	a, err := modbusdev.New(modbusdev.Config{
		Port: "bus", Open: open, Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Slaves: []modbusdev.Slave{{ID: 1, Name: "m", Points: []modbusdev.Point{
			{Name: "a", Table: "input", Address: 0}, {Name: "b", Table: "input", Address: 1}, {Name: "c", Table: "input", Address: 2},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := run(t, a)
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(p.Readings()) >= 2 }, "readings")
	for _, r := range p.Readings() {
		var got []string
		for _, f := range r.Fields {
			got = append(got, f.Name+"="+f.Value.String())
		}
		if !slices.Equal(got, []string{"a=1", "c=3"}) {
			t.Errorf("reading %q, want a=1 c=3", got)
		}
	}
	if got := p.GroupStatus("m"); !slices.Equal(got, []bool{true}) {
		t.Errorf("status %v: a slave answering with an exception is online", got)
	}
	if p.Counted(devices.ParseErrors) < 2 {
		t.Errorf("parse errors %d, want one per cycle", p.Counted(devices.ParseErrors))
	}
}

// failPort fails every write, as an unplugged USB adapter does.
type failPort struct{}

func (failPort) Read([]byte) (int, error)  { return 0, io.EOF }
func (failPort) Write([]byte) (int, error) { return 0, errors.New("input/output error") }
func (failPort) Close() error              { return nil }

func TestPortErrors(t *testing.T) {
	cfg := modbusdev.Config{Port: "bus", Slaves: []modbusdev.Slave{{ID: 1, Name: "m", Points: []modbusdev.Point{{Name: "a", Table: "coil"}}}}}
	cfg.Open = func(modbusdev.Config) (modbusdev.Port, error) { return nil, errors.New("no such file") }
	a, err := modbusdev.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Run(ctx, &devicestest.Publisher{}); err == nil || err.Error() != "no such file" {
		t.Errorf("Run with a missing port: %v", err)
	}
	cfg.Open = func(modbusdev.Config) (modbusdev.Port, error) { return failPort{}, nil }
	a, _ = modbusdev.New(cfg)
	if err := a.Run(ctx, &devicestest.Publisher{}); err == nil || ctx.Err() != nil {
		t.Errorf("Run with a failing port: %v", err)
	}
}

func TestOpenTarmMissing(t *testing.T) {
	_, err := modbusdev.OpenTarm(modbusdev.Config{Port: t.TempDir() + "/missing"})
	if err == nil {
		t.Fatal("OpenTarm of a missing port succeeded")
	}
}
