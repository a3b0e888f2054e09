package config

import (
	"slices"
	"strconv"
	"strings"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/modbusdev"
	"github.com/edgemq/edgemq/devices/serial"
)

// Device is one device adapter (package devices). Keys other than the
// common ones belong to a type: a key set for a type it does not apply
// to is an error. Zero values take the defaults.
//
// Adding a type: add its keys here (under a comment naming the type),
// the type to deviceTypes with a function that checks its keys and
// refuses the others' (see validateSerial), a case to the adapter
// factory in cmd/edgemq, and an example to default.yaml.
type Device struct {
	// ID names the device in topics, logs and $SYS; required, unique.
	ID string `yaml:"id"`
	// Type is the adapter: serial or modbus.
	Type string `yaml:"type"`
	// Topic is the prefix of the device's topics; empty:
	// edgemq/<gateway id>/<id>.
	Topic string `yaml:"topic"`
	// QoS (0, 1 or 2) and Retain of the readings.
	QoS    int  `yaml:"qos"`
	Retain bool `yaml:"retain"`
	// Payload is "value" (default: one message per field on
	// <topic>/<field>) or "json" (one object per reading on <topic>).
	Payload string `yaml:"payload"`
	// StaleAfter marks the device offline when no valid reading arrived
	// for that long; 0: never.
	StaleAfter Duration `yaml:"stale_after"`
	// Restart bounds the back-off between restarts of a failed adapter.
	Restart DeviceRestart `yaml:"restart"`

	// serial and modbus: the serial line
	Port     string `yaml:"port"`
	Baud     int    `yaml:"baud"`      // 0: 9600
	DataBits int    `yaml:"data_bits"` // 0: 8
	Parity   string `yaml:"parity"`    // none (default), odd, even
	StopBits int    `yaml:"stop_bits"` // 0: 1 (never a silent 2)

	// serial
	LineEnding  string          `yaml:"line_ending"`  // lf (default), crlf, cr
	Format      string          `yaml:"format"`       // raw (default), kv, csv, json, regex, nmea
	Field       string          `yaml:"field"`        // raw: the field name; default raw
	Separator   string          `yaml:"separator"`    // kv and csv; default ","
	KVSeparator string          `yaml:"kv_separator"` // kv; default "="
	Columns     []string        `yaml:"columns"`      // csv: the names of the values
	Pattern     string          `yaml:"pattern"`      // regex: named groups become fields
	Decimals    *int            `yaml:"decimals"`     // unset: as written in the line
	MaxLine     Size            `yaml:"max_line"`     // 0: 4KiB
	Commands    []DeviceCommand `yaml:"commands"`

	// modbus: one entry per RS-485 bus (see package devices/modbusdev)
	Interval Duration      `yaml:"interval"` // poll period; 0: 10s
	Timeout  Duration      `yaml:"timeout"`  // per request; 0: 1s
	Retries  *int          `yaml:"retries"`  // after a timeout; unset: 1
	Slaves   []DeviceSlave `yaml:"slaves"`
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
	"serial": validateSerial,
	"modbus": validateModbus,
}

// deviceTypeNames lists deviceTypes in a stable order for messages.
var deviceTypeNames = []string{"serial", "modbus"}

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
		}
	}
}

// validateSerial checks the keys of a serial device (package
// devices/serial does the checking) and refuses modbus keys.
func validateSerial(v *validator, path string, d *Device) {
	for _, p := range d.SerialConfig().Check() {
		v.errorf(path+"."+p.Key, "%s", p.Msg)
	}
	notForType(v, path, d.Type, map[string]bool{
		"interval": d.Interval != 0, "timeout": d.Timeout != 0, "retries": d.Retries != nil, "slaves": len(d.Slaves) > 0,
	})
}

// validateModbus checks the keys of a modbus bus (package
// devices/modbusdev does the checking) and refuses serial-only keys.
func validateModbus(v *validator, path string, d *Device) {
	for _, p := range d.ModbusConfig().Check() {
		v.errorf(path+"."+p.Key, "%s", p.Msg)
	}
	notForType(v, path, d.Type, map[string]bool{
		"line_ending": d.LineEnding != "", "format": d.Format != "", "field": d.Field != "",
		"separator": d.Separator != "", "kv_separator": d.KVSeparator != "", "columns": len(d.Columns) > 0,
		"pattern": d.Pattern != "", "decimals": d.Decimals != nil, "max_line": d.MaxLine != 0,
		"commands": len(d.Commands) > 0,
	})
}

// notForType reports the keys that are set but belong to another type.
func notForType(v *validator, path, typ string, set map[string]bool) {
	keys := make([]string, 0, len(set))
	for k, ok := range set {
		if ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.errorf(path+"."+k, "does not apply to type %s", typ)
	}
}
