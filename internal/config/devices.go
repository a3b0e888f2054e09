package config

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/gpio"
	"github.com/edgemq/edgemq/devices/i2cdev"
	"github.com/edgemq/edgemq/devices/modbusdev"
	"github.com/edgemq/edgemq/devices/onewire"
	"github.com/edgemq/edgemq/devices/serial"
)

// Device is one device adapter (package devices). Keys other than the
// common ones belong to a type: a key set for a type it does not apply
// to is an error. Zero values take the defaults.
//
// Adding a type: add its keys here (under a comment naming the types
// they apply to, and the same in their `types` tag), the type to
// deviceTypes with a function that checks its keys, a case to the
// adapter factory in cmd/edgemq, and an example to default.yaml. A key
// set for a type not in its `types` tag is refused by validateDevices.
type Device struct {
	// ID names the device in topics, logs and $SYS; required, unique.
	ID string `yaml:"id"`
	// Type is the adapter: serial, modbus, gpio_in, gpio_counter,
	// gpio_out, i2c or onewire.
	Type string `yaml:"type"`
	// Topic is the prefix of the device's topics; empty:
	// edgemq/<gateway id>/<id>.
	Topic string `yaml:"topic"`
	// QoS (0, 1 or 2) and Retain of the readings; unset Retain: true for
	// the GPIO types (a state), false for the others.
	QoS    int   `yaml:"qos"`
	Retain *bool `yaml:"retain"`
	// Payload is "value" (default: one message per field on
	// <topic>/<field>) or "json" (one object per reading on <topic>).
	Payload string `yaml:"payload"`
	// StaleAfter marks the device offline when no valid reading arrived
	// for that long; 0: never.
	StaleAfter Duration `yaml:"stale_after"`
	// Restart bounds the back-off between restarts of a failed adapter.
	Restart DeviceRestart `yaml:"restart"`

	// serial and modbus: the serial line
	Port     string `yaml:"port" types:"serial,modbus"`
	Baud     int    `yaml:"baud" types:"serial,modbus"`      // 0: 9600
	DataBits int    `yaml:"data_bits" types:"serial,modbus"` // 0: 8
	Parity   string `yaml:"parity" types:"serial,modbus"`    // none (default), odd, even
	StopBits int    `yaml:"stop_bits" types:"serial,modbus"` // 0: 1 (never a silent 2)

	// serial
	LineEnding  string          `yaml:"line_ending" types:"serial"`  // lf (default), crlf, cr
	Format      string          `yaml:"format" types:"serial"`       // raw (default), kv, csv, json, regex, nmea
	Field       string          `yaml:"field" types:"serial"`        // raw: the field name; default raw
	Separator   string          `yaml:"separator" types:"serial"`    // kv and csv; default ","
	KVSeparator string          `yaml:"kv_separator" types:"serial"` // kv; default "="
	Columns     []string        `yaml:"columns" types:"serial"`      // csv: the names of the values
	Pattern     string          `yaml:"pattern" types:"serial"`      // regex: named groups become fields
	MaxLine     Size            `yaml:"max_line" types:"serial"`     // 0: 4KiB
	Commands    []DeviceCommand `yaml:"commands" types:"serial"`
	// serial: unset: as written in the line; gpio_counter: of total and
	// rate, unset: 3; onewire: unset: 3
	Decimals *int `yaml:"decimals" types:"serial,gpio_counter,onewire"`

	// modbus: one entry per RS-485 bus (see package devices/modbusdev)
	Timeout Duration      `yaml:"timeout" types:"modbus"` // per request; 0: 1s
	Retries *int          `yaml:"retries" types:"modbus"` // after a timeout; unset: 1
	Slaves  []DeviceSlave `yaml:"slaves" types:"modbus"`
	// modbus, i2c, onewire: the poll period, 0: 10s; gpio_counter: the
	// period of the rate, 0: 10s
	Interval Duration `yaml:"interval" types:"modbus,gpio_counter,i2c,onewire"`

	// gpio_in, gpio_counter, gpio_out (see package devices/gpio)
	Pin       string         `yaml:"pin" types:"gpio_in,gpio_counter,gpio_out"` // e.g. GPIO17
	Pull      string         `yaml:"pull" types:"gpio_in,gpio_counter"`         // up (default), down, none
	ActiveLow bool           `yaml:"active_low" types:"gpio_in,gpio_out"`       // ON is the low level
	Debounce  *Duration      `yaml:"debounce" types:"gpio_in,gpio_counter"`     // unset: 50ms (in), 10ms (counter); 0: none
	Edge      string         `yaml:"edge" types:"gpio_counter"`                 // falling (default), rising, both
	PerUnit   float64        `yaml:"pulses_per_unit" types:"gpio_counter"`      // 0: 1
	Unit      string         `yaml:"unit" types:"gpio_counter,i2c,onewire"`     // for dashboards and Home Assistant
	Initial   string         `yaml:"initial" types:"gpio_out"`                  // OFF (default) or ON; also the state on stop
	AutoOff   Duration       `yaml:"auto_off" types:"gpio_out"`                 // 0: never
	Bus       string         `yaml:"bus" types:"i2c"`                           // "1" or /dev/i2c-1; empty: the first bus
	Address   int            `yaml:"address" types:"i2c"`                       // 0: the chip's default
	Chip      string         `yaml:"chip" types:"i2c"`                          // bme280, sht3x
	Root      string         `yaml:"root" types:"onewire"`                      // default /sys/bus/w1/devices
	Sensors   []DeviceSensor `yaml:"sensors" types:"onewire"`                   // empty: every 28-* sensor found
}

