package i2cdev

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Chip names, the values of Config.Chip.
const (
	ChipBME280 = "bme280"
	ChipSHT3x  = "sht3x"
)

// Chips are the known values of Config.Chip.
var Chips = []string{ChipBME280, ChipSHT3x}

// Defaults and limits of Config.
const (
	DefaultInterval = 10 * time.Second
	MinInterval     = 100 * time.Millisecond
)

// chipAddrs are the addresses each chip can be strapped to, the default
// first.
var chipAddrs = map[string][]uint16{
	ChipBME280: {0x76, 0x77},
	ChipSHT3x:  {0x44, 0x45},
}

// Config configures the adapter of one I²C sensor. Zero values take the
// defaults.
type Config struct {
	// Bus is the periph bus name ("1", "/dev/i2c-1"); empty: the first
	// bus.
	Bus string
	// Address is the chip's 7-bit address; 0: the chip's default (0x76
	// for the BME280, 0x44 for the SHT3x). Each chip answers at two
	// addresses only: 0x76 or 0x77, 0x44 or 0x45.
	Address uint16
	// Chip is one of Chips: "bme280" or "sht3x".
	Chip string
	// Interval is the poll period; 0: DefaultInterval. At least
	// MinInterval.
	Interval time.Duration
}

// withDefaults returns c with its zero values replaced.
func (c Config) withDefaults() Config {
	if c.Address == 0 {
		if addrs := chipAddrs[c.Chip]; len(addrs) > 0 {
			c.Address = addrs[0]
		}
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	return c
}

// Problem is one thing wrong with a Config: Key is its configuration key
// (as in the devices section: "chip", "address").
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
	if strings.ContainsFunc(c.Bus, func(r rune) bool { return !unicode.IsPrint(r) }) {
		add("bus", "must be printable, got %q", c.Bus)
	}
	addrs, known := chipAddrs[c.Chip]
	switch {
	case c.Chip == "":
		add("chip", "missing; known chips: %s", strings.Join(Chips, ", "))
	case !known:
		add("chip", "unknown chip %q; known chips: %s", c.Chip, strings.Join(Chips, ", "))
	}
	if known && c.Address != 0 && c.Address != addrs[0] && c.Address != addrs[1] {
		add("address", "must be %#x or %#x for %s (0: %#x), got %#x (%d)", addrs[0], addrs[1], c.Chip, addrs[0], c.Address, c.Address)
	}
	if c.Interval < 0 || c.Interval > 0 && c.Interval < MinInterval {
		add("interval", "must be at least %v (0: %v), got %v", MinInterval, DefaultInterval, c.Interval)
	}
	return ps
}

// Validate returns c's problems as one error, or nil.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Check() {
		errs = append(errs, fmt.Errorf("i2c: %s: %s", p.Key, p.Msg))
	}
	return errors.Join(errs...)
}
