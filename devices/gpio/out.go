package gpio

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/edgemq/edgemq/devices"
	"periph.io/x/conn/v3/gpio"
)

// Out is a relay (digital output) adapter; it implements devices.Adapter
// and devices.Commander.
type Out struct {
	cfg     OutConfig
	pins    PinSource
	initial bool
}

var (
	_ devices.Adapter   = (*Out)(nil)
	_ devices.Commander = (*Out)(nil)
)

// NewOut returns the adapter of a relay.
func NewOut(cfg OutConfig, pins PinSource) (*Out, error) {
	if err := problemsError(cfg.Check()); err != nil {
		return nil, err
	}
	return &Out{cfg: cfg, pins: pins, initial: strings.EqualFold(cfg.Initial, "ON")}, nil
}

// Writable implements devices.Commander: commands arrive on
// <topic>/state/set.
func (a *Out) Writable() []string { return []string{"state"} }

// Run drives the pin to the initial state, then to the state each
// command asks for, publishing the state after each; with AutoOff it
// turns the output OFF that long after it was turned ON. When ctx is
// done it drives the pin back to the initial state.
func (a *Out) Run(ctx context.Context, out devices.Publisher) error {
	pin, err := a.pins(a.cfg.Pin)
	if err != nil {
		return err
	}
	state := a.initial
	if err := a.drive(pin, state); err != nil {
		return err
	}
	defer a.drive(pin, a.initial) //nolint:errcheck // best effort on the way out
	if _, err := publishState(ctx, out, "state", state); err != nil {
		return err
	}
	autoOff := time.NewTimer(time.Hour)
	autoOff.Stop()
	defer autoOff.Stop()
	for {
		want := state
		select {
		case <-ctx.Done():
			return nil
		case <-autoOff.C:
			want = false
		case cmd := <-out.Commands():
			switch strings.ToUpper(strings.TrimSpace(cmd.Payload)) {
			case "ON":
				want = true
			case "OFF":
				want = false
			case "TOGGLE":
				want = !state
			default:
				out.Count(devices.CommandsRejected, 1)
				continue
			}
		}
		if err := a.drive(pin, want); err != nil {
			return err
		}
		state = want
		autoOff.Stop()
		if state && a.cfg.AutoOff > 0 {
			autoOff.Reset(a.cfg.AutoOff)
		}
		if _, err := publishState(ctx, out, "state", state); err != nil {
			return err
		}
	}
}

func (a *Out) drive(pin gpio.PinIO, on bool) error {
	if err := pin.Out(gpio.Level(on != a.cfg.ActiveLow)); err != nil {
		return fmt.Errorf("gpio: %s: set output %s: %w", a.cfg.Pin, onOff(on), err)
	}
	return nil
}
