package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/internal/config"
)

// mqttPublisher returns a function that publishes with QoS 1 through a
// paho client connected to addr.
func mqttPublisher(t *testing.T, addr string) func(topic, payload string) {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("gpio-test-pub-%d", collectors.Add(1)))
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return func(topic, payload string) {
		t.Helper()
		if tok := cl.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
}

const simGPIOConfig = `gateway: {id: gw}
broker:
  listeners:
    - {type: tcp, address: %q}
  sys_interval: 1s
storage: {dir: %q}
hardware: simulated
simulation:
  i2c:
    - bus: "1"
      address: 0x76
      registers:
        0xD0: [0x60]
        0x88: [0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27,
               0x0b, 0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b]
        0xE1: [0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e]
        0xF3: [0x00]
        0xF7: [0x63, 0x9d, 0x40, 0x7c, 0x22, 0x00, 0x6e, 0x35]
devices:
  - {id: door, type: gpio_in, pin: GPIO17, pull: down, debounce: 100ms}
  - {id: meter, type: gpio_counter, pin: GPIO27, pulses_per_unit: 1000, unit: kWh, debounce: 0s}
  - {id: pump, type: gpio_out, pin: GPIO22, active_low: true}
  - {id: climate, type: i2c, chip: bme280, bus: "1", address: 0x76, interval: 1s}
homeassistant: {discovery: true}
`

