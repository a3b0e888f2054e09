package config

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// shownByAnyDevice reports whether a devices[0].key path is shown by
// some entry of the devices list: format-specific keys cannot all be set
// on one device.
func shownByAnyDevice(lines map[string]pos, path string) bool {
	rest, ok := strings.CutPrefix(path, "devices[0]")
	if !ok {
		return false
	}
	for i := 0; i < 16; i++ {
		if _, ok := lines["devices["+strconv.Itoa(i)+"]"+rest]; ok {
			return true
		}
	}
	return false
}

// exampleDevices are the devices of edgemq.example.yaml.
func exampleDevices() []Device {
	return []Device{
		{ID: "ard1", Type: "serial", Port: "/dev/serial/by-id/usb-Arduino_Uno_1234-if00", Baud: 115200,
			DataBits: 7, Parity: "even", StopBits: 2, LineEnding: "crlf", Format: "kv", Separator: ";",
			KVSeparator: ":", Decimals: ptr(1), MaxLine: KiB, Topic: "site-7/sensors/ard1", QoS: 1, Retain: ptr(true),
			Payload: "json", StaleAfter: Duration(time.Minute),
			Restart:  DeviceRestart{Min: Duration(2 * time.Second), Max: Duration(time.Minute)},
			Commands: []DeviceCommand{{Field: "relay", Template: "relay={value}"}}},
		{ID: "meter", Type: "serial", Port: "/dev/ttyUSB0", Format: "csv", Columns: []string{"voltage", "current", "-", "power"}},
		{ID: "raw1", Type: "serial", Port: "/dev/ttyACM0", Field: "line"},
		{ID: "scale", Type: "serial", Port: "/dev/ttyAMA0", Format: "regex", Pattern: `W=(?P<weight>-?[0-9.]+)kg`},
		{ID: "rs485", Type: "modbus", Port: "/dev/serial/by-id/usb-FTDI_USB-RS485_Cable_FT1234-if00-port0",
			Baud: 19200, Parity: "even", StopBits: 1, Interval: Duration(5 * time.Second),
			Timeout: Duration(300 * time.Millisecond), Retries: ptr(2),
			Slaves: []DeviceSlave{
				{ID: 1, Name: "grid", Points: []DevicePoint{
					{Name: "voltage", Table: "input", Address: 0, Type: "float32", Order: "ABCD", Scale: ptr(1.0),
						Decimals: ptr(1), Unit: "V"},
					{Name: "current", Table: "input", Address: 6, Type: "float32", Decimals: ptr(2), Unit: "A"},
					{Name: "power", Table: "input", Address: 12, Type: "float32", Decimals: ptr(0), Unit: "W"},
					{Name: "energy", Table: "input", Address: 342, Type: "float32", Decimals: ptr(2), Unit: "kWh"},
				}},
				{ID: 2, Name: "heatpump", Points: []DevicePoint{
					{Name: "power", Table: "holding", Address: 12, Type: "int32", Order: "CDAB", Scale: ptr(0.1), Unit: "W"},
					{Name: "energy", Table: "holding", Address: 14, Type: "uint32", Order: "CDAB", Scale: ptr(0.01), Unit: "kWh"},
				}},
				{ID: 10, Name: "relays", Points: []DevicePoint{
					{Name: "heatpump", Table: "coil", Address: 0, Writable: true},
					{Name: "door", Table: "discrete", Address: 0},
					{Name: "temp", Table: "input", Address: 0, Type: "int16", Scale: ptr(0.1), Offset: -40, Unit: "°C"},
					{Name: "setpoint", Table: "holding", Address: 100, Type: "int16", Scale: ptr(0.1), Writable: true},
				}},
			}},
		{ID: "door", Type: "gpio_in", Pin: "GPIO17", Pull: "down", ActiveLow: true, Debounce: ptr(Duration(100 * time.Millisecond))},
		{ID: "power", Type: "gpio_counter", Pin: "GPIO27", Edge: "rising", Debounce: ptr(Duration(20 * time.Millisecond)),
			PerUnit: 1000, Unit: "kWh", Decimals: ptr(2), Interval: Duration(time.Minute)},
		{ID: "pump", Type: "gpio_out", Pin: "GPIO22", ActiveLow: true, Initial: "ON", AutoOff: Duration(15 * time.Minute)},
		{ID: "air", Type: "i2c", Chip: "bme280", Bus: "1", Address: 0x77, Interval: Duration(30 * time.Second)},
		{ID: "tanks", Type: "onewire", Root: "/sys/bus/w1/devices", Sensors: []DeviceSensor{{ID: "28-0316a2791cff", Name: "tank"}}},
	}
}