// DeviceSensor is one 1-Wire sensor of a onewire device.
type DeviceSensor struct {
	ID   string `yaml:"id"`   // 28-0316a2791cff
	Name string `yaml:"name"` // in topics; empty: the id
}

// RetainOr returns Retain, or def when it is unset.
func (d Device) RetainOr(def bool) bool {
	if d.Retain == nil {
		return def
	}
	return *d.Retain
}

// Retained reports whether d's readings are retained: Retain, or by
// default true for the GPIO types.
func (d Device) Retained() bool {
	return d.RetainOr(strings.HasPrefix(d.Type, "gpio_"))
}

// debounce maps Debounce to the gpio packages' convention: unset 0
// (default), 0 negative (none).
func (d Device) debounce() time.Duration {
	switch {
	case d.Debounce == nil:
		return 0
	case *d.Debounce == 0:
		return -1
	}
	return d.Debounce.Duration()
}

// I2CConfig returns the configuration of an i2c device.
func (d Device) I2CConfig() i2cdev.Config {
	return i2cdev.Config{Bus: d.Bus, Address: uint16(d.Address), Chip: d.Chip, Interval: d.Interval.Duration()}
}

// OneWireConfig returns the configuration of a onewire device.
func (d Device) OneWireConfig() onewire.Config {
	c := onewire.Config{Root: d.Root, Interval: d.Interval.Duration(), Decimals: d.Decimals}
	for _, s := range d.Sensors {
		c.Sensors = append(c.Sensors, onewire.Sensor{ID: s.ID, Name: s.Name})
	}
	return c
}

// GPIOInConfig returns the configuration of a gpio_in device.
func (d Device) GPIOInConfig() gpio.InConfig {
	return gpio.InConfig{Pin: d.Pin, Pull: d.Pull, ActiveLow: d.ActiveLow, Debounce: d.debounce()}
}

// GPIOCounterConfig returns the configuration of a gpio_counter device.
func (d Device) GPIOCounterConfig() gpio.CounterConfig {
	return gpio.CounterConfig{Pin: d.Pin, Pull: d.Pull, Edge: d.Edge, Debounce: d.debounce(),
		PulsesPerUnit: d.PerUnit, Decimals: d.Decimals, Interval: d.Interval.Duration()}
}

// GPIOOutConfig returns the configuration of a gpio_out device.
func (d Device) GPIOOutConfig() gpio.OutConfig {
	return gpio.OutConfig{Pin: d.Pin, ActiveLow: d.ActiveLow, Initial: d.Initial, AutoOff: d.AutoOff.Duration()}
}

// DeviceSlave is one Modbus slave of a modbus bus: its points are
// published on <topic>/<name>/<point>, its status on
// <topic>/<name>/status.
type DeviceSlave struct {
	ID     int           `yaml:"id"` // 1..247
	Name   string        `yaml:"name"`
	Points []DevicePoint `yaml:"points"`
}

