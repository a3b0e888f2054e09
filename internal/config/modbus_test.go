package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/modbusdev"
)

func TestModbusParse(t *testing.T) {
	c, err := Parse("edgemq.yaml", []byte(`gateway: {id: gw1}
devices:
  - id: bus1
    type: modbus
    port: /dev/ttyUSB0
    interval: 2s
    retries: 0
    slaves:
      - id: 7
        name: meter1
        points:
          - {name: voltage, table: input, address: 0, type: float32, order: CDAB, scale: 1, decimals: 1, unit: V}
          - {name: temp, table: input, address: 2, type: int16, scale: 0.01, offset: -40}
          - {name: relay, table: coil, address: 0, writable: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Devices[0].ModbusConfig()
	want := modbusdev.Config{Port: "/dev/ttyUSB0", Interval: 2 * time.Second, Retries: ptr(0), Slaves: []modbusdev.Slave{
		{ID: 7, Name: "meter1", Points: []modbusdev.Point{
			{Name: "voltage", Table: "input", Type: "float32", Order: "CDAB", Scale: ptr(1.0), Decimals: ptr(1), Unit: "V"},
			{Name: "temp", Table: "input", Address: 2, Type: "int16", Scale: ptr(0.01), Offset: -40},
			{Name: "relay", Table: "coil", Writable: true},
		}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ModbusConfig:\ngot  %+v\nwant %+v", got, want)
	}
	if _, err := modbusdev.New(got); err != nil {
		t.Errorf("modbusdev.New: %v", err)
	}
}

func TestModbusValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"bus", `devices:
  - id: bus
    type: modbus
    baud: 74880
    stop_bits: 3
    interval: 1ms
    timeout: 1m
    retries: 11
`, []string{
			`edgemq.yaml:2: devices[0].port: missing; the serial device, e.g. /dev/serial/by-id/usb-...`,
			`edgemq.yaml:2: devices[0].slaves: missing; a modbus bus needs at least one slave: {id: 1, name: meter1, points: [...]}`,
			`edgemq.yaml:4: devices[0].baud: 74880 is not a baud rate the serial driver can set; nearest supported: 57600`,
			`edgemq.yaml:5: devices[0].stop_bits: must be 1 or 2, got 3`,
			`edgemq.yaml:6: devices[0].interval: must be at least 10ms (0: 10s), got 1ms`,
			`edgemq.yaml:7: devices[0].timeout: must be between 0 (default 1s) and 30s, got 1m0s`,
			`edgemq.yaml:8: devices[0].retries: must be between 0 and 10, got 11`,
		}},
		{"slaves", `devices:
  - id: bus
    type: modbus
    port: /dev/ttyUSB0
    slaves:
      - {id: 0, name: m1, points: [{name: a, table: coil}]}
      - id: 248
        name: status
        points: [{name: a, table: coil}]
      - {id: 3, name: m1}
      - {id: 3, name: m4, points: [{name: a, table: coil}]}
`, []string{
			`edgemq.yaml:6: devices[0].slaves[0].id: must be between 1 and 247, got 0`,
			`edgemq.yaml:7: devices[0].slaves[1].id: must be between 1 and 247, got 248`,
			`edgemq.yaml:8: devices[0].slaves[1].name: invalid slave name "status" (letters, digits, '_', '-', '.'; not status or time)`,
			`edgemq.yaml:10: devices[0].slaves[2].points: missing; a slave needs at least one point: {name: voltage, table: input, address: 0}`,
			`edgemq.yaml:10: devices[0].slaves[2].name: duplicate slave name "m1"`,
			`edgemq.yaml:11: devices[0].slaves[3].id: duplicate slave id 3`,
		}},
		{"points", `devices:
  - id: bus
    type: modbus
    port: /dev/ttyUSB0
    slaves:
      - id: 1
        name: m
        points:
          - {name: a, table: holdings}
          - {name: a, table: input, type: float64, order: ABDC}
          - {name: c, table: input, type: float32, address: 65535}
          - {name: d, table: holding, address: 70000}
          - {name: e, table: input, scale: 0, decimals: 13}
          - {name: f, table: discrete, writable: true}
          - {name: g, table: input, writable: true}
          - {name: h, table: coil, type: int16, order: CDAB, scale: 2, offset: 1}
`, []string{
			`edgemq.yaml:9: devices[0].slaves[0].points[0].table: unknown table "holdings"; known tables: coil, discrete, holding, input`,
			`edgemq.yaml:10: devices[0].slaves[0].points[1].name: duplicate point name "a" in slave m`,
			`edgemq.yaml:10: devices[0].slaves[0].points[1].type: unknown type "float64"; known types: bool, int16, uint16, int32, uint32, float32`,
			`edgemq.yaml:10: devices[0].slaves[0].points[1].order: unknown order "ABDC"; known orders: ABCD, CDAB, BADC, DCBA`,
			`edgemq.yaml:11: devices[0].slaves[0].points[2].address: must be between 0 and 65534 for float32, got 65535`,
			`edgemq.yaml:12: devices[0].slaves[0].points[3].address: must be between 0 and 65535 for uint16, got 70000`,
			`edgemq.yaml:13: devices[0].slaves[0].points[4].scale: must be a finite number other than 0, got 0`,
			`edgemq.yaml:13: devices[0].slaves[0].points[4].decimals: must be between 0 and 12, got 13`,
			`edgemq.yaml:14: devices[0].slaves[0].points[5].writable: a discrete input is read-only; only coil and holding points are writable`,
			`edgemq.yaml:15: devices[0].slaves[0].points[6].writable: an input register is read-only; only coil and holding points are writable`,
			`edgemq.yaml:16: devices[0].slaves[0].points[7].type: a coil is one bit: only bool, got int16`,
			`edgemq.yaml:16: devices[0].slaves[0].points[7].order: does not apply to table coil`,
			`edgemq.yaml:16: devices[0].slaves[0].points[7].scale: does not apply to bool points`,
			`edgemq.yaml:16: devices[0].slaves[0].points[7].offset: does not apply to bool points`,
		}},
		{"keys of the other type", `devices:
  - id: bus
    type: modbus
    port: /dev/ttyUSB0
    format: kv
    decimals: 2
    slaves: [{id: 1, name: m, points: [{name: a, table: coil}]}]
  - id: ser
    type: serial
    port: /dev/ttyUSB1
    interval: 1s
    slaves: [{id: 1, name: m, points: [{name: a, table: coil}]}]
`, []string{
			`edgemq.yaml:5: devices[0].format: does not apply to type modbus (only to serial)`,
			`edgemq.yaml:6: devices[0].decimals: does not apply to type modbus (only to serial, gpio_counter, onewire)`,
			`edgemq.yaml:11: devices[1].interval: does not apply to type serial (only to modbus, gpio_counter, i2c, onewire)`,
			`edgemq.yaml:12: devices[1].slaves: does not apply to type serial (only to modbus)`,
		}},
		{"unknown point key", `devices:
  - id: bus
    type: modbus
    port: /dev/ttyUSB0
    slaves: [{id: 1, name: m, points: [{name: a, table: coil, writeable: true}]}]
`, []string{`edgemq.yaml:5: devices[0].slaves[0].points[0].writeable: unknown key (did you mean "writable"?)`}},
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
