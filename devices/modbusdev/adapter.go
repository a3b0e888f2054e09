package modbusdev

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/modbus"
)

// Adapter polls the slaves of one Modbus RTU bus; it implements
// devices.Adapter and devices.Commander.
type Adapter struct {
	cfg      Config
	retries  int
	slaves   []*slave
	writable map[string]*point // by "<slave>/<point>"
	order    []string          // writable keys in configuration order
}

var (
	_ devices.Adapter   = (*Adapter)(nil)
	_ devices.Commander = (*Adapter)(nil)
)

// slave is the poll state of one slave. Only Run's goroutine uses it.
type slave struct {
	id     byte
	name   string
	blocks []*block
	// status is the last published status: 0 none yet, 1 online, -1
	// offline.
	status int
}

// block is one read request: consecutive points of one table.
type block struct {
	fn     byte // modbus.FuncRead...
	addr   uint16
	qty    uint16
	points []*point
}

// point is a Point ready to decode and encode.
type point struct {
	Point
	slave    *slave
	fn       byte // read function
	typ      modbus.DataType
	order    modbus.Order
	regs     int // registers (1 for bits)
	scale    float64
	decimals int // -1: shortest float32 text
}

// New checks c and returns its adapter.
func New(c Config) (*Adapter, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	a := &Adapter{cfg: c, retries: *c.Retries, writable: make(map[string]*point)}
	for _, sc := range c.Slaves {
		s := &slave{id: byte(sc.ID), name: sc.Name}
		var pts []*point
		for _, pc := range sc.Points {
			p := newPoint(pc, s)
			pts = append(pts, p)
			if pc.Writable {
				key := sc.Name + "/" + pc.Name
				a.writable[key] = p
				a.order = append(a.order, key)
			}
		}
		s.blocks = blocks(pts)
		a.slaves = append(a.slaves, s)
	}
	return a, nil
}

var readFuncs = map[string]byte{
	"coil": modbus.FuncReadCoils, "discrete": modbus.FuncReadDiscreteInputs,
	"holding": modbus.FuncReadHoldingRegisters, "input": modbus.FuncReadInputRegisters,
}

func newPoint(pc Point, s *slave) *point {
	p := &point{Point: pc, slave: s, fn: readFuncs[pc.Table], typ: pc.dataType(), order: modbus.Order(pc.Order), scale: 1}
	p.regs = p.typ.Registers()
	if p.bits() {
		p.regs = 1
	}
	if pc.Scale != nil {
		p.scale = *pc.Scale
	}
	switch {
	case p.isBool():
		p.decimals = 0
	case pc.Decimals != nil:
		p.decimals = *pc.Decimals
	case p.typ == modbus.Float32:
		p.decimals = -1
	default:
		p.decimals = min(max(decimalsOf(p.scale), decimalsOf(pc.Offset)), devices.MaxDecimals)
	}
	return p
}

func (p *point) bits() bool {
	return p.fn == modbus.FuncReadCoils || p.fn == modbus.FuncReadDiscreteInputs
}

func (p *point) isBool() bool { return p.bits() || p.typ == modbus.Bool }

// decimalsOf returns how many decimals x has in its shortest text.
func decimalsOf(x float64) int {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// blocks groups points into read requests: points of one table whose
// registers (or bits) follow each other without a gap share a request,
// up to the protocol's limit. Gaps are never read across: meters often
// answer "illegal data address" for unmapped registers.
func blocks(pts []*point) []*block {
	var out []*block
	for _, p := range pts {
		limit := modbus.MaxReadRegisters
		if p.bits() {
			limit = modbus.MaxReadBits
		}
		merged := false
		for _, b := range out {
			if b.fn == p.fn && int(b.addr)+int(b.qty) == p.Address && int(b.qty)+p.regs <= limit {
				b.qty += uint16(p.regs)
				b.points = append(b.points, p)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, single(p))
		}
	}
	return out
}

// single is the request that reads p alone.
func single(p *point) *block {
	return &block{fn: p.fn, addr: uint16(p.Address), qty: uint16(p.regs), points: []*point{p}}
}

// Writable returns "<slave>/<point>" for the writable points.
func (a *Adapter) Writable() []string { return append([]string(nil), a.order...) }

// Unit returns the unit of field "<slave>/<point>", or "".
func (a *Adapter) Unit(field string) string {
	slaveName, pointName, _ := strings.Cut(field, "/")
	for i, s := range a.slaves {
		if s.name != slaveName {
			continue
		}
		for _, p := range a.cfg.Slaves[i].Points {
			if p.Name == pointName {
				return p.Unit
			}
		}
	}
	return ""
}

// Run opens the port and polls every slave once per interval, one
// request at a time, until ctx is done or the port fails. Commands are
// handled between slaves and between cycles. A slave that does not
// answer (after the retries) is published offline and skipped for the
// rest of the cycle; the others are polled on schedule. Run must not be
// called again before it returned (the Supervisor never does).
func (a *Adapter) Run(ctx context.Context, out devices.Publisher) error {
	port, err := a.cfg.Open(a.cfg)
	if err != nil {
		return err
	}
	defer port.Close() // no read is pending: requests run on this goroutine

	// Retries are ours: an offline slave gets one attempt.
	c := modbus.NewClient(port, modbus.Options{Timeout: a.cfg.Timeout})
	for _, s := range a.slaves {
		s.status = 0 // publish every slave's status once per run
	}
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		if err := a.pollAll(ctx, c, out); err != nil {
			return err
		}
		if p, ok := port.(interface{ Present() error }); ok {
			if err := p.Present(); err != nil {
				return err
			}
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case cmd := <-out.Commands():
				if err := a.command(ctx, c, out, cmd); err != nil {
					return err
				}
			case <-t.C:
				break wait
			}
		}
	}
}

