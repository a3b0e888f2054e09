package modbusdev

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/serial"
)

// Defaults of Config.
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = time.Second
	DefaultRetries  = 1
)

// Limits of Config.
const (
	MinInterval = 10 * time.Millisecond
	MaxTimeout  = 30 * time.Second
	MaxRetries  = 10
	MaxUnit     = 32 // bytes
)

// portReadTimeout is the read timeout of a port opened with OpenTarm:
// tarm/serial's smallest (it rounds to 0.1 s). The Modbus client keeps
// its own deadline across reads, so this only bounds how late it notices
// a timeout or a cancelled context.
const portReadTimeout = 100 * time.Millisecond

// Tables, Types and Orders are the values of Point.Table, Point.Type and
// Point.Order.
var (
	Tables = []string{"coil", "discrete", "holding", "input"}
	Types  = []string{"bool", "int16", "uint16", "int32", "uint32", "float32"}
	Orders = []string{"ABCD", "CDAB", "BADC", "DCBA"}
)

// Port is an open serial port, as serial.Port. It may also implement
// Flush, SetReadDeadline and SetWriteDeadline (used by the Modbus
// client, see modbus.Port) and Present() error (checked after every
// poll cycle, see serial.OpenTarm).
type Port interface {
	io.ReadWriteCloser
}

// Config configures the adapter of one RS-485 bus: its serial line, its
// poll schedule and the slaves on it. Zero values take the defaults.
type Config struct {
	// Port is the device path; prefer a stable /dev/serial/by-id/ name.
	Port string
	// Baud rate; 0: 9600. Must be one of serial.Bauds.
	Baud int
	// DataBits 5..8; 0: 8.
	DataBits int
	// Parity "none" (or ""), "odd" or "even".
	Parity string
	// StopBits 1 or 2; 0: 1. (A common Go Modbus client silently uses 2
	// when none is set; here the default is 1, as the serial adapter's.)
	StopBits int
	// Interval is the poll period: every slave is read once per
	// interval; 0: DefaultInterval.
	Interval time.Duration
	// Timeout bounds each request, from sending it to the last byte of
	// the response; 0: DefaultTimeout.
	Timeout time.Duration
	// Retries is how often a request that timed out (or whose response
	// was garbled) is sent again; nil: DefaultRetries. A slave that is
	// offline gets one attempt per cycle, so that a silent slave costs
	// the others at most Timeout per cycle.
	Retries *int
	// Slaves on the bus; at least one.
	Slaves []Slave
	// Open opens the port; nil: OpenTarm.
	Open func(Config) (Port, error)
}

// Slave is one Modbus slave (an energy meter) on the bus.
type Slave struct {
	// ID is the slave address, 1..247.
	ID int
	// Name is the slave's topic level: its points are published on
	// <topic>/<name>/<point>, its status on <topic>/<name>/status.
	Name string
	// Points are the values read from the slave; at least one.
	Points []Point
}

// Point is one value of a slave.
type Point struct {
	// Name is the point's topic level under its slave.
	Name string
	// Table is one of Tables: coil (read/write bits), discrete (read-only
	// bits), holding (read/write registers) or input (read-only
	// registers).
	Table string
	// Address is the protocol address, 0..65535 (register 40001 of the
	// "Modicon" notation is holding address 0).
	Address int
	// Type is one of Types; "": bool for coil and discrete, uint16 for
	// holding and input. Bit tables take only bool.
	Type string
	// Order is the word and byte order of a register value, one of
	// Orders (see modbus.Order); "": ABCD. Not for bit tables.
	Order string
	// Scale and Offset turn the raw value into the published one:
	// value = raw*Scale + Offset. nil Scale: 1; an explicit 0 is refused.
	// Not for bool points.
	Scale  *float64
	Offset float64
	// Decimals of the published number; nil: 0 for bool and integer
	// types without scale or offset, as many as Scale and Offset have
	// (scale 0.01: 2) otherwise, and for float32 the shortest text of the
	// float32 result (230.1, never 230.10000610351562).
	Decimals *int
	// Unit of the value ("V", "kWh"); documentation for dashboards, not
	// published with the value.
	Unit string
	// Writable makes the point settable on <topic>/<slave>/<point>/set:
	// coils take ON, OFF, 1, 0, true or false, holding registers a number
	// (Scale and Offset reversed, range-checked). Only coil and holding.
	Writable bool
}

// withDefaults returns c with its zero values replaced.
func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Retries == nil {
		r := DefaultRetries
		c.Retries = &r
	}
	if c.Open == nil {
		c.Open = OpenTarm
	}
	return c
}

// serialConfig is the serial line part of c.
func (c Config) serialConfig() serial.Config {
	return serial.Config{Port: c.Port, Baud: c.Baud, DataBits: c.DataBits, Parity: c.Parity, StopBits: c.StopBits,
		ReadTimeout: portReadTimeout}
}

// OpenTarm opens c.Port with github.com/tarm/serial (serial.OpenTarm),
// with c's line settings (default 9600 8N1: one stop bit) and a short
// read timeout.
func OpenTarm(c Config) (Port, error) {
	return serial.OpenTarm(c.serialConfig())
}

// Problem is one thing wrong with a Config: Key is its configuration key
// (as in the devices section: "baud", "slaves[0].points[1].table").
type Problem struct {
	Key string
	Msg string
}

