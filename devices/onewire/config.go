package onewire

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/edgemq/edgemq/devices"
)

// Defaults of Config.
const (
	DefaultRoot     = "/sys/bus/w1/devices"
	DefaultInterval = 10 * time.Second
	DefaultDecimals = 3
)

// MinInterval is the shortest Config.Interval: a DS18B20 needs 750 ms
// for one 12-bit conversion.
const MinInterval = time.Second

// family is the id prefix of the DS18B20 family.
const family = "28-"

// Config configures the adapter of one 1-Wire bus. Zero values take the
// defaults.
type Config struct {
	// Root is the kernel's w1 device directory; an absolute path. "":
	// DefaultRoot.
	Root string
	// Sensors are the sensors read; empty: every 28-* directory found
	// under Root, each named by its id.
	Sensors []Sensor
	// Interval is the poll period: every sensor is read once per
	// interval; 0: DefaultInterval, otherwise at least MinInterval.
	Interval time.Duration
	// Decimals of the published temperature, 0..devices.MaxDecimals;
	// nil: DefaultDecimals (the kernel gives thousandths).
	Decimals *int
}

// Sensor is one DS18B20 on the bus.
type Sensor struct {
	// ID is the sensor's directory under Root: "28-" and 12 lowercase
	// hex digits, e.g. 28-0316a2791cff.
	ID string
	// Name is the sensor's topic level (its group); "": the id.
	Name string
}

// name returns s's group name.
func (s Sensor) name() string {
	if s.Name == "" {
		return s.ID
	}
	return s.Name
}

// validID reports whether id names a DS18B20 directory: "28-" and 12
// lowercase hex digits.
func validID(id string) bool {
	if len(id) != len(family)+12 || id[:len(family)] != family {
		return false
	}
	for i := len(family); i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// withDefaults returns c with its zero values replaced.
func (c Config) withDefaults() Config {
	if c.Root == "" {
		c.Root = DefaultRoot
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Decimals == nil {
		d := DefaultDecimals
		c.Decimals = &d
	}
	return c
}

// Problem is one thing wrong with a Config: Key is its configuration key
// (as in the devices section: "interval", "sensors[1].id").
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
	if c.Root != "" && !filepath.IsAbs(c.Root) {
		add("root", "must be an absolute path (default %s), got %q", DefaultRoot, c.Root)
	}
	if c.Interval < 0 || c.Interval > 0 && c.Interval < MinInterval {
		add("interval", "must be at least %v (0: %v), got %v", MinInterval, DefaultInterval, c.Interval)
	}
	if c.Decimals != nil && (*c.Decimals < 0 || *c.Decimals > devices.MaxDecimals) {
		add("decimals", "must be between 0 and %d, got %d", devices.MaxDecimals, *c.Decimals)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	for i, s := range c.Sensors {
		key := "sensors[" + strconv.Itoa(i) + "]"
		switch {
		case !validID(s.ID):
			add(key+".id", "must be 28- and 12 lowercase hex digits, as its directory in %s (28-0316a2791cff), got %q", DefaultRoot, s.ID)
		case ids[s.ID]:
			add(key+".id", "duplicate sensor id %s", s.ID)
		}
		ids[s.ID] = true
		name := s.name()
		switch {
		case s.Name != "" && !devices.ValidFieldName(s.Name):
			add(key+".name", "invalid sensor name %q (letters, digits, '_', '-', '.'; not status or time)", s.Name)
		case name != "" && names[name]:
			add(key+".name", "duplicate sensor name %q", name)
		}
		names[name] = true
	}
	return ps
}

// Validate returns c's problems as one error, or nil.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Check() {
		errs = append(errs, fmt.Errorf("onewire: %s: %s", p.Key, p.Msg))
	}
	return errors.Join(errs...)
}
