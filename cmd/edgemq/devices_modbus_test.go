//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

// modbusBus is an RS-485 bus on a pseudo-terminal: the simulated
// slaves answer on the master side; the gateway opens the terminal side
// through link, like a /dev/serial/by-id/ name.
type modbusBus struct {
	sim  *modbustest.Slave
	link string
	stop func()
}

// plugModbus opens a pty pair, serves ids on its master side and points
// link at its terminal side. The bus is unplugged when the test ends.
func plugModbus(t *testing.T, link string, ids ...byte) *modbusBus {
	t.Helper()
	p := devicestest.OpenPTY(t, link)
	b := &modbusBus{sim: modbustest.NewSlave(p.Master, ids...), link: link}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	// Exits when ctx is done and the master is closed (stop).
	go func() { defer wg.Done(); _ = b.sim.Serve(ctx) }()
	var once sync.Once
	b.stop = func() {
		once.Do(func() {
			cancel()
			p.Unplug()
			wg.Wait()
		})
	}
	t.Cleanup(b.stop)
	return b
}

func encodeRegs(t *testing.T, v float64, typ modbus.DataType, o modbus.Order) []uint16 {
	t.Helper()
	r, err := modbus.Encode(v, typ, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fillMeters sets the registers of the two simulated meters.
func fillMeters(t *testing.T, sim *modbustest.Slave) {
	sim.SetInputRegisters(1, 0, encodeRegs(t, 230.1, modbus.Float32, modbus.ABCD)...)
	sim.SetInputRegisters(1, 2, encodeRegs(t, 5.25, modbus.Float32, modbus.CDAB)...)
	sim.SetInputRegisters(1, 4, 2315) // hundredths of a degree
	sim.SetHoldingRegisters(1, 10, encodeRegs(t, 123456789, modbus.Uint32, modbus.CDAB)...)
	sim.SetInputRegisters(2, 0, encodeRegs(t, -1500, modbus.Int32, modbus.CDAB)...)
}

func TestDevicesModbusEndToEnd(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "usb-FTDI_USB-RS485-if00-port0")
	bus := plugModbus(t, link, 1, 2)
	fillMeters(t, bus.sim)
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: gw}
broker:
  listeners:
    - {type: tcp, address: %q}
  sys_interval: 1s
storage: {dir: %q}
devices:
  - id: rs485
    type: modbus
    port: %q
    baud: 19200
    parity: even
    interval: 200ms
    timeout: 200ms
    retries: 1
    restart: {min: 200ms, max: 1s}
    slaves:
      - id: 1
        name: meter1
        points:
          - {name: voltage, table: input, address: 0, type: float32, unit: V}
          - {name: current, table: input, address: 2, type: float32, order: CDAB, decimals: 2, unit: A}
          - {name: temp, table: input, address: 4, type: int16, scale: 0.01}
          - {name: energy, table: holding, address: 10, type: uint32, order: CDAB, scale: 0.01, unit: kWh}
          - {name: setpoint, table: holding, address: 20, type: int16, scale: 0.1, writable: true}
          - {name: relay, table: coil, address: 0, writable: true}
      - id: 2
        name: meter2
        points:
          - {name: power, table: input, address: 0, type: int32, order: CDAB, unit: W}
`, addr, filepath.Join(dir, "data"), link)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runBinary(t, "check-config", cfg); err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/gw/#", "$SYS/broker/devices/#")
	const p = "edgemq/gw/rs485/"

	want := map[string]string{
		p + "meter1/voltage":  "230.1",
		p + "meter1/current":  "5.25",
		p + "meter1/temp":     "23.15",
		p + "meter1/energy":   "1234567.89",
		p + "meter1/setpoint": "0.0",
		p + "meter1/relay":    "0",
		p + "meter2/power":    "-1500",
		p + "meter1/status":   "online",
		p + "meter2/status":   "online",
		p + "status":          "online",
	}
	for topic, payload := range want {
		brokertest.Eventually(t, 10*time.Second, func() bool { return c.last(topic) == payload }, topic+" = "+payload+"\n"+c.dump())
	}
	var topics []string
	for topic := range want {
		topics = append(topics, topic)
	}
	slices.Sort(topics)
	if got := c.topics(p); !slices.Equal(got, topics) {
		t.Errorf("topics\ngot  %q\nwant %q", got, topics)
	}
	for _, v := range c.all(p + "meter1/temp") {
		if v != "23.15" {
			t.Errorf("temp published %q", v) // never 23.150000000000002
		}
	}

	// Writes through /set land in the simulator's tables, and the value
	// read back is published.
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("modbus-test-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	set := func(field, payload string) {
		t.Helper()
		if tok := pub.Publish(p+field+"/set", 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", field, tok.Error())
		}
	}
	set("meter1/relay", "ON")
	brokertest.Eventually(t, 5*time.Second, func() bool { return bus.sim.Coil(1, 0) }, "coil written")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"meter1/relay") == "1" }, "relay read back")
	set("meter1/setpoint", "21.5")
	brokertest.Eventually(t, 5*time.Second, func() bool { return bus.sim.HoldingRegisters(1, 20, 1)[0] == 215 }, "register written")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"meter1/setpoint") == "21.5" }, "setpoint read back")
	set("meter1/setpoint", "lots") // refused: counted, not written
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter("rs485", "commands_rejected") == 1 }, "bad payload counted\n"+c.dump())
	if got := bus.sim.HoldingRegisters(1, 20, 1)[0]; got != 215 {
		t.Errorf("register %d after a refused payload", got)
	}

	// A slave that stops answering goes offline alone; the other keeps
	// being polled and the bus stays online.
	bus.sim.SetSilent(2, true)
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"meter2/status") == "offline" }, "meter2 offline")
	bus.sim.SetInputRegisters(1, 4, 2400)
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"meter1/temp") == "24.00" }, "meter1 still polled")
	if got := c.last(p + "meter1/status"); got != "online" {
		t.Errorf("meter1 status %q while meter2 is silent", got)
	}
	bus.sim.SetInputRegisters(2, 0, encodeRegs(t, 750, modbus.Int32, modbus.CDAB)...)
	bus.sim.SetSilent(2, false)
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"meter2/status") == "online" }, "meter2 online again")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"meter2/power") == "750" }, "meter2 publishes again")
	if st := c.all(p + "status"); slices.Contains(st[slices.Index(st, "online"):], "offline") {
		t.Errorf("bus status %q: it must stay online while a slave is silent", st)
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter("rs485", "polls") > 0 }, "polls counted")

	// The bus is unplugged: it and its slaves go offline; plugged in
	// again, everything comes back.
	bus.stop()
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last(p+"status") == "offline" }, "bus offline after the unplug\n"+c.dump())
	brokertest.Eventually(t, 5*time.Second, func() bool {
		return c.last(p+"meter1/status") == "offline" && c.last(p+"meter2/status") == "offline"
	}, "slaves offline with the bus")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter("rs485", "failures") >= 1 }, "failure counted")
	bus = plugModbus(t, link, 1, 2)
	fillMeters(t, bus.sim)
	bus.sim.SetInputRegisters(1, 4, 2500)
	brokertest.Eventually(t, 10*time.Second, func() bool {
		return c.last(p+"status") == "online" && c.last(p+"meter1/status") == "online" && c.last(p+"meter1/temp") == "25.00"
	}, "back online after the replug\n"+c.dump())
}

func TestDevicesModbusConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	y := `devices:
  - id: bus
    type: modbus
    port: /dev/ttyUSB0
    slaves:
      - id: 1
        name: m
        points:
          - {name: v, table: input, address: 0, type: float32, writable: true}
          - {name: v, table: holding, address: 70000, scale: 0}
`
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runBinary(t, "check-config", cfg)
	for _, want := range []string{
		"bad.yaml:9: devices[0].slaves[0].points[0].writable: an input register is read-only",
		`bad.yaml:10: devices[0].slaves[0].points[1].name: duplicate point name "v" in slave m`,
		"bad.yaml:10: devices[0].slaves[0].points[1].address: must be between 0 and 65535 for uint16, got 70000",
		"bad.yaml:10: devices[0].slaves[0].points[1].scale: must be a finite number other than 0, got 0",
	} {
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("check-config: %v; output lacks %q:\n%s", err, want, out)
		}
	}
}
