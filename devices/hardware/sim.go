package hardware

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// simEdgeQueue bounds the edges a simulated input keeps for its reader,
// like the kernel's line event buffer; more are dropped.
const simEdgeQueue = 64

// simPublishTimeout bounds the publishing of an output level.
const simPublishTimeout = 5 * time.Second

// Client is the part of the broker's in-process client that a Simulated
// backend uses (devices.Client has this shape).
type Client interface {
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
	Subscribe(filter string, qos byte, h func(topic string, payload []byte)) error
}

// Simulated is simulated hardware: pins that exist when first named, and
// I2C buses given at creation. It is safe for concurrent use.
type Simulated struct {
	prefix string // edgemq/<gateway-id>/sim/gpio
	buses  map[string]i2c.Bus
	log    *slog.Logger

	mu     sync.Mutex
	pins   map[string]*SimPin
	client Client
}

var _ Hardware = (*Simulated)(nil)

// NewSimulated returns a simulated backend for gateway gatewayID with
// the given I2C buses, by name ("" is the default bus); a nil logger
// discards.
func NewSimulated(gatewayID string, buses map[string]i2c.Bus, log *slog.Logger) *Simulated {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Simulated{prefix: "edgemq/" + gatewayID + "/sim/gpio", buses: buses, log: log, pins: make(map[string]*SimPin)}
}

