package gpio

import (
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func TestOutCommands(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO22", L: gpio.Low}
	a, err := NewOut(OutConfig{Pin: "GPIO22", ActiveLow: true}, func(string) (gpio.PinIO, error) { return pin, nil })
	if err != nil {
		t.Fatal(err)
	}
	if w := a.Writable(); len(w) != 1 || w[0] != "state" {
		t.Fatalf("Writable = %v", w)
	}
	out := &devicestest.Publisher{Cmds: make(chan devices.Command, 8)}
	stop := start(t, a, out)
	eventually(t, func() bool { return joined(out, "state") == "OFF" }, "initial OFF")
	if pin.Read() != gpio.High {
		t.Fatal("OFF with active low must drive the pin high")
	}
	steps := []struct {
		cmd, want string
		level     gpio.Level
	}{
		{"ON", "OFF ON", gpio.Low},
		{"off", "OFF ON OFF", gpio.High},
		{"TOGGLE", "OFF ON OFF ON", gpio.Low},
		{"maybe", "OFF ON OFF ON", gpio.Low}, // rejected: nothing changes
		{"1", "OFF ON OFF ON", gpio.Low},     // rejected too
		{" Toggle\n", "OFF ON OFF ON OFF", gpio.High},
	}
	for _, s := range steps {
		out.Cmds <- devices.Command{Field: "state", Payload: s.cmd}
		if s.want == joined(out, "state") {
			time.Sleep(50 * time.Millisecond) // give a rejected command time to be (not) applied
		}
		eventually(t, func() bool { return joined(out, "state") == s.want }, "after "+s.cmd)
		if pin.Read() != s.level {
			t.Errorf("after %q the pin is %v, want %v", s.cmd, pin.Read(), s.level)
		}
	}
	if n := out.Counted(devices.CommandsRejected); n != 2 {
		t.Errorf("rejected %d commands, want 2", n)
	}
	out.Cmds <- devices.Command{Field: "state", Payload: "ON"}
	eventually(t, func() bool { return last(out, "state") == "ON" }, "ON")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if pin.Read() != gpio.High {
		t.Error("a stopped relay must go back to its initial state (OFF: high with active low)")
	}
}

func TestOutAutoOff(t *testing.T) {
	sim, pins := simPins(t)
	a, err := NewOut(OutConfig{Pin: "GPIO23", AutoOff: 150 * time.Millisecond}, pins)
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{Cmds: make(chan devices.Command, 8)}
	start(t, a, out)
	eventually(t, func() bool { return joined(out, "state") == "OFF" }, "initial OFF")
	p := simPin(t, sim, "GPIO23")
	began := time.Now()
	out.Cmds <- devices.Command{Field: "state", Payload: "ON"}
	eventually(t, func() bool { return joined(out, "state") == "OFF ON" }, "ON")
	if p.Level() != gpio.High {
		t.Fatal("ON must drive the pin high")
	}
	eventually(t, func() bool { return joined(out, "state") == "OFF ON OFF" }, "auto off")
	if took := time.Since(began); took < 150*time.Millisecond {
		t.Errorf("auto off after %v, want at least 150ms", took)
	}
	if p.Level() != gpio.Low {
		t.Error("auto off must drive the pin low")
	}
}

func TestOutInitialOn(t *testing.T) {
	sim, pins := simPins(t)
	a, err := NewOut(OutConfig{Pin: "GPIO24", Initial: "ON"}, pins)
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{Cmds: make(chan devices.Command, 8)}
	start(t, a, out)
	eventually(t, func() bool { return joined(out, "state") == "ON" }, "initial ON")
	if simPin(t, sim, "GPIO24").Level() != gpio.High {
		t.Error("initial ON must drive the pin high")
	}
}
