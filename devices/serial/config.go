package serial

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgemq/edgemq/devices"
)

// Defaults of Config.
const (
	DefaultBaud        = 9600
	DefaultMaxLine     = 4096
	DefaultReadTimeout = 500 * time.Millisecond
)

// Formats are the line formats the adapter parses.
var Formats = []string{"raw", "kv", "csv", "json", "regex", "nmea"}

// Bauds are the baud rates github.com/tarm/serial can set on Linux
// (74880 and 250000, for instance, are not among them).
var Bauds = []int{50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800,
	9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
	1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000}

// ValidBaud reports whether baud is in Bauds.
func ValidBaud(baud int) bool { return slices.Contains(Bauds, baud) }

// Config configures one serial adapter. Zero values take the defaults.
type Config struct {
	// Port is the device path; prefer a stable /dev/serial/by-id/ name.
	Port string
	// Baud rate; 0: DefaultBaud. Must be one of Bauds.
	Baud int
	// DataBits 5..8; 0: 8.
	DataBits int
	// Parity "none" (or ""), "odd" or "even".
	Parity string
	// StopBits 1 or 2; 0: 1.
	StopBits int
	// LineEnding "lf" (or ""), "crlf" or "cr": splits input lines and
	// ends the lines commands write.
	LineEnding string
	// Format is one of Formats; "": raw.
	Format string
	// Field names the value of the raw format; "": "raw".
	Field string
	// Separator between kv pairs and csv values; "": ",".
	Separator string
	// KVSeparator between a kv key and its value; "": "=".
	KVSeparator string
	// Columns name the csv values.
	Columns []string
	// Pattern is the regular expression of the regex format.
	Pattern string
	// Decimals, if set, is the number of decimals of every number; nil:
	// as written in the line.
	Decimals *int
	// MaxLine bounds a line in bytes; longer lines are skipped; 0:
	// DefaultMaxLine.
	MaxLine int
	// ReadTimeout bounds each read; 0: DefaultReadTimeout. tarm/serial
	// rounds it to 0.1 s.
	ReadTimeout time.Duration
	// Commands are the writable fields.
	Commands []Command
	// Open opens the port; nil: OpenTarm.
	Open func(Config) (Port, error)
}

// Command makes a field writable: a payload sent to <topic>/<field>/set
// is written to the port as Template with "{value}" replaced by the
// payload, followed by the line ending, and then published on
// <topic>/<field> as the new state.
type Command struct {
	Field    string
	Template string // "": "{value}"
}

// withDefaults returns c with its zero values replaced.
func (c Config) withDefaults() Config {
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.DataBits == 0 {
		c.DataBits = 8
	}
	if c.Parity == "" {
		c.Parity = "none"
	}
	if c.StopBits == 0 {
		c.StopBits = 1
	}
	if c.LineEnding == "" {
		c.LineEnding = "lf"
	}
	if c.Format == "" {
		c.Format = "raw"
	}
	if c.Field == "" {
		c.Field = "raw"
	}
	if c.Separator == "" {
		c.Separator = ","
	}
	if c.KVSeparator == "" {
		c.KVSeparator = "="
	}
	if c.MaxLine <= 0 {
		c.MaxLine = DefaultMaxLine
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.Open == nil {
		c.Open = OpenTarm
	}
	return c
}

// Problem is one thing wrong with a Config: Key is its configuration key
// (as in the devices section: "baud", "columns", "commands[1].field").
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
	d := c.withDefaults()
	if c.Port == "" {
		add("port", "missing; the serial device, e.g. /dev/serial/by-id/usb-...")
	}
	if !ValidBaud(d.Baud) {
		add("baud", "%d is not a baud rate the serial driver can set; nearest supported: %d", d.Baud, nearestBaud(d.Baud))
	}
	if d.DataBits < 5 || d.DataBits > 8 {
		add("data_bits", "must be 5, 6, 7 or 8, got %d", d.DataBits)
	}
	if !slices.Contains([]string{"none", "odd", "even"}, d.Parity) {
		add("parity", "want none, odd or even, got %q", d.Parity)
	}
	if d.StopBits != 1 && d.StopBits != 2 {
		add("stop_bits", "must be 1 or 2, got %d", d.StopBits)
	}
	if !slices.Contains([]string{"lf", "crlf", "cr"}, d.LineEnding) {
		add("line_ending", "want lf, crlf or cr, got %q", d.LineEnding)
	}
	if c.Decimals != nil && (*c.Decimals < 0 || *c.Decimals > devices.MaxDecimals) {
		add("decimals", "must be between 0 and %d, got %d", devices.MaxDecimals, *c.Decimals)
	}
	if c.MaxLine < 0 || c.MaxLine > 1<<20 {
		add("max_line", "must be between 1B and 1MiB, got %d", c.MaxLine)
	}
	if !slices.Contains(Formats, d.Format) {
		add("format", "unknown format %q; known formats: %s", d.Format, strings.Join(Formats, ", "))
	}
	notFor := func(key string, set bool, formats ...string) {
		if set && !slices.Contains(formats, d.Format) {
			add(key, "does not apply to format %s", d.Format)
		}
	}
	notFor("field", c.Field != "", "raw")
	notFor("separator", c.Separator != "", "kv", "csv")
	notFor("kv_separator", c.KVSeparator != "", "kv")
	notFor("columns", len(c.Columns) > 0, "csv")
	notFor("pattern", c.Pattern != "", "regex")
	switch d.Format {
	case "raw":
		if !devices.ValidFieldName(d.Field) {
			add("field", "invalid field name %q", d.Field)
		}
	case "kv":
		if d.KVSeparator == d.Separator {
			add("kv_separator", "must differ from separator %q", d.Separator)
		}
	case "csv":
		if len(c.Columns) == 0 {
			add("columns", "missing; the csv format needs the names of its columns")
		}
		seen := map[string]bool{}
		for _, col := range c.Columns {
			switch {
			case col == "" || col == "-":
			case !devices.ValidFieldName(col):
				add("columns", "invalid column name %q (letters, digits, '_', '-', '.'; not status or time)", col)
			case seen[col]:
				add("columns", "duplicate column %q", col)
			}
			seen[col] = true
		}
	case "regex":
		if c.Pattern == "" {
			add("pattern", "missing; the regex format needs a pattern with named groups")
			break
		}
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			add("pattern", "%v", err)
			break
		}
		named := 0
		for _, n := range re.SubexpNames() {
			if n == "" {
				continue
			}
			named++
			if !devices.ValidFieldName(n) {
				add("pattern", "group name %q is not a valid field name", n)
			}
		}
		if named == 0 {
			add("pattern", "has no named group, e.g. (?P<temp>[0-9.]+)")
		}
	}
	fields := map[string]bool{}
	for i, cmd := range c.Commands {
		key := "commands[" + strconv.Itoa(i) + "]"
		switch {
		case !devices.ValidFieldName(cmd.Field):
			add(key+".field", "invalid field name %q", cmd.Field)
		case fields[cmd.Field]:
			add(key+".field", "duplicate command field %q", cmd.Field)
		}
		fields[cmd.Field] = true
		if strings.ContainsAny(cmd.Template, "\r\n") {
			add(key+".template", "must not hold a line break")
		}
	}
	return ps
}

// Validate returns c's problems as one error, or nil.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Check() {
		errs = append(errs, fmt.Errorf("serial: %s: %s", p.Key, p.Msg))
	}
	return errors.Join(errs...)
}

func nearestBaud(b int) int {
	best := Bauds[0]
	for _, x := range Bauds {
		if abs(x-b) < abs(best-b) {
			best = x
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