// pollAll polls every slave once, handling pending commands between
// slaves.
func (a *Adapter) pollAll(ctx context.Context, c *modbus.Client, out devices.Publisher) error {
	for _, s := range a.slaves {
		if err := a.pollSlave(ctx, c, out, s); err != nil {
			return err
		}
		if err := a.pending(ctx, c, out); err != nil {
			return err
		}
	}
	return nil
}

// pending handles the commands that are waiting, without blocking.
func (a *Adapter) pending(ctx context.Context, c *modbus.Client, out devices.Publisher) error {
	for {
		select {
		case cmd := <-out.Commands():
			if err := a.command(ctx, c, out, cmd); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// pollSlave reads every block of s and publishes what it read as one
// reading, and s's status when it changed. It returns only port errors
// and ctx's.
func (a *Adapter) pollSlave(ctx context.Context, c *modbus.Client, out devices.Publisher, s *slave) error {
	var fields []devices.Field
	answered := true
	for i := 0; i < len(s.blocks); i++ {
		b := s.blocks[i]
		fs, err := a.readBlock(ctx, c, out, s, b)
		var ee *modbus.ExceptionError
		switch {
		case err == nil:
			fields = append(fields, fs...)
		case errors.As(err, &ee):
			if len(b.points) > 1 {
				// Some meters refuse a request spanning several values:
				// read these points one by one from now on.
				var split []*block
				for _, p := range b.points {
					split = append(split, single(p))
				}
				s.blocks = append(s.blocks[:i], append(split, s.blocks[i+1:]...)...)
				i--
				continue
			}
			out.Count(devices.ParseErrors, 1) // the slave refused this point
		case errors.Is(err, modbus.ErrTimeout) || errors.Is(err, modbus.ErrBadFrame):
			answered = false
		default:
			return err
		}
		if !answered {
			break // a silent slave costs the others one timeout per cycle
		}
	}
	if answered && len(fields) > 0 {
		if err := out.Publish(ctx, devices.Reading{Group: s.name, Fields: fields}); err != nil && ctx.Err() != nil {
			return err
		}
	}
	return a.setStatus(ctx, out, s, answered)
}

// setStatus publishes s's status if it changed.
func (a *Adapter) setStatus(ctx context.Context, out devices.Publisher, s *slave, online bool) error {
	want := -1
	if online {
		want = 1
	}
	if s.status == want {
		return nil
	}
	gs, ok := out.(devices.GroupStatusPublisher)
	if !ok {
		s.status = want
		return nil
	}
	if err := gs.PublishGroupStatus(ctx, s.name, online); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return nil // published again after the next poll
	}
	s.status = want
	return nil
}

// request runs do with the retries (one attempt for an offline slave),
// counting polls and responses. Timeouts and garbled responses are
// retried; exceptions are answers.
func (a *Adapter) request(ctx context.Context, out devices.Publisher, s *slave, do func() error) error {
	tries := a.retries + 1
	if s.status < 0 {
		tries = 1
	}
	var err error
	for range tries {
		out.Count(devices.Polls, 1)
		err = do()
		var ee *modbus.ExceptionError
		if err == nil || errors.As(err, &ee) {
			out.Count(devices.LinesRead, 1)
			return err
		}
		if !errors.Is(err, modbus.ErrTimeout) && !errors.Is(err, modbus.ErrBadFrame) || ctx.Err() != nil {
			break
		}
		if errors.Is(err, modbus.ErrBadFrame) {
			out.Count(devices.LinesRead, 1)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// readBlock reads b from s and returns its points' fields.
func (a *Adapter) readBlock(ctx context.Context, c *modbus.Client, out devices.Publisher, s *slave, b *block) ([]devices.Field, error) {
	var bits []bool
	var regs []uint16
	err := a.request(ctx, out, s, func() error {
		var err error
		switch b.fn {
		case modbus.FuncReadCoils:
			bits, err = c.ReadCoils(ctx, s.id, b.addr, b.qty)
		case modbus.FuncReadDiscreteInputs:
			bits, err = c.ReadDiscreteInputs(ctx, s.id, b.addr, b.qty)
		case modbus.FuncReadHoldingRegisters:
			regs, err = c.ReadHoldingRegisters(ctx, s.id, b.addr, b.qty)
		default:
			regs, err = c.ReadInputRegisters(ctx, s.id, b.addr, b.qty)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	fields := make([]devices.Field, 0, len(b.points))
	for _, p := range b.points {
		off := p.Address - int(b.addr)
		var raw float64
		if bits != nil {
			if bits[off] {
				raw = 1
			}
		} else {
			raw, err = modbus.Decode(regs[off:off+p.regs], p.typ, p.order)
			if err != nil {
				return nil, err // not reached: types and orders are checked
			}
		}
		fields = append(fields, devices.Field{Name: p.Name, Value: p.value(raw)})
	}
	return fields, nil
}

// value turns a raw value into the published number: raw*scale+offset
// with the point's decimals. A float32 NaN or infinity gives an invalid
// value, which the publisher counts as a parse error.
func (p *point) value(raw float64) devices.Value {
	if p.isBool() {
		return devices.Number(raw, 0)
	}
	v := raw*p.scale + p.Offset
	if p.decimals >= 0 {
		return devices.Number(v, p.decimals)
	}
	// float32: the shortest text that reads back as the same float32.
	if f := float32(v); !math.IsInf(float64(f), 0) && !math.IsNaN(v) {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 32), 64)
	}
	return devices.Number(v, -1)
}

// parseBool reads a command for a bit: ON, OFF, 1, 0, true, false (any
// case).
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "1", "true":
		return true, true
	case "off", "0", "false":
		return false, true
	}
	return false, false
}

// encode turns a command payload into the bit or registers to write.
func (p *point) encode(payload string) (bit bool, regs []uint16, err error) {
	if p.isBool() {
		b, ok := parseBool(payload)
		if !ok {
			return false, nil, fmt.Errorf("want ON, OFF, 1, 0, true or false, got %q", payload)
		}
		if p.bits() {
			return b, nil, nil
		}
		v := 0.0
		if b {
			v = 1
		}
		regs, err = modbus.Encode(v, p.typ, p.order)
		return false, regs, err
	}
	v, ok := devices.ParseNumber(strings.TrimSpace(payload))
	if !ok {
		return false, nil, fmt.Errorf("want a number, got %q", payload)
	}
	regs, err = modbus.Encode((v.Float()-p.Offset)/p.scale, p.typ, p.order)
	return false, regs, err
}

// command writes one command to its point, then reads the point back
// and publishes it. A bad payload, an unknown field or an exception is
// counted as a rejected command; a slave that does not answer goes offline.
// It returns only port errors and ctx's.
func (a *Adapter) command(ctx context.Context, c *modbus.Client, out devices.Publisher, cmd devices.Command) error {
	p := a.writable[cmd.Field]
	if p == nil {
		out.Count(devices.CommandsRejected, 1)
		return nil
	}
	bit, regs, err := p.encode(cmd.Payload)
	if err != nil {
		out.Count(devices.CommandsRejected, 1)
		return nil
	}
	s := p.slave
	err = a.request(ctx, out, s, func() error {
		switch {
		case p.bits():
			return c.WriteSingleCoil(ctx, s.id, uint16(p.Address), bit)
		case len(regs) == 1:
			return c.WriteSingleRegister(ctx, s.id, uint16(p.Address), regs[0])
		default:
			return c.WriteMultipleRegisters(ctx, s.id, uint16(p.Address), regs)
		}
	})
	if err == nil {
		var fs []devices.Field
		fs, err = a.readBlock(ctx, c, out, s, single(p))
		if err == nil {
			if perr := out.Publish(ctx, devices.Reading{Group: s.name, Fields: fs}); perr != nil && ctx.Err() != nil {
				return perr
			}
			return a.setStatus(ctx, out, s, true)
		}
	}
	var ee *modbus.ExceptionError
	switch {
	case errors.As(err, &ee):
		out.Count(devices.CommandsRejected, 1)
		return a.setStatus(ctx, out, s, true)
	case errors.Is(err, modbus.ErrTimeout) || errors.Is(err, modbus.ErrBadFrame):
		return a.setStatus(ctx, out, s, false)
	}
	return err
}
