package i2cdev

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgemq/edgemq/devices"
	"periph.io/x/conn/v3/i2c"
)

// Opener opens an I²C bus by its periph name ("" for the first bus). On
// hardware it calls periph's i2creg.Open (after host.Init); in a
// simulation it returns a SimBus.
type Opener func(bus string) (i2c.BusCloser, error)

// Adapter polls one I²C sensor; it implements devices.Adapter.
type Adapter struct {
	cfg  Config
	open Opener
}

var _ devices.Adapter = (*Adapter)(nil)

// New checks cfg and returns its adapter, which opens its bus with
// open.
func New(cfg Config, open Opener) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if open == nil {
		return nil, errors.New("i2c: no bus opener")
	}
	return &Adapter{cfg: cfg.withDefaults(), open: open}, nil
}

// Run opens the bus, initialises the chip and measures once per
// interval, publishing each measurement, until ctx is done or the bus
// fails. A chip with the wrong id and I/O errors end Run; responses
// with a bad CRC or without data are counted as parse errors. The bus
// is closed before Run returns.
func (a *Adapter) Run(ctx context.Context, out devices.Publisher) error {
	bus, err := a.open(a.cfg.Bus)
	if err != nil {
		return fmt.Errorf("i2cdev: open bus %q: %w", a.cfg.Bus, err)
	}
	defer bus.Close()
	s, err := a.sensor(bus)
	if err != nil {
		return err
	}
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		if err := a.poll(ctx, s, out); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sensor initialises the configured chip on bus.
func (a *Adapter) sensor(bus i2c.Bus) (Sensor, error) {
	if a.cfg.Chip == ChipSHT3x {
		return NewSHT3x(bus, a.cfg.Address), nil
	}
	return NewBME280(bus, a.cfg.Address)
}

// poll measures once and publishes the result. It returns I/O errors
// and ctx's.
func (a *Adapter) poll(ctx context.Context, s Sensor, out devices.Publisher) error {
	out.Count(devices.Polls, 1)
	m, err := s.Sense(ctx)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrCRC) || errors.Is(err, ErrNoData):
		out.Count(devices.LinesRead, 1)
		out.Count(devices.ParseErrors, 1)
		return nil
	case err != nil:
		return err
	}
	out.Count(devices.LinesRead, 1)
	r := devices.Reading{Time: time.Now(), Fields: []devices.Field{
		{Name: "temperature", Value: devices.Number(m.Temperature, 2)},
		{Name: "humidity", Value: devices.Number(m.Humidity, 2)},
	}}
	if a.cfg.Chip == ChipBME280 {
		r.Fields = append(r.Fields, devices.Field{Name: "pressure", Value: devices.Number(m.Pressure, 2)})
	}
	if err := out.Publish(ctx, r); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}