// DevicePoint is one value of a Modbus slave (see modbusdev.Point).
type DevicePoint struct {
	Name     string   `yaml:"name"`
	Table    string   `yaml:"table"`    // coil, discrete, holding, input
	Address  int      `yaml:"address"`  // 0..65535, protocol address
	Type     string   `yaml:"type"`     // bool, int16, uint16, int32, uint32, float32; default bool (bits) or uint16
	Order    string   `yaml:"order"`    // ABCD (default), CDAB, BADC, DCBA
	Scale    *float64 `yaml:"scale"`    // value = raw*scale + offset; unset: 1; 0 refused
	Offset   float64  `yaml:"offset"`   // default 0
	Decimals *int     `yaml:"decimals"` // unset: from scale and offset (float32: shortest)
	Unit     string   `yaml:"unit"`     // for dashboards; not in the payload
	Writable bool     `yaml:"writable"` // coil and holding only: <topic>/<slave>/<point>/set
}

// DeviceRestart bounds the restart back-off (exponential, jittered).
type DeviceRestart struct {
	Min Duration `yaml:"min"` // 0: 1s
	Max Duration `yaml:"max"` // 0: 30s
}

// DeviceCommand makes a field writable: a payload sent to
// <topic>/<field>/set is written to the port as Template with {value}
// replaced, then published on <topic>/<field>.
type DeviceCommand struct {
	Field    string `yaml:"field"`
	Template string `yaml:"template"` // empty: {value}
}

// DeviceTopic returns the topic prefix of d on gateway gatewayID.
func (d Device) DeviceTopic(gatewayID string) string {
	if d.Topic != "" {
		return d.Topic
	}
	return "edgemq/" + gatewayID + "/" + d.ID
}

// SerialConfig returns the serial adapter configuration of d (type
// serial).
func (d Device) SerialConfig() serial.Config {
	c := serial.Config{
		Port: d.Port, Baud: d.Baud, DataBits: d.DataBits, Parity: d.Parity, StopBits: d.StopBits,
		LineEnding: d.LineEnding, Format: d.Format, Field: d.Field, Separator: d.Separator,
		KVSeparator: d.KVSeparator, Columns: d.Columns, Pattern: d.Pattern, Decimals: d.Decimals,
		MaxLine: int(d.MaxLine),
	}
	for _, cmd := range d.Commands {
		c.Commands = append(c.Commands, serial.Command{Field: cmd.Field, Template: cmd.Template})
	}
	return c
}

// ModbusConfig returns the Modbus adapter configuration of d (type
// modbus).
func (d Device) ModbusConfig() modbusdev.Config {
	c := modbusdev.Config{
		Port: d.Port, Baud: d.Baud, DataBits: d.DataBits, Parity: d.Parity, StopBits: d.StopBits,
		Interval: d.Interval.Duration(), Timeout: d.Timeout.Duration(), Retries: d.Retries,
	}
	for _, s := range d.Slaves {
		ms := modbusdev.Slave{ID: s.ID, Name: s.Name}
		for _, p := range s.Points {
			ms.Points = append(ms.Points, modbusdev.Point{
				Name: p.Name, Table: p.Table, Address: p.Address, Type: p.Type, Order: p.Order,
				Scale: p.Scale, Offset: p.Offset, Decimals: p.Decimals, Unit: p.Unit, Writable: p.Writable,
			})
		}
		c.Slaves = append(c.Slaves, ms)
	}
	return c
}

// deviceTypes are the device types this version knows, each with the
// check of its own keys.
var deviceTypes = map[string]func(v *validator, path string, d *Device){
	"serial":       validateSerial,
	"modbus":       validateModbus,
	"gpio_in":      func(v *validator, path string, d *Device) { gpioProblems(v, path, d.GPIOInConfig().Check()) },
	"gpio_counter": func(v *validator, path string, d *Device) { gpioProblems(v, path, d.GPIOCounterConfig().Check()) },
	"gpio_out":     func(v *validator, path string, d *Device) { gpioProblems(v, path, d.GPIOOutConfig().Check()) },
	"i2c": func(v *validator, path string, d *Device) {
		for _, p := range d.I2CConfig().Check() {
			v.errorf(path+"."+p.Key, "%s", p.Msg)
		}
	},
	"onewire": func(v *validator, path string, d *Device) {
		for _, p := range d.OneWireConfig().Check() {
			v.errorf(path+"."+p.Key, "%s", p.Msg)
		}
	},
}

