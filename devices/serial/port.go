package serial

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tarm/serial"
)

// Port is an open serial port. Read must return within the configured
// read timeout, with (0, io.EOF) or (0, nil) when nothing arrived.
type Port interface {
	io.ReadWriteCloser
}

// presence is implemented by ports that can tell whether their device is
// still there.
type presence interface {
	// Present returns an error when the device node the port was opened
	// on is gone or now names another device.
	Present() error
}

// ErrGone: the device node of an open port disappeared (unplugged) or
// now names another device.
var ErrGone = errors.New("serial: device gone")

// OpenTarm opens c.Port with github.com/tarm/serial, with c's line
// settings and read timeout (defaults applied).
func OpenTarm(c Config) (Port, error) {
	c = c.withDefaults()
	tc := &serial.Config{
		Name:        c.Port,
		Baud:        c.Baud,
		ReadTimeout: c.ReadTimeout,
		Size:        byte(c.DataBits),
		StopBits:    serial.StopBits(c.StopBits),
	}
	switch c.Parity {
	case "odd":
		tc.Parity = serial.ParityOdd
	case "even":
		tc.Parity = serial.ParityEven
	default:
		tc.Parity = serial.ParityNone
	}
	p, err := serial.OpenPort(tc)
	if err != nil {
		return nil, fmt.Errorf("serial: open %s: %w", c.Port, err)
	}
	fi, err := os.Stat(c.Port) // follows symlinks such as /dev/serial/by-id/...
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("serial: open %s: %w", c.Port, err)
	}
	return &tarmPort{Port: p, path: c.Port, fi: fi}, nil
}

// tarmPort is a tarm/serial port that knows the device it was opened on.
type tarmPort struct {
	*serial.Port
	path string
	fi   os.FileInfo
}

func (p *tarmPort) Present() error {
	fi, err := os.Stat(p.path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrGone, err)
	}
	if !os.SameFile(fi, p.fi) {
		return fmt.Errorf("%w: %s now names another device", ErrGone, p.path)
	}
	return nil
}