// Check returns what is wrong with c, key by key.
func (c Config) Check() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{key, fmt.Sprintf(format, args...)})
	}
	for _, p := range c.serialConfig().Check() { // port, baud, data_bits, parity, stop_bits
		add(p.Key, "%s", p.Msg)
	}
	if c.Interval < 0 || c.Interval > 0 && c.Interval < MinInterval {
		add("interval", "must be at least %v (0: %v), got %v", MinInterval, DefaultInterval, c.Interval)
	}
	if c.Timeout < 0 || c.Timeout > MaxTimeout {
		add("timeout", "must be between 0 (default %v) and %v, got %v", DefaultTimeout, MaxTimeout, c.Timeout)
	}
	if c.Retries != nil && (*c.Retries < 0 || *c.Retries > MaxRetries) {
		add("retries", "must be between 0 and %d, got %d", MaxRetries, *c.Retries)
	}
	if len(c.Slaves) == 0 {
		add("slaves", "missing; a modbus bus needs at least one slave: {id: 1, name: meter1, points: [...]}")
	}
	ids := map[int]bool{}
	names := map[string]bool{}
	for i, s := range c.Slaves {
		key := "slaves[" + strconv.Itoa(i) + "]"
		switch {
		case s.ID < 1 || s.ID > modbus.MaxSlaveID:
			add(key+".id", "must be between 1 and %d, got %d", modbus.MaxSlaveID, s.ID)
		case ids[s.ID]:
			add(key+".id", "duplicate slave id %d", s.ID)
		}
		ids[s.ID] = true
		switch {
		case !devices.ValidFieldName(s.Name):
			add(key+".name", "invalid slave name %q (letters, digits, '_', '-', '.'; not status or time)", s.Name)
		case names[s.Name]:
			add(key+".name", "duplicate slave name %q", s.Name)
		}
		names[s.Name] = true
		if len(s.Points) == 0 {
			add(key+".points", "missing; a slave needs at least one point: {name: voltage, table: input, address: 0}")
		}
		pnames := map[string]bool{}
		for j, p := range s.Points {
			pkey := key + ".points[" + strconv.Itoa(j) + "]"
			switch {
			case !devices.ValidFieldName(p.Name):
				add(pkey+".name", "invalid point name %q (letters, digits, '_', '-', '.'; not status or time)", p.Name)
			case pnames[p.Name]:
				add(pkey+".name", "duplicate point name %q in slave %s", p.Name, s.Name)
			}
			pnames[p.Name] = true
			for _, pr := range p.check() {
				add(pkey+"."+pr.Key, "%s", pr.Msg)
			}
		}
	}
	return ps
}

// check returns the problems of p's own keys.
func (p Point) check() []Problem {
	var ps []Problem
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{key, fmt.Sprintf(format, args...)})
	}
	bits := p.Table == "coil" || p.Table == "discrete"
	switch {
	case p.Table == "":
		add("table", "missing; one of %s", strings.Join(Tables, ", "))
	case !slices.Contains(Tables, p.Table):
		add("table", "unknown table %q; known tables: %s", p.Table, strings.Join(Tables, ", "))
	}
	typ := p.dataType()
	switch {
	case p.Type != "" && !slices.Contains(Types, p.Type):
		add("type", "unknown type %q; known types: %s", p.Type, strings.Join(Types, ", "))
	case bits && p.Type != "" && p.Type != "bool":
		add("type", "%s is one bit: only bool, got %s", tableNames[p.Table], p.Type)
	}
	switch {
	case p.Order != "" && !slices.Contains(Orders, p.Order):
		add("order", "unknown order %q; known orders: %s", p.Order, strings.Join(Orders, ", "))
	case bits && p.Order != "":
		add("order", "does not apply to table %s", p.Table)
	}
	if n := max(typ.Registers(), 1); p.Address < 0 || p.Address+n-1 > 0xFFFF {
		add("address", "must be between 0 and %d for %s, got %d", 0x10000-n, typ, p.Address)
	}
	isBool := bits || typ == modbus.Bool
	if p.Scale != nil {
		switch {
		case isBool:
			add("scale", "does not apply to bool points")
		case *p.Scale == 0 || math.IsNaN(*p.Scale) || math.IsInf(*p.Scale, 0):
			add("scale", "must be a finite number other than 0, got %v", *p.Scale)
		}
	}
	switch {
	case p.Offset != 0 && isBool:
		add("offset", "does not apply to bool points")
	case math.IsNaN(p.Offset) || math.IsInf(p.Offset, 0):
		add("offset", "must be a finite number, got %v", p.Offset)
	}
	if p.Decimals != nil {
		switch {
		case isBool:
			add("decimals", "does not apply to bool points")
		case *p.Decimals < 0 || *p.Decimals > devices.MaxDecimals:
			add("decimals", "must be between 0 and %d, got %d", devices.MaxDecimals, *p.Decimals)
		}
	}
	if len(p.Unit) > MaxUnit || strings.ContainsFunc(p.Unit, func(r rune) bool { return !unicode.IsPrint(r) }) {
		add("unit", "must be at most %d printable bytes, got %q", MaxUnit, p.Unit)
	}
	if p.Writable && (p.Table == "discrete" || p.Table == "input") {
		add("writable", "%s is read-only; only coil and holding points are writable", tableNames[p.Table])
	}
	return ps
}

var tableNames = map[string]string{
	"coil": "a coil", "discrete": "a discrete input", "holding": "a holding register", "input": "an input register",
}

// dataType returns p's type with its default; 0 if unknown.
func (p Point) dataType() modbus.DataType {
	name := p.Type
	if name == "" {
		name = "uint16"
		if p.Table == "coil" || p.Table == "discrete" {
			name = "bool"
		}
	}
	t, err := modbus.ParseDataType(name)
	if err != nil {
		return 0
	}
	return t
}

// Validate returns c's problems as one error, or nil.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Check() {
		errs = append(errs, fmt.Errorf("modbus: %s: %s", p.Key, p.Msg))
	}
	return errors.Join(errs...)
}
