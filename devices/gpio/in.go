package gpio

import (
	"context"
	"fmt"
	"time"

	"github.com/edgemq/edgemq/devices"
	"periph.io/x/conn/v3/gpio"
)

// waitSlice bounds every wait for an edge, so that Run notices its
// context promptly; a wait that times out also reads the level, which
// catches an edge the driver missed.
const waitSlice = 250 * time.Millisecond

// In is a digital input adapter; it implements devices.Adapter.
type In struct {
	cfg  InConfig
	pins PinSource
}

var _ devices.Adapter = (*In)(nil)

// NewIn returns the adapter of a digital input.
func NewIn(cfg InConfig, pins PinSource) (*In, error) {
	if err := problemsError(cfg.Check()); err != nil {
		return nil, err
	}
	return &In{cfg: cfg, pins: pins}, nil
}

// Run publishes the input's state at start and after every change that
// lasted Debounce.
func (a *In) Run(ctx context.Context, out devices.Publisher) error {
	pin, err := a.pins(a.cfg.Pin)
	if err != nil {
		return err
	}
	if err := pin.In(pull(a.cfg.Pull), gpio.BothEdges); err != nil {
		return fmt.Errorf("gpio: %s: set as input: %w", a.cfg.Pin, err)
	}
	defer pin.Halt()
	debounce := orDuration(a.cfg.Debounce, DefaultInDebounce)
	state := a.on(pin.Read())
	if _, err := a.publish(ctx, out, state); err != nil {
		return err
	}
	for ctx.Err() == nil {
		if pin.WaitForEdge(waitSlice) {
			out.Count(devices.LinesRead, 1)
			// Wait until the level has been quiet for debounce: a
			// burst of bounces is one change, or none.
			for debounce > 0 && ctx.Err() == nil && pin.WaitForEdge(debounce) {
				out.Count(devices.LinesRead, 1)
			}
		}
		if on := a.on(pin.Read()); on != state {
			ok, err := a.publish(ctx, out, on)
			if err != nil {
				return err
			}
			if ok { // else the next wake tries again
				state = on
			}
		}
	}
	return nil
}

func (a *In) on(l gpio.Level) bool { return bool(l) != a.cfg.ActiveLow }

// publish publishes the state; ok is false if the broker refused it,
// err is ctx's error.
func (a *In) publish(ctx context.Context, out devices.Publisher, on bool) (ok bool, err error) {
	return publishState(ctx, out, "state", on)
}

// publishState publishes ON or OFF on field; ok is false if the broker
// refused it, err is set only if ctx is done.
func publishState(ctx context.Context, out devices.Publisher, field string, on bool) (ok bool, err error) {
	return publishFields(ctx, out, devices.Field{Name: field, Value: devices.String(onOff(on))})
}

// publishFields publishes one reading; ok is false if the broker refused
// it, err is set only if ctx is done.
func publishFields(ctx context.Context, out devices.Publisher, fs ...devices.Field) (ok bool, err error) {
	if err := out.Publish(ctx, devices.Reading{Fields: fs}); err != nil {
		return false, ctx.Err()
	}
	return true, nil
}
