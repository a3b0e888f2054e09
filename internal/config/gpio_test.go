package config

import (
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/gpio"
)

func TestGPIODevicesParse(t *testing.T) {
	c, err := Parse("edgemq.yaml", []byte(`gateway: {id: gw}
hardware: simulated
simulation:
  i2c:
    - {bus: "1", address: 0x44, pointer_bytes: 2, registers: {0x2400: [0x62, 0x02, 0x6f, 0x66, 0x66, 0x93]}}
devices:
  - {id: door, type: gpio_in, pin: GPIO17, pull: down, active_low: true, debounce: 0s}
  - {id: meter, type: gpio_counter, pin: GPIO27, edge: rising, pulses_per_unit: 1000, unit: kWh, decimals: 2, interval: 1m}
  - {id: pump, type: gpio_out, pin: GPIO22, initial: "ON", auto_off: 15m, retain: false}
  - {id: air, type: i2c, chip: sht3x, bus: "1", address: 0x44}
  - {id: temps, type: onewire, sensors: [{id: 28-0316a2791cff, name: tank}]}
homeassistant: {discovery: true, prefix: ha}
`))
	if err != nil {
		t.Fatal(err)
	}
	door, meter, pump, air := c.Devices[0], c.Devices[1], c.Devices[2], c.Devices[3]
	if got := door.GPIOInConfig(); got != (gpio.InConfig{Pin: "GPIO17", Pull: "down", ActiveLow: true, Debounce: -1}) {
		t.Errorf("door: %+v (debounce 0s must mean none: -1)", got)
	}
	if got := meter.GPIOCounterConfig(); got.PulsesPerUnit != 1000 || got.Edge != "rising" || *got.Decimals != 2 ||
		got.Interval != time.Minute || got.Debounce != 0 {
		t.Errorf("meter: %+v (unset debounce must mean the default: 0)", got)
	}
	if got := pump.GPIOOutConfig(); got != (gpio.OutConfig{Pin: "GPIO22", Initial: "ON", AutoOff: 15 * time.Minute}) {
		t.Errorf("pump: %+v", got)
	}
	if !door.Retained() || !meter.Retained() || pump.Retained() || air.Retained() {
		t.Errorf("retained: door %v meter %v pump %v air %v; want GPIO states retained unless set false",
			door.Retained(), meter.Retained(), pump.Retained(), air.Retained())
	}
	if got := air.I2CConfig(); got.Chip != "sht3x" || got.Address != 0x44 || got.Bus != "1" {
		t.Errorf("air: %+v", got)
	}
	if got := c.Devices[4].OneWireConfig(); len(got.Sensors) != 1 || got.Sensors[0].Name != "tank" {
		t.Errorf("temps: %+v", got)
	}
	if !c.Simulated() || c.HomeAssistant.DiscoveryPrefix() != "ha" {
		t.Errorf("hardware %q, homeassistant %+v", c.Hardware, c.HomeAssistant)
	}
	if got := c.Simulation.I2C[0].Memory()[0x2400]; len(got) != 6 || got[2] != 0x6f {
		t.Errorf("memory at 0x2400: %x", got)
	}
}

func TestGPIODevicesValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"no pin", `devices:
  - {id: a, type: gpio_in}
`, []string{`edgemq.yaml:2: devices[0].pin: missing; the pin's name, e.g. GPIO17`}},
		{"bad pull and edge", `devices:
  - {id: a, type: gpio_counter, pin: GPIO4, pull: high, edge: up}
`, []string{
			`edgemq.yaml:2: devices[0].pull: want up, down, none, got "high"`,
			`edgemq.yaml:2: devices[0].edge: want rising, falling, both, got "up"`,
		}},
		{"negative debounce", `devices:
  - id: a
    type: gpio_in
    pin: GPIO4
    debounce: -5ms
`, []string{`edgemq.yaml:5: devices[0].debounce: duration must not be negative, got "-5ms"`}},
		{"key of another type", `devices:
  - id: a
    type: gpio_out
    pin: GPIO4
    port: /dev/ttyUSB0
    pull: up
`, []string{
			`edgemq.yaml:5: devices[0].port: does not apply to type gpio_out (only to serial, modbus)`,
			`edgemq.yaml:6: devices[0].pull: does not apply to type gpio_out (only to gpio_in, gpio_counter)`,
		}},
		{"bad initial", `devices:
  - {id: a, type: gpio_out, pin: GPIO4, initial: half}
`, []string{`edgemq.yaml:2: devices[0].initial: want ON or OFF, got "half"`}},
		{"bad chip", `devices:
  - {id: a, type: i2c, chip: bme680}
`, []string{`edgemq.yaml:2: devices[0].chip: `}},
		{"hardware typo", `hardware: simulate
`, []string{`edgemq.yaml:1: hardware: want host or simulated, got "simulate" (did you mean "simulated"?)`}},
		{"simulation without simulated", `simulation:
  i2c:
    - {address: 0x76, registers: {0xD0: [0x60]}}
`, []string{`edgemq.yaml:2: simulation: applies only with hardware: simulated`}},
		{"bad chips", `hardware: simulated
simulation:
  i2c:
    - {address: 200, registers: {0xD0: [0x60]}}
    - address: 0x76
      registers:
        0x1FF: [1]
        0xFF: [1, 2]
        0x10: [256]
        0x20: []
    - {address: 0x44, pointer_bytes: 3}
`, []string{
			`edgemq.yaml:4: simulation.i2c[0].address: must be a 7-bit address 1..127 (e.g. 0x76), got 200`,
			`edgemq.yaml:7: simulation.i2c[1].registers.0x1FF: register "0x1FF" is not a number below 0x100`,
			`edgemq.yaml:8: simulation.i2c[1].registers.0xFF: 2 bytes from 0xff run past the last register`,
			`edgemq.yaml:9: simulation.i2c[1].registers.0x10[0]: a byte is 0..255, got 256`,
			`edgemq.yaml:10: simulation.i2c[1].registers.0x20: needs at least one byte`,
			`edgemq.yaml:11: simulation.i2c[2].pointer_bytes: must be 1 or 2, got 3`,
		}},
		{"bad discovery prefix", `homeassistant: {discovery: true, prefix: "ha/#"}
`, []string{`edgemq.yaml:1: homeassistant.prefix: "ha/#" is not a valid topic prefix`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("edgemq.yaml", []byte(tt.yaml))
			want := strings.Join(tt.want, "\n")
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Parse:\ngot:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}