// ValidPinName reports whether name can name a simulated pin: 1 to 32
// letters, digits, '_' and '-'.
func ValidPinName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Pin returns the simulated pin named name, creating it (an input
// without pull, low) the first time.
func (s *Simulated) Pin(name string) (gpio.PinIO, error) {
	return s.SimPin(name)
}

// SimPin is Pin with the concrete type.
func (s *Simulated) SimPin(name string) (*SimPin, error) {
	if !ValidPinName(name) {
		return nil, fmt.Errorf("hardware: invalid simulated pin name %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pins[name]
	if p == nil {
		p = &SimPin{sim: s, name: name, num: len(s.pins), edges: make(chan struct{}, simEdgeQueue)}
		s.pins[name] = p
	}
	return p, nil
}

// I2C returns the simulated bus named bus. Closing it does nothing: the
// bus lives as long as the backend.
func (s *Simulated) I2C(bus string) (i2c.BusCloser, error) {
	b, ok := s.buses[bus]
	if !ok {
		names := make([]string, 0, len(s.buses))
		for n := range s.buses {
			names = append(names, fmt.Sprintf("%q", n))
		}
		sort.Strings(names)
		return nil, fmt.Errorf("hardware: no simulated I2C bus %q (simulated buses: %s)", bus, strings.Join(names, ", "))
	}
	return nopCloser{b}, nil
}

type nopCloser struct{ i2c.Bus }

func (nopCloser) Close() error { return nil }

// Attach makes c drive the simulated inputs (from
// <prefix>/<PIN>/set) and publishes the output levels on
// <prefix>/<PIN>, starting with the current ones. The subscription ends
// with c.
func (s *Simulated) Attach(c Client) error {
	s.mu.Lock()
	s.client = c
	var outs []*SimPin
	for _, p := range s.pins {
		outs = append(outs, p)
	}
	s.mu.Unlock()
	for _, p := range outs {
		if l, out := p.state(); out {
			s.publishLevel(p.name, l)
		}
	}
	return c.Subscribe(s.prefix+"/+/set", 0, s.onSet)
}

// Topic returns the topic on which the level of output pin name is
// published; commands to an input go to Topic(name)+"/set".
func (s *Simulated) Topic(name string) string { return s.prefix + "/" + name }

func (s *Simulated) onSet(topic string, payload []byte) {
	name := strings.TrimSuffix(strings.TrimPrefix(topic, s.prefix+"/"), "/set")
	var l gpio.Level
	switch strings.TrimSpace(string(payload)) {
	case "1":
		l = gpio.High
	case "0":
		l = gpio.Low
	default:
		s.log.Warn("simulated pin: want 0 or 1", "pin", name, "payload", string(payload))
		return
	}
	p, err := s.SimPin(name)
	if err != nil {
		s.log.Warn("simulated pin", "err", err)
		return
	}
	if err := p.Set(l); err != nil {
		s.log.Warn("simulated pin", "pin", name, "err", err)
	}
}

func (s *Simulated) publishLevel(name string, l gpio.Level) {
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c == nil {
		return
	}
	payload := "0"
	if l {
		payload = "1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), simPublishTimeout)
	defer cancel()
	if err := c.Publish(ctx, s.Topic(name), []byte(payload), 0, true); err != nil {
		s.log.Warn("simulated pin level not published", "pin", name, "err", err)
	}
}

// SimPin is a simulated GPIO pin; it implements gpio.PinIO. Set drives it
// from outside when it is an input; Out publishes its level when its
// backend is attached to a client.
type SimPin struct {
	sim   *Simulated
	name  string
	num   int
	edges chan struct{}

	mu     sync.Mutex
	level  gpio.Level
	driven bool // Set was called: the level no longer follows the pull
	output bool
	pull   gpio.Pull
	edge   gpio.Edge
}

var _ gpio.PinIO = (*SimPin)(nil)

func (p *SimPin) state() (gpio.Level, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level, p.output
}

// Set sets the level of an input pin, as the outside world would; an
// edge of the kind the pin waits for wakes WaitForEdge. Setting an
// output pin is an error.
func (p *SimPin) Set(l gpio.Level) error {
	p.mu.Lock()
	if p.output {
		p.mu.Unlock()
		return fmt.Errorf("hardware: simulated pin %s is an output", p.name)
	}
	old := p.level
	p.level, p.driven = l, true
	wake := old != l && (p.edge == gpio.BothEdges || p.edge == gpio.RisingEdge && l || p.edge == gpio.FallingEdge && !l)
	p.mu.Unlock()
	if wake {
		select {
		case p.edges <- struct{}{}:
		default: // like a full kernel buffer: the edge is lost
		}
	}
	return nil
}

// Level returns the pin's level.
func (p *SimPin) Level() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// String implements conn.Resource.
func (p *SimPin) String() string { return "sim:" + p.name }

// Halt implements conn.Resource; it does nothing.
func (p *SimPin) Halt() error { return nil }

// Name implements pin.Pin.
func (p *SimPin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *SimPin) Number() int { return p.num }

// Function implements pin.Pin.
func (p *SimPin) Function() string { return string(p.Func()) }

// Func implements pin.PinFunc.
func (p *SimPin) Func() pin.Func {
	_, out := p.state()
	if out {
		return gpio.OUT
	}
	return gpio.IN
}

// SupportedFuncs implements pin.PinFunc.
func (p *SimPin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN, gpio.OUT} }

// SetFunc implements pin.PinFunc.
func (p *SimPin) SetFunc(f pin.Func) error {
	switch f {
	case gpio.IN:
		return p.In(gpio.PullNoChange, gpio.NoEdge)
	case gpio.OUT:
		return p.Out(p.Level())
	}
	return fmt.Errorf("hardware: simulated pin %s: function %s not supported", p.name, f)
}

// In implements gpio.PinIn. An input never driven with Set reads its
// pull: high with a pull-up, else low.
func (p *SimPin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	p.output = false
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	if !p.driven {
		p.level = p.pull == gpio.PullUp
	}
	p.edge = edge
	p.mu.Unlock()
	for {
		select {
		case <-p.edges:
		default:
			return nil
		}
	}
}

// Read implements gpio.PinIn.
func (p *SimPin) Read() gpio.Level { return p.Level() }

// WaitForEdge implements gpio.PinIn: it waits up to timeout (negative:
// forever) for an edge of the kind given to In.
func (p *SimPin) WaitForEdge(timeout time.Duration) bool {
	if timeout < 0 {
		<-p.edges
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *SimPin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn.
func (p *SimPin) DefaultPull() gpio.Pull { return gpio.Float }

// Out implements gpio.PinOut: it sets the level and publishes it.
func (p *SimPin) Out(l gpio.Level) error {
	p.mu.Lock()
	p.output, p.level = true, l
	p.mu.Unlock()
	p.sim.publishLevel(p.name, l)
	return nil
}

// PWM implements gpio.PinOut; simulated pins have no PWM.
func (p *SimPin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("hardware: simulated pin %s: no PWM", p.name)
}
