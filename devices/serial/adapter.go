package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/edgemq/edgemq/devices"
)

// hangupReads is how many empty reads in a row, each returning in less
// than a quarter of the read timeout, mean the device hung up (a USB
// serial adapter unplugged, a pseudo-terminal's other end closed).
const hangupReads = 20

// readBuf is the size of one read.
const readBuf = 512

// ErrHangup: the port returns nothing at once, again and again.
var ErrHangup = errors.New("serial: device hung up")

// Adapter reads lines from a serial port; it implements devices.Adapter
// and devices.Commander.
type Adapter struct {
	cfg       Config
	parse     Parser
	templates map[string]string
	ending    string
}

var (
	_ devices.Adapter   = (*Adapter)(nil)
	_ devices.Commander = (*Adapter)(nil)
)

// New checks c and returns its adapter.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p, err := NewParser(c)
	if err != nil {
		return nil, err
	}
	c = c.withDefaults()
	a := &Adapter{cfg: c, parse: p, templates: make(map[string]string)}
	for _, cmd := range c.Commands {
		t := cmd.Template
		if t == "" {
			t = "{value}"
		}
		a.templates[cmd.Field] = t
	}
	switch c.LineEnding {
	case "crlf":
		a.ending = "\r\n"
	case "cr":
		a.ending = "\r"
	default:
		a.ending = "\n"
	}
	return a, nil
}

// Writable returns the fields of Config.Commands.
func (a *Adapter) Writable() []string {
	out := make([]string, 0, len(a.cfg.Commands))
	for _, c := range a.cfg.Commands {
		out = append(out, c.Field)
	}
	return out
}

// Run opens the port and publishes the lines it reads until ctx is done,
// the port fails or the device disappears. Commands are written between
// reads, so they wait at most one read timeout.
func (a *Adapter) Run(ctx context.Context, out devices.Publisher) error {
	port, err := a.cfg.Open(a.cfg)
	if err != nil {
		return err
	}
	defer port.Close() // no read is pending: reads happen on this goroutine
	var pubErr error
	sp := newSplitter(a.cfg.LineEnding, a.cfg.MaxLine)
	onLine := func(line []byte) {
		out.Count(devices.LinesRead, 1)
		fs, err := a.parse(string(line))
		switch {
		case errors.Is(err, errSkip):
			return
		case err != nil:
			out.Count(devices.ParseErrors, 1)
			return
		}
		if err := out.Publish(ctx, devices.Reading{Fields: fs}); err != nil && ctx.Err() != nil {
			pubErr = err
		}
	}
	tooLong := func() {
		out.Count(devices.LinesRead, 1)
		out.Count(devices.ParseErrors, 1)
	}
	buf := make([]byte, readBuf)
	fast := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.commands(ctx, port, out); err != nil {
			return err
		}
		start := time.Now()
		n, err := port.Read(buf)
		if n > 0 {
			fast = 0
			sp.feed(buf[:n], onLine, tooLong)
			if pubErr != nil {
				return pubErr
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("serial: read %s: %w", a.cfg.Port, err)
		}
		if n > 0 {
			continue
		}
		if time.Since(start) < a.cfg.ReadTimeout/4 {
			fast++
			if fast >= hangupReads {
				return fmt.Errorf("%w: %s", ErrHangup, a.cfg.Port)
			}
		} else {
			fast = 0
		}
		if p, ok := port.(presence); ok {
			if err := p.Present(); err != nil {
				return err
			}
		}
	}
}

// commands writes the pending commands to the port and confirms each by
// publishing the field's new value.
func (a *Adapter) commands(ctx context.Context, port Port, out devices.Publisher) error {
	for {
		var cmd devices.Command
		select {
		case cmd = <-out.Commands():
		default:
			return nil
		}
		tpl, ok := a.templates[cmd.Field]
		if !ok || len(cmd.Payload) > a.cfg.MaxLine || !printable(cmd.Payload) {
			out.Count(devices.CommandsRejected, 1)
			continue
		}
		line := strings.ReplaceAll(tpl, "{value}", cmd.Payload) + a.ending
		if _, err := io.WriteString(port, line); err != nil {
			return fmt.Errorf("serial: write %s: %w", a.cfg.Port, err)
		}
		r := devices.Reading{Fields: []devices.Field{{Name: cmd.Field, Value: value(cmd.Payload)}}}
		if err := out.Publish(ctx, r); err != nil && ctx.Err() != nil {
			return err
		}
	}
}
