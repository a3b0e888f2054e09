package gpio

import (
	"errors"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestInBounceIsOneChange(t *testing.T) {
	sim, pins := simPins(t)
	a, err := NewIn(InConfig{Pin: "GPIO17", Pull: "down", Debounce: 30 * time.Millisecond}, pins)
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	stop := start(t, a, out)
	eventually(t, func() bool { return joined(out, "state") == "OFF" }, "initial OFF")

	p := simPin(t, sim, "GPIO17")
	set(t, p, gpio.High, gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low, gpio.High) // a burst of bounces
	eventually(t, func() bool { return joined(out, "state") == "OFF ON" }, "one change to ON")

	// A glitch shorter than the debounce is no change.
	set(t, p, gpio.Low, gpio.High)
	time.Sleep(100 * time.Millisecond)
	set(t, p, gpio.Low)
	eventually(t, func() bool { return joined(out, "state") == "OFF ON OFF" }, "then OFF")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := joined(out, "state"); got != "OFF ON OFF" {
		t.Errorf("states %q, want exactly OFF ON OFF", got)
	}
	if out.Counted(devices.LinesRead) < 9 {
		t.Errorf("edges counted %d, want at least 9", out.Counted(devices.LinesRead))
	}
}

func TestInActiveLowPullUp(t *testing.T) {
	_, pins := simPins(t)
	// Pulled up, nothing connected: high, which active low reads OFF.
	a, err := NewIn(InConfig{Pin: "GPIO4", ActiveLow: true}, pins)
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	start(t, a, out)
	eventually(t, func() bool { return joined(out, "state") == "OFF" }, "initial OFF")
}

// periph's own fake pin: each edge sets the level it carries.
func TestInOverGpiotest(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO5", EdgesChan: make(chan gpio.Level, 8)}
	a, err := NewIn(InConfig{Pin: "GPIO5", Pull: "down", ActiveLow: true, Debounce: -1}, func(string) (gpio.PinIO, error) { return pin, nil })
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	start(t, a, out)
	eventually(t, func() bool { return joined(out, "state") == "ON" }, "low pin, active low: ON")
	pin.EdgesChan <- gpio.High
	eventually(t, func() bool { return joined(out, "state") == "ON OFF" }, "high: OFF")
}

func TestInPinError(t *testing.T) {
	wantErr := errors.New("no such pin")
	a, err := NewIn(InConfig{Pin: "GPIO99"}, func(string) (gpio.PinIO, error) { return nil, wantErr })
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(t.Context(), &devicestest.Publisher{}); !errors.Is(err, wantErr) {
		t.Fatalf("Run = %v, want %v", err, wantErr)
	}
}

func TestConfigCheck(t *testing.T) {
	neg := -1
	tests := []struct {
		name string
		ps   []Problem
		want string
	}{
		{"in ok", InConfig{Pin: "GPIO17", Pull: "up"}.Check(), ""},
		{"in no pin", InConfig{}.Check(), "pin"},
		{"in bad pull", InConfig{Pin: "GPIO1", Pull: "sideways"}.Check(), "pull"},
		{"in long debounce", InConfig{Pin: "GPIO1", Debounce: 2 * time.Second}.Check(), "debounce"},
		{"counter ok", CounterConfig{Pin: "GPIO27", Edge: "rising", PulsesPerUnit: 1000}.Check(), ""},
		{"counter bad edge", CounterConfig{Pin: "GPIO27", Edge: "up"}.Check(), "edge"},
		{"counter negative ppu", CounterConfig{Pin: "GPIO27", PulsesPerUnit: -2}.Check(), "pulses_per_unit"},
		{"counter decimals", CounterConfig{Pin: "GPIO27", Decimals: &neg}.Check(), "decimals"},
		{"counter interval", CounterConfig{Pin: "GPIO27", Interval: time.Millisecond}.Check(), "interval"},
		{"out ok", OutConfig{Pin: "GPIO22", Initial: "on"}.Check(), ""},
		{"out bad initial", OutConfig{Pin: "GPIO22", Initial: "maybe"}.Check(), "initial"},
		{"out negative auto_off", OutConfig{Pin: "GPIO22", AutoOff: -time.Second}.Check(), "auto_off"},
		{"out bad pin", OutConfig{Pin: "GPIO 22"}.Check(), "pin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if len(tc.ps) > 0 {
				got = tc.ps[0].Key
			}
			if got != tc.want || len(tc.ps) > 1 {
				t.Errorf("problems %v, want one for %q", tc.ps, tc.want)
			}
		})
	}
}