func TestDevicesParse(t *testing.T) {
	c, err := Parse("edgemq.yaml", []byte(`gateway: {id: gw1}
devices:
  - {id: ard1, type: serial, port: /dev/ttyUSB0, format: kv, stale_after: 30s}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{{ID: "ard1", Type: "serial", Port: "/dev/ttyUSB0", Format: "kv", StaleAfter: Duration(30 * time.Second)}}
	if !reflect.DeepEqual(c.Devices, want) {
		t.Errorf("devices:\ngot  %+v\nwant %+v", c.Devices, want)
	}
	if got := c.Devices[0].DeviceTopic(c.Gateway.ID); got != "edgemq/gw1/ard1" {
		t.Errorf("DeviceTopic = %q", got)
	}
	sc := c.Devices[0].SerialConfig()
	if sc.Port != "/dev/ttyUSB0" || sc.Format != "kv" {
		t.Errorf("SerialConfig = %+v", sc)
	}
}

func TestDevicesValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown type", `devices:
  - {id: a, type: seriall, port: /dev/ttyS0}
`, []string{`edgemq.yaml:2: devices[0].type: unknown type "seriall" (did you mean "serial"?); known types: serial, modbus, gpio_in, gpio_counter, gpio_out, i2c, onewire`}},
		{"missing type", `devices:
  - {id: a, port: /dev/ttyS0}
`, []string{`edgemq.yaml:2: devices[0].type: missing; known types: serial, modbus, gpio_in, gpio_counter, gpio_out, i2c, onewire`}},
		{"missing port", `devices:
  - id: a
    type: serial
`, []string{`edgemq.yaml:2: devices[0].port: missing; the serial device, e.g. /dev/serial/by-id/usb-...`}},
		{"bad baud", `devices:
  - id: a
    type: serial
    port: /dev/ttyUSB0
    baud: 74880
`, []string{`edgemq.yaml:5: devices[0].baud: 74880 is not a baud rate the serial driver can set; nearest supported: 57600`}},
		{"250000", `devices:
  - {id: a, type: serial, port: /dev/ttyUSB0, baud: 250000}
`, []string{`edgemq.yaml:2: devices[0].baud: 250000 is not a baud rate the serial driver can set; nearest supported: 230400`}},
		{"bad regex", `devices:
  - id: a
    type: serial
    port: /dev/ttyUSB0
    format: regex
    pattern: "(?P<t>[0-9"
`, []string{"edgemq.yaml:6: devices[0].pattern: error parsing regexp: missing closing ]: `[0-9`"}},
		{"regex without names", `devices:
  - {id: a, type: serial, port: /dev/ttyUSB0, format: regex, pattern: "([0-9]+)"}
`, []string{`edgemq.yaml:2: devices[0].pattern: has no named group, e.g. (?P<temp>[0-9.]+)`}},
		{"csv without columns", `devices:
  - id: a
    type: serial
    port: /dev/ttyUSB0
    format: csv
`, []string{`edgemq.yaml:2: devices[0].columns: missing; the csv format needs the names of its columns`}},
		{"duplicate id", `devices:
  - {id: a, type: serial, port: /dev/ttyUSB0}
  - {id: a, type: serial, port: /dev/ttyUSB1}
`, []string{
			`edgemq.yaml:3: devices[1].topic: topic "edgemq/test-host/a" is already used by devices[0]`,
			`edgemq.yaml:3: devices[1].id: duplicate device id "a"`,
		}},
		{"key of another format", `devices:
  - id: a
    type: serial
    port: /dev/ttyUSB0
    format: kv
    columns: [x]
`, []string{`edgemq.yaml:6: devices[0].columns: does not apply to format kv`}},
		{"line settings", `devices:
  - id: a
    type: serial
    port: /dev/ttyUSB0
    data_bits: 9
    parity: mark
    stop_bits: 3
    line_ending: crcr
    format: nmeaa
    decimals: 13
`, []string{
			`edgemq.yaml:5: devices[0].data_bits: must be 5, 6, 7 or 8, got 9`,
			`edgemq.yaml:6: devices[0].parity: want none, odd or even, got "mark"`,
			`edgemq.yaml:7: devices[0].stop_bits: must be 1 or 2, got 3`,
			`edgemq.yaml:8: devices[0].line_ending: want lf, crlf or cr, got "crcr"`,
			`edgemq.yaml:9: devices[0].format: unknown format "nmeaa"; known formats: raw, kv, csv, json, regex, nmea`,
			`edgemq.yaml:10: devices[0].decimals: must be between 0 and 12, got 13`,
		}},
		{"common keys", `devices:
  - id: "a b"
    type: serial
    port: /dev/ttyUSB0
    topic: "x/#"
    qos: 3
    payload: jsn
    stale_after: -1s
    restart: {min: 10s, max: 1s}
`, []string{
			`edgemq.yaml:2: devices[0].id: may hold only letters, digits, '.', '_' and '-' (at most 64), got "a b"`,
			`edgemq.yaml:5: devices[0].topic: topic "x/#" has a wildcard or NUL`,
			`edgemq.yaml:6: devices[0].qos: must be 0, 1 or 2, got 3`,
			`edgemq.yaml:7: devices[0].payload: want value or json, got "jsn" (did you mean "json"?)`,
			`edgemq.yaml:8: devices[0].stale_after: duration must not be negative, got "-1s"`,
			`edgemq.yaml:9: devices[0].restart.max: must be 0 (default 30s) or at least restart.min, got 1s`,
		}},
		{"commands", `devices:
  - id: a
    type: serial
    port: /dev/ttyUSB0
    commands:
      - {field: status}
      - {field: relay}
      - {field: relay}
`, []string{
			`edgemq.yaml:6: devices[0].commands[0].field: invalid field name "status"`,
			`edgemq.yaml:8: devices[0].commands[2].field: duplicate command field "relay"`,
		}},
		{"unknown key", `devices:
  - {id: a, type: serial, port: /dev/ttyUSB0, bauds: 9600}
`, []string{`edgemq.yaml:2: devices[0].bauds: unknown key (did you mean "baud"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("edgemq.yaml", []byte(tt.yaml))
			want := strings.Join(tt.want, "\n")
			if err == nil || err.Error() != want {
				t.Errorf("Parse:\ngot:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}
