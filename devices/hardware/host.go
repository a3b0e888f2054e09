package hardware

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3/gpioioctl"
	_ "periph.io/x/host/v3/sysfs" // registers the /dev/i2c-N buses
)

// ErrNoGPIO is returned (wrapped) for a pin when the host has no GPIO
// chip at all: not a Raspberry Pi or similar board, or a container
// without /dev/gpiochip*.
var ErrNoGPIO = errors.New("no GPIO on this host")

// Host is the host's hardware. Its zero value is ready to use; the
// periph.io drivers are initialised on first use.
type Host struct {
	once    sync.Once
	initErr error
}

var _ Hardware = (*Host)(nil)

func (h *Host) init() error {
	h.once.Do(func() {
		if _, err := driverreg.Init(); err != nil {
			h.initErr = fmt.Errorf("hardware: periph.io init: %w", err)
		}
	})
	return h.initErr
}

// Pin returns the GPIO line named name from the GPIO character device
// (/dev/gpiochipN), so edges come from the kernel's line events.
func (h *Host) Pin(name string) (gpio.PinIO, error) {
	if err := h.init(); err != nil {
		return nil, err
	}
	if len(gpioioctl.Chips) == 0 {
		return nil, fmt.Errorf("hardware: GPIO pin %s: %w (no /dev/gpiochip*; on a laptop, set hardware: simulated)", name, ErrNoGPIO)
	}
	for _, c := range gpioioctl.Chips {
		if l := c.ByName(name); l != nil {
			return l, nil
		}
		if l := c.ByName(c.Name() + "-" + name); l != nil {
			return l, nil
		}
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("hardware: no GPIO pin named %q; this host has %s", name, pinSample())
}

// pinSample names a few of the host's pins for an error message.
func pinSample() string {
	var names []string
	for _, c := range gpioioctl.Chips {
		for _, l := range c.Lines() {
			if n := l.Name(); n != "" && n != "_" && n != "-" {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "no named GPIO lines"
	}
	if len(names) > 8 {
		return strings.Join(names[:8], ", ") + fmt.Sprintf(" and %d more (see `edgemq devices list`)", len(names)-8)
	}
	return strings.Join(names, ", ")
}

// I2C opens an I2C bus of the host.
func (h *Host) I2C(bus string) (i2c.BusCloser, error) {
	if err := h.init(); err != nil {
		return nil, err
	}
	b, err := i2creg.Open(bus) // a name, an alias (/dev/i2c-1) or a number
	if err != nil {
		if len(i2creg.All()) == 0 {
			return nil, fmt.Errorf("hardware: I2C bus %q: no I2C bus on this host (enable it with dtparam=i2c_arm=on; on a laptop, set hardware: simulated): %w", bus, err)
		}
		return nil, fmt.Errorf("hardware: I2C bus %q: %w", bus, err)
	}
	return b, nil
}
