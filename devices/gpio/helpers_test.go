package gpio

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/hardware"
	"periph.io/x/conn/v3/gpio"
)

// values returns field's published values in order.
func values(p *devicestest.Publisher, field string) []string {
	var out []string
	for _, r := range p.Readings() {
		for _, f := range r.Fields {
			if f.Name == field {
				out = append(out, f.Value.String())
			}
		}
	}
	return out
}

func joined(p *devicestest.Publisher, field string) string {
	return strings.Join(values(p, field), " ")
}

// start runs a in the background; the returned function stops it and
// returns Run's error.
func start(t *testing.T, a devices.Adapter, out devices.Publisher) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, out) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(3 * time.Second):
				t.Fatal("Run did not return within 3 s of its context's end")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// simPins returns a PinSource over a fresh simulated backend.
func simPins(t *testing.T) (*hardware.Simulated, PinSource) {
	t.Helper()
	sim := hardware.NewSimulated("gw", nil, nil)
	return sim, sim.Pin
}

func simPin(t *testing.T, sim *hardware.Simulated, name string) *hardware.SimPin {
	t.Helper()
	p, err := sim.SimPin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// set drives a simulated input and fails the test on error.
func set(t *testing.T, p *hardware.SimPin, levels ...gpio.Level) {
	t.Helper()
	for _, l := range levels {
		if err := p.Set(l); err != nil {
			t.Fatal(err)
		}
	}
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	brokertest.Eventually(t, 5*time.Second, cond, msg)
}
