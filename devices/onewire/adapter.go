package onewire

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/edgemq/edgemq/devices"
)

// Adapter reads the DS18B20 sensors of one 1-Wire bus; it implements
// devices.Adapter.
type Adapter struct {
	cfg      Config // with defaults
	interval time.Duration
	// read returns the contents of a w1_slave file; tests slow it down.
	read func(path string) ([]byte, error)
}

var _ devices.Adapter = (*Adapter)(nil)

// New checks c and returns its adapter.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	return &Adapter{cfg: c, interval: c.Interval, read: readFile}, nil
}

// Run reads every sensor once per interval, the first time at once, and
// publishes the temperatures and the sensors' statuses (see the package
// documentation) until ctx is done; then it returns ctx's error. It
// returns early only when the bus directory cannot be listed.
func (a *Adapter) Run(ctx context.Context, out devices.Publisher) error {
	r := newRun(a, out)
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		if err := r.cycle(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// readFile reads at most maxFile+1 bytes of path: enough for parse to
// refuse a file that is too long.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile+1))
}
