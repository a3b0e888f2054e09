package gpio

import (
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// PinSource returns the pin named name (e.g. "GPIO17"); it is where an
// adapter gets its pin at each Run.
type PinSource func(name string) (gpio.PinIO, error)

// Defaults of the configurations.
const (
	DefaultInDebounce      = 50 * time.Millisecond
	DefaultCounterDebounce = 10 * time.Millisecond
	DefaultCounterInterval = 10 * time.Second
	DefaultCounterDecimals = 3
	// MaxDebounce bounds Debounce: a longer one would hide real changes
	// (and delay shutdown).
	MaxDebounce = time.Second
	// MinCounterInterval bounds Counter.Interval.
	MinCounterInterval = 100 * time.Millisecond
)

// Pulls and Edges are the accepted values of the Pull and Edge keys.
var (
	Pulls = []string{"up", "down", "none"}
	Edges = []string{"rising", "falling", "both"}
)

// Problem is one thing wrong with a configuration: Key is its
// configuration key (e.g. "pin"), Msg what is wrong.
type Problem struct {
	Key, Msg string
}

// InConfig configures a digital input.
type InConfig struct {
	// Pin is the pin's name, e.g. GPIO17; required.
	Pin string
	// Pull is "up" (default), "down" or "none".
	Pull string
	// ActiveLow: ON is the low level (a contact to ground with a
	// pull-up).
	ActiveLow bool
	// Debounce is how long the level must stay unchanged before a change
	// is published; 0: DefaultInDebounce. Negative: no debounce.
	Debounce time.Duration
}

// CounterConfig configures a pulse counter.
type CounterConfig struct {
	// Pin is the pin's name, e.g. GPIO27; required.
	Pin string
	// Pull is "up" (default), "down" or "none".
	Pull string
	// Edge is the edge counted: "falling" (default: an S0 output or a
	// reed contact pulling a pulled-up line low), "rising" or "both".
	Edge string
	// Debounce ignores an edge that follows the last counted one by less
	// than this; 0: DefaultCounterDebounce. Negative: no debounce.
	Debounce time.Duration
	// PulsesPerUnit converts the count to the total (e.g. 1000 for an
	// energy meter with 1000 imp/kWh); 0: 1.
	PulsesPerUnit float64
	// Decimals of total and rate; nil: DefaultCounterDecimals.
	Decimals *int
	// Interval is the period of the rate (and of a republished count);
	// 0: DefaultCounterInterval.
	Interval time.Duration
}

// OutConfig configures a relay (a digital output).
type OutConfig struct {
	// Pin is the pin's name, e.g. GPIO22; required.
	Pin string
	// ActiveLow: ON drives the pin low (most relay boards).
	ActiveLow bool
	// Initial is the state set at start and when the adapter stops:
	// "OFF" (default) or "ON".
	Initial string
	// AutoOff turns the output OFF this long after it was turned ON; 0:
	// never.
	AutoOff time.Duration
}

func checkPin(ps []Problem, pin string) []Problem {
	switch {
	case pin == "":
		ps = append(ps, Problem{"pin", "missing; the pin's name, e.g. GPIO17"})
	case strings.ContainsAny(pin, " /\t\n"):
		ps = append(ps, Problem{"pin", fmt.Sprintf("%q is not a pin name (e.g. GPIO17)", pin)})
	}
	return ps
}

func checkOneOf(ps []Problem, key, v string, allowed []string) []Problem {
	if v == "" {
		return ps
	}
	for _, a := range allowed {
		if v == a {
			return ps
		}
	}
	return append(ps, Problem{key, fmt.Sprintf("want %s, got %q", strings.Join(allowed, ", "), v)})
}

func checkDebounce(ps []Problem, d time.Duration) []Problem {
	if d > MaxDebounce {
		ps = append(ps, Problem{"debounce", fmt.Sprintf("at most %s, got %s", MaxDebounce, d)})
	}
	return ps
}

// Check returns what is wrong with c, if anything.
func (c InConfig) Check() []Problem {
	var ps []Problem
	ps = checkPin(ps, c.Pin)
	ps = checkOneOf(ps, "pull", c.Pull, Pulls)
	return checkDebounce(ps, c.Debounce)
}

// Check returns what is wrong with c, if anything.
func (c CounterConfig) Check() []Problem {
	var ps []Problem
	ps = checkPin(ps, c.Pin)
	ps = checkOneOf(ps, "pull", c.Pull, Pulls)
	ps = checkOneOf(ps, "edge", c.Edge, Edges)
	ps = checkDebounce(ps, c.Debounce)
	if c.PulsesPerUnit < 0 {
		ps = append(ps, Problem{"pulses_per_unit", fmt.Sprintf("must be positive, got %g", c.PulsesPerUnit)})
	}
	if c.Decimals != nil && (*c.Decimals < 0 || *c.Decimals > 9) {
		ps = append(ps, Problem{"decimals", fmt.Sprintf("must be 0..9, got %d", *c.Decimals)})
	}
	if c.Interval != 0 && c.Interval < MinCounterInterval {
		ps = append(ps, Problem{"interval", fmt.Sprintf("at least %s, got %s", MinCounterInterval, c.Interval)})
	}
	return ps
}

// Check returns what is wrong with c, if anything.
func (c OutConfig) Check() []Problem {
	var ps []Problem
	ps = checkPin(ps, c.Pin)
	if c.Initial != "" && !strings.EqualFold(c.Initial, "ON") && !strings.EqualFold(c.Initial, "OFF") {
		ps = append(ps, Problem{"initial", fmt.Sprintf("want ON or OFF, got %q", c.Initial)})
	}
	if c.AutoOff < 0 {
		ps = append(ps, Problem{"auto_off", fmt.Sprintf("must not be negative, got %s", c.AutoOff)})
	}
	return ps
}

func problemsError(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Key + ": " + p.Msg
	}
	return fmt.Errorf("gpio: %s", strings.Join(msgs, "; "))
}

func pull(s string) gpio.Pull {
	switch s {
	case "down":
		return gpio.PullDown
	case "none":
		return gpio.Float
	default:
		return gpio.PullUp
	}
}

func edge(s string) gpio.Edge {
	switch s {
	case "rising":
		return gpio.RisingEdge
	case "both":
		return gpio.BothEdges
	default:
		return gpio.FallingEdge
	}
}

func orDuration(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

// onOff is the published text of an active (true) or inactive state.
func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}
