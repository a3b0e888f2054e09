package gpio

import (
	"context"
	"fmt"
	"time"

	"github.com/edgemq/edgemq/devices"
)

// CountStore keeps one counter's count across restarts. In edgemq it is
// the gateway's database; Save returns once the count is durable.
type CountStore interface {
	Load() (uint64, error)
	Save(count uint64) error
}

// Counter is a pulse counter adapter; it implements devices.Adapter.
type Counter struct {
	cfg   CounterConfig
	pins  PinSource
	store CountStore
	ppu   float64
	dec   int
}

var _ devices.Adapter = (*Counter)(nil)

// NewCounter returns the adapter of a pulse counter whose count lives in
// store.
func NewCounter(cfg CounterConfig, pins PinSource, store CountStore) (*Counter, error) {
	if err := problemsError(cfg.Check()); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, fmt.Errorf("gpio: counter on %s: no count store", cfg.Pin)
	}
	c := &Counter{cfg: cfg, pins: pins, store: store, ppu: cfg.PulsesPerUnit, dec: DefaultCounterDecimals}
	if c.ppu == 0 {
		c.ppu = 1
	}
	if cfg.Decimals != nil {
		c.dec = *cfg.Decimals
	}
	return c, nil
}

// Run counts edges. Each counted pulse is saved, then count and total
// are published; every Interval count, total and rate are published.
// A count that cannot be saved ends Run with the error: the count never
// goes backwards across a restart.
func (c *Counter) Run(ctx context.Context, out devices.Publisher) error {
	count, err := c.store.Load()
	if err != nil {
		return fmt.Errorf("gpio: counter on %s: load count: %w", c.cfg.Pin, err)
	}
	pin, err := c.pins(c.cfg.Pin)
	if err != nil {
		return err
	}
	if err := pin.In(pull(c.cfg.Pull), edge(c.cfg.Edge)); err != nil {
		return fmt.Errorf("gpio: %s: set as input: %w", c.cfg.Pin, err)
	}
	defer pin.Halt()
	debounce := orDuration(c.cfg.Debounce, DefaultCounterDebounce)
	interval := orDuration(c.cfg.Interval, DefaultCounterInterval)

	if _, err := publishFields(ctx, out, c.fields(count)...); err != nil {
		return err
	}
	var last time.Time // of the last counted edge
	tickAt, tickCount := time.Now(), count
	for ctx.Err() == nil {
		wait := min(waitSlice, time.Until(tickAt.Add(interval)))
		if wait > 0 && pin.WaitForEdge(wait) {
			out.Count(devices.LinesRead, 1)
			now := time.Now()
			if debounce > 0 && !last.IsZero() && now.Sub(last) < debounce {
				continue // a bounce of the last pulse
			}
			last = now
			count++
			if err := c.store.Save(count); err != nil {
				return fmt.Errorf("gpio: counter on %s: save count %d: %w", c.cfg.Pin, count, err)
			}
			if _, err := publishFields(ctx, out, c.fields(count)...); err != nil {
				return err
			}
			continue
		}
		if now := time.Now(); now.Sub(tickAt) >= interval {
			hours := now.Sub(tickAt).Hours()
			rate := float64(count-tickCount) / c.ppu / hours
			tickAt, tickCount = now, count
			fs := append(c.fields(count), devices.Field{Name: "rate", Value: devices.Number(rate, c.dec)})
			if _, err := publishFields(ctx, out, fs...); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Counter) fields(count uint64) []devices.Field {
	return []devices.Field{
		{Name: "count", Value: devices.Number(float64(count), 0)},
		{Name: "total", Value: devices.Number(float64(count)/c.ppu, c.dec)},
	}
}