// deviceTypeNames lists deviceTypes in a stable order for messages.
var deviceTypeNames = []string{"serial", "modbus", "gpio_in", "gpio_counter", "gpio_out", "i2c", "onewire"}

var payloadModes = []string{"value", "json"}

func validateDevices(v *validator, ds []Device, gatewayID string) {
	ids := make(map[string]bool)
	topics := make(map[string]string)
	for i := range ds {
		d := &ds[i]
		path := "devices[" + strconv.Itoa(i) + "]"
		switch {
		case d.ID == "":
			v.errorf(path+".id", "must not be empty")
		case !devices.ValidID(d.ID):
			v.errorf(path+".id", "may hold only letters, digits, '.', '_' and '-' (at most 64), got %q", d.ID)
		case ids[d.ID]:
			v.errorf(path+".id", "duplicate device id %q", d.ID)
		}
		ids[d.ID] = true
		if d.Topic != "" {
			if err := devices.ValidTopicPrefix(d.Topic); err != nil {
				v.errorf(path+".topic", "%v", err)
			}
		}
		if t := d.DeviceTopic(gatewayID); d.ID != "" {
			if other, ok := topics[t]; ok {
				v.errorf(path+".topic", "topic %q is already used by %s", t, other)
			}
			topics[t] = path
		}
		if d.QoS < 0 || d.QoS > 2 {
			v.errorf(path+".qos", "must be 0, 1 or 2, got %d", d.QoS)
		}
		if d.Payload != "" && !contains(payloadModes, d.Payload) {
			v.errorf(path+".payload", "want value or json, got %q%s", d.Payload, didYouMean(d.Payload, payloadModes))
		}
		if d.StaleAfter < 0 {
			v.errorf(path+".stale_after", "must not be negative, got %s", d.StaleAfter)
		}
		if d.Restart.Min < 0 {
			v.errorf(path+".restart.min", "must not be negative, got %s", d.Restart.Min)
		}
		if d.Restart.Max < 0 || (d.Restart.Max != 0 && d.Restart.Max < d.Restart.Min) {
			v.errorf(path+".restart.max", "must be 0 (default 30s) or at least restart.min, got %s", d.Restart.Max)
		}
		check, ok := deviceTypes[d.Type]
		switch {
		case d.Type == "":
			v.errorf(path+".type", "missing; known types: %s", strings.Join(deviceTypeNames, ", "))
		case !ok:
			v.errorf(path+".type", "unknown type %q%s; known types: %s", d.Type, didYouMean(d.Type, deviceTypeNames), strings.Join(deviceTypeNames, ", "))
		default:
			check(v, path, d)
			notForType(v, path, d)
		}
	}
}

func gpioProblems(v *validator, path string, ps []gpio.Problem) {
	for _, p := range ps {
		v.errorf(path+"."+p.Key, "%s", p.Msg)
	}
}

// validateSerial checks the keys of a serial device (package
// devices/serial does the checking) and refuses modbus keys.
func validateSerial(v *validator, path string, d *Device) {
	for _, p := range d.SerialConfig().Check() {
		v.errorf(path+"."+p.Key, "%s", p.Msg)
	}
}

// validateModbus checks the keys of a modbus bus (package
// devices/modbusdev does the checking) and refuses serial-only keys.
func validateModbus(v *validator, path string, d *Device) {
	for _, p := range d.ModbusConfig().Check() {
		v.errorf(path+"."+p.Key, "%s", p.Msg)
	}
}

// notForType reports the keys that are set but do not apply to d's
// type: those whose `types` tag does not name it.
func notForType(v *validator, path string, d *Device) {
	rv := reflect.ValueOf(d).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		types, ok := f.Tag.Lookup("types")
		if !ok || rv.Field(i).IsZero() {
			continue
		}
		if !slices.Contains(strings.Split(types, ","), d.Type) {
			v.errorf(path+"."+f.Tag.Get("yaml"), "does not apply to type %s (only to %s)", d.Type, strings.ReplaceAll(types, ",", ", "))
		}
	}
}
