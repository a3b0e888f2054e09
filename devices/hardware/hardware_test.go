package hardware

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/devicestest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/gpioioctl"
)

func TestSimulatedOverMQTT(t *testing.T) {
	c := &devicestest.Client{}
	sim := NewSimulated("gw1", nil, nil)
	out, err := sim.Pin("GPIO22")
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Out(gpio.High); err != nil { // before Attach: published at Attach
		t.Fatal(err)
	}
	if err := sim.Attach(c); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Last("edgemq/gw1/sim/gpio/GPIO22"); got != "1" {
		t.Fatalf("output level %q, want 1", got)
	}
	if err := out.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	msgs := c.Messages("edgemq/gw1/sim/gpio/GPIO22")
	if len(msgs) != 2 || msgs[1].Payload != "0" || !msgs[1].Retain {
		t.Fatalf("output messages %+v, want 1 then 0, retained", msgs)
	}

	in, err := sim.SimPin("GPIO17")
	if err != nil {
		t.Fatal(err)
	}
	if err := in.In(gpio.PullUp, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if in.Read() != gpio.High {
		t.Fatal("an undriven input with a pull-up reads high")
	}
	c.Send("edgemq/gw1/sim/gpio/GPIO17/set", "0")
	if !in.WaitForEdge(time.Second) || in.Read() != gpio.Low {
		t.Fatal("publishing 0 must give an edge and a low level")
	}
	c.Send("edgemq/gw1/sim/gpio/GPIO17/set", "high") // refused
	c.Send("edgemq/gw1/sim/gpio/GPIO22/set", "1")    // an output: refused
	if in.WaitForEdge(50*time.Millisecond) || in.Read() != gpio.Low {
		t.Fatal("a bad payload must change nothing")
	}
	if got := out.Read(); got != gpio.Low {
		t.Fatal("an output must not be driven from outside")
	}
}

func TestSimPinEdgeKinds(t *testing.T) {
	sim := NewSimulated("gw", nil, nil)
	p, _ := sim.SimPin("P1")
	if err := p.In(gpio.PullDown, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	p.Set(gpio.High)
	p.Set(gpio.Low) // a falling edge: not waited for
	if !p.WaitForEdge(time.Second) {
		t.Fatal("rising edge missed")
	}
	if p.WaitForEdge(20 * time.Millisecond) {
		t.Fatal("falling edge reported to a rising-edge wait")
	}
	if _, err := sim.Pin("bad/name"); err == nil {
		t.Fatal("a pin name with a slash was accepted")
	}
	if _, err := sim.I2C("1"); err == nil || !strings.Contains(err.Error(), "no simulated I2C bus") {
		t.Fatalf("I2C on a missing bus: %v", err)
	}
}

// On a machine without GPIO (a laptop, a CI container) a configured pin is
// a clear error, not a crash.
func TestHostWithoutGPIO(t *testing.T) {
	var h Host
	p, err := h.Pin("GPIO17")
	if len(gpioioctl.Chips) > 0 || gpioreg.ByName("GPIO17") != nil {
		t.Skip("this machine has GPIO chips")
	}
	if err == nil {
		t.Fatalf("Pin = %v, want an error", p)
	}
	if !errors.Is(err, ErrNoGPIO) || !strings.Contains(err.Error(), "hardware: simulated") {
		t.Fatalf("error %q does not say there is no GPIO and what to do", err)
	}
	if _, err := h.I2C("1"); err == nil {
		t.Fatal("I2C bus 1 opened on a machine without I2C")
	}
}