// TestGPIOSimulatedEndToEnd drives the finished binary's GPIO and I2C
// adapters through the simulated hardware, over MQTT only.
func TestGPIOSimulatedEndToEnd(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(simGPIOConfig, addr, filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/#", "homeassistant/#", "$SYS/broker/devices/#")
	pub := mqttPublisher(t, addr)
	wait := func(cond func() bool, msg string) {
		t.Helper()
		brokertest.Eventually(t, 10*time.Second, cond, msg+"\n"+c.dump())
	}
	const sim = "edgemq/gw/sim/gpio/"

	// At start: every state is published, the relay's pin is driven.
	wait(func() bool { return c.last("edgemq/gw/door/state") == "OFF" }, "door OFF at start")
	wait(func() bool { return c.last("edgemq/gw/pump/state") == "OFF" }, "pump OFF at start")
	wait(func() bool { return c.last(sim+"GPIO22") == "1" }, "pump pin high (OFF, active low)")
	wait(func() bool { return c.last("edgemq/gw/meter/count") == "0" }, "meter count 0")
	wait(func() bool { return c.last("edgemq/gw/climate/temperature") == "21.50" }, "BME280 temperature")
	wait(func() bool {
		return c.last("edgemq/gw/climate/humidity") == "45.00" && c.last("edgemq/gw/climate/pressure") == "1013.25"
	}, "BME280 humidity 45.00 and pressure 1013.25")

	// A burst of bounces is one change.
	for _, l := range []string{"1", "0", "1", "0", "1", "0", "1"} {
		pub(sim+"GPIO17/set", l)
	}
	wait(func() bool { return c.last("edgemq/gw/door/state") == "ON" }, "door ON")
	time.Sleep(300 * time.Millisecond) // room for a wrong second change
	if got := c.all("edgemq/gw/door/state"); strings.Join(got, " ") != "OFF ON" {
		t.Errorf("door states %q, want exactly OFF ON", got)
	}

	// 7 pulses give count 7.
	pulses := func(n int) {
		for range n {
			pub(sim+"GPIO27/set", "0")
			pub(sim+"GPIO27/set", "1")
		}
	}
	pulses(7)
	wait(func() bool { return c.last("edgemq/gw/meter/count") == "7" }, "count 7")
	// total follows count in its own message.
	wait(func() bool { return c.last("edgemq/gw/meter/total") == "0.007" }, "total 0.007 (kWh at 1000 pulses per unit)")

	// The relay obeys ON, OFF and TOGGLE (active low), and echoes them.
	pub("edgemq/gw/pump/state/set", "ON")
	wait(func() bool { return c.last(sim+"GPIO22") == "0" && c.last("edgemq/gw/pump/state") == "ON" }, "pump ON, pin low")
	pub("edgemq/gw/pump/state/set", "TOGGLE")
	wait(func() bool { return c.last(sim+"GPIO22") == "1" && c.last("edgemq/gw/pump/state") == "OFF" }, "pump toggled OFF")
	before := len(c.all(sim + "GPIO22"))
	pub("edgemq/gw/pump/state/set", "BANANA")
	wait(func() bool { return c.counter("pump", "commands_rejected") == 1 }, "bad command counted")
	if got := c.all(sim + "GPIO22"); len(got) != before || c.last("edgemq/gw/pump/state") != "OFF" {
		t.Errorf("a bad command changed the pump: pin %q, state %q", got, c.last("edgemq/gw/pump/state"))
	}

	// Home Assistant discovery: each entity's config, again on "online".
	for _, topic := range []string{
		"homeassistant/binary_sensor/edgemq_gw_door_state/config",
		"homeassistant/switch/edgemq_gw_pump_state/config",
		"homeassistant/sensor/edgemq_gw_meter_total/config",
		"homeassistant/sensor/edgemq_gw_climate_temperature/config",
		"homeassistant/sensor/edgemq_gw_climate_pressure/config",
	} {
		wait(func() bool { return c.last(topic) != "" }, topic)
	}
	var sw map[string]any
	if err := json.Unmarshal([]byte(c.last("homeassistant/switch/edgemq_gw_pump_state/config")), &sw); err != nil {
		t.Fatal(err)
	}
	if sw["command_topic"] != "edgemq/gw/pump/state/set" || sw["state_topic"] != "edgemq/gw/pump/state" ||
		sw["availability_topic"] != "edgemq/gw/pump/status" {
		t.Errorf("switch config %v", sw)
	}
	var total map[string]any
	json.Unmarshal([]byte(c.last("homeassistant/sensor/edgemq_gw_meter_total/config")), &total)
	if total["unit_of_measurement"] != "kWh" || total["device_class"] != "energy" {
		t.Errorf("meter total config %v", total)
	}
	n := len(c.all("homeassistant/switch/edgemq_gw_pump_state/config"))
	pub("homeassistant/status", "online")
	wait(func() bool { return len(c.all("homeassistant/switch/edgemq_gw_pump_state/config")) > n }, "republished on online")

	// A power cut: the count survives, the next pulse gives 8.
	g.stop(t, syscall.SIGKILL)
	startGateway(t, cfg, addr)
	c2 := subscribeAll(t, addr, "edgemq/#")
	pub2 := mqttPublisher(t, addr)
	brokertest.Eventually(t, 10*time.Second, func() bool { return c2.last("edgemq/gw/meter/count") == "7" }, "count 7 after restart\n"+c2.dump())
	pub2(sim+"GPIO27/set", "0")
	pub2(sim+"GPIO27/set", "1")
	brokertest.Eventually(t, 10*time.Second, func() bool { return c2.last("edgemq/gw/meter/count") == "8" }, "count 8\n"+c2.dump())
}

// TestDemoConfig runs the configuration `make run` uses (on a free port):
// its simulated devices publish at once.
func TestDemoConfig(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "demo.yaml")
	yaml := string(config.DemoYAML()) + fmt.Sprintf("gateway: {id: demo}\nbroker: {listeners: [{type: tcp, address: %q}]}\nstorage: {dir: %q}\n",
		addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/#", "homeassistant/#")
	pub := mqttPublisher(t, addr)
	wait := func(cond func() bool, msg string) {
		t.Helper()
		brokertest.Eventually(t, 15*time.Second, cond, msg+"\n"+c.dump())
	}
	wait(func() bool { return c.last("edgemq/demo/climate/temperature") == "21.50" }, "the BME280's temperature")
	wait(func() bool { return c.last("edgemq/demo/button/state") == "OFF" }, "the button")
	pub("edgemq/demo/sim/gpio/GPIO17/set", "0")
	wait(func() bool { return c.last("edgemq/demo/button/state") == "ON" }, "the button pressed")
	pub("edgemq/demo/relay/state/set", "ON")
	wait(func() bool { return c.last("edgemq/demo/sim/gpio/GPIO22") == "1" }, "the relay's pin")
	wait(func() bool { return c.last("homeassistant/switch/edgemq_demo_relay_state/config") != "" }, "discovery")
}

// TestGPIOWithoutHardware: on a machine without GPIO (this one, a
// laptop) a configured GPIO device is an error the gateway reports, not
// a crash; the rest runs.
func TestGPIOWithoutHardware(t *testing.T) {
	if _, err := os.Stat("/dev/gpiochip0"); err == nil {
		t.Skip("this machine has GPIO")
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: gw}
broker:
  listeners: [{type: tcp, address: %q}]
  sys_interval: 1s
storage: {dir: %q}
devices:
  - {id: door, type: gpio_in, pin: GPIO17}
`, addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/#", "$SYS/broker/devices/#")
	brokertest.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(c.last("$SYS/broker/devices/door/last_error"), "no GPIO")
	}, "the device's error\n"+c.dump())
	if got := c.last("edgemq/gw/door/status"); got != "offline" {
		t.Errorf("door status %q, want offline", got)
	}
	if !strings.Contains(g.log.String(), "hardware: simulated") {
		t.Errorf("the log does not say what to do:\n%s", g.log.String())
	}
}
