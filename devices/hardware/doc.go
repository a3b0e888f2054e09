// Package hardware gives device adapters their GPIO pins and I2C buses:
// the host's (Host: the Linux GPIO character device and /dev/i2c-N, via
// periph.io) or simulated ones (Simulated), so that anyone can try the
// GPIO and I2C adapters on a laptop and tests can drive the finished
// binary. The adapters are the same code in both modes.
//
// A Simulated backend is driven over MQTT once attached to a client:
// publishing 0 or 1 to edgemq/<gateway-id>/sim/gpio/<PIN>/set sets an
// input pin's level, and every output pin's level is published, retained,
// on edgemq/<gateway-id>/sim/gpio/<PIN>. Simulated I2C chips answer from
// register values given in the configuration.
package hardware

import (
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// Hardware is where adapters get pins and buses.
type Hardware interface {
	// Pin returns the GPIO pin named name, e.g. GPIO17.
	Pin(name string) (gpio.PinIO, error)
	// I2C opens the I2C bus named bus ("1", "/dev/i2c-1"; empty: the
	// first one). The caller closes it.
	I2C(bus string) (i2c.BusCloser, error)
}
