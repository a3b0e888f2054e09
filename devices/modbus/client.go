package modbus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Function codes supported by Client.
const (
	FuncReadCoils              byte = 1
	FuncReadDiscreteInputs     byte = 2
	FuncReadHoldingRegisters   byte = 3
	FuncReadInputRegisters     byte = 4
	FuncWriteSingleCoil        byte = 5
	FuncWriteSingleRegister    byte = 6
	FuncWriteMultipleCoils     byte = 15
	FuncWriteMultipleRegisters byte = 16
)

// Protocol limits on quantities per request.
const (
	MaxReadBits       = 2000
	MaxReadRegisters  = 125
	MaxWriteBits      = 1968
	MaxWriteRegisters = 123
)

// BroadcastID is the slave id that addresses every slave. Only writes may
// be broadcast, and no response is awaited.
const BroadcastID = 0

// MaxSlaveID is the highest unicast slave id.
const MaxSlaveID = 247

// Port is the byte stream the client talks over, normally a serial port.
//
// Reads must not block forever: either the port has a read timeout (a
// read that times out may return (0, io.EOF), as github.com/tarm/serial
// does; the client treats that as "no data yet") or it implements
//
//	SetReadDeadline(time.Time) error
//
// as net.Conn and pollable *os.File do, which the client then uses for its
// own deadlines. A port that implements
//
//	Flush() error
//
// (tarm/serial: discard unread input and unsent output) is flushed before
// each request. SetWriteDeadline(time.Time) error is used when present.
type Port interface {
	io.ReadWriter
}

type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

type writeDeadliner interface {
	SetWriteDeadline(time.Time) error
}

type flusher interface {
	Flush() error
}

// Options configure a Client. The zero value gives the defaults.
type Options struct {
	// Timeout bounds each attempt, from sending the request to the last
	// byte of the response. Default 1 s. A context deadline that comes
	// sooner wins.
	Timeout time.Duration
	// Retries is how many times a request is repeated after a timeout or
	// a bad frame. Default 0; negative means 0.
	Retries int
	// DrainTimeout is how long the client reads and discards stray bytes
	// after a failed attempt, on ports with SetReadDeadline. Default 20 ms.
	DrainTimeout time.Duration
}

// Client is a Modbus RTU master. Its methods are safe for concurrent use:
// requests are serialised, one on the bus at a time, so several
// goroutines may poll several slaves through one Client. Do not give the
// same port to two Clients.
type Client struct {
	port Port
	opts Options

	mu    sync.Mutex // serialises requests; guards the fields below
	dirty bool       // the last attempt failed: stray bytes may follow
	wbuf  [260]byte
	rbuf  [260]byte
}

// NewClient returns a client that talks over port. The client does not
// close the port.
func NewClient(port Port, opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 20 * time.Millisecond
	}
	return &Client{port: port, opts: opts}
}

// ReadCoils reads qty coils (function 1) starting at addr.
func (c *Client) ReadCoils(ctx context.Context, slave byte, addr, qty uint16) ([]bool, error) {
	return c.readBits(ctx, slave, FuncReadCoils, addr, qty)
}

// ReadDiscreteInputs reads qty discrete inputs (function 2) starting at addr.
func (c *Client) ReadDiscreteInputs(ctx context.Context, slave byte, addr, qty uint16) ([]bool, error) {
	return c.readBits(ctx, slave, FuncReadDiscreteInputs, addr, qty)
}

// ReadHoldingRegisters reads qty holding registers (function 3) starting
// at addr.
func (c *Client) ReadHoldingRegisters(ctx context.Context, slave byte, addr, qty uint16) ([]uint16, error) {
	return c.readRegisters(ctx, slave, FuncReadHoldingRegisters, addr, qty)
}

// ReadInputRegisters reads qty input registers (function 4) starting at
// addr.
func (c *Client) ReadInputRegisters(ctx context.Context, slave byte, addr, qty uint16) ([]uint16, error) {
	return c.readRegisters(ctx, slave, FuncReadInputRegisters, addr, qty)
}

// WriteSingleCoil sets one coil (function 5). With BroadcastID no
// response is awaited.
func (c *Client) WriteSingleCoil(ctx context.Context, slave byte, addr uint16, v bool) error {
	var val uint16
	if v {
		val = 0xFF00
	}
	return c.writeSingle(ctx, slave, FuncWriteSingleCoil, addr, val)
}

// WriteSingleRegister writes one holding register (function 6). With
// BroadcastID no response is awaited.
func (c *Client) WriteSingleRegister(ctx context.Context, slave byte, addr, v uint16) error {
	return c.writeSingle(ctx, slave, FuncWriteSingleRegister, addr, v)
}

// WriteMultipleCoils sets len(vals) coils from addr (function 15). With
// BroadcastID no response is awaited.
func (c *Client) WriteMultipleCoils(ctx context.Context, slave byte, addr uint16, vals []bool) error {
	if err := checkRange(slave, true, addr, len(vals), MaxWriteBits); err != nil {
		return err
	}
	n := (len(vals) + 7) / 8
	data := make([]byte, 5+n)
	putRange(data, addr, uint16(len(vals)))
	data[4] = byte(n)
	for i, v := range vals {
		if v {
			data[5+i/8] |= 1 << (i % 8)
		}
	}
	r := request{slave: slave, fn: FuncWriteMultipleCoils, addr: addr, qty: uint16(len(vals)), data: data}
	return c.roundTrip(ctx, &r, nil)
}

// WriteMultipleRegisters writes len(vals) holding registers from addr
// (function 16). With BroadcastID no response is awaited.
func (c *Client) WriteMultipleRegisters(ctx context.Context, slave byte, addr uint16, vals []uint16) error {
	if err := checkRange(slave, true, addr, len(vals), MaxWriteRegisters); err != nil {
		return err
	}
	data := make([]byte, 5+2*len(vals))
	putRange(data, addr, uint16(len(vals)))
	data[4] = byte(2 * len(vals))
	for i, v := range vals {
		data[5+2*i], data[6+2*i] = byte(v>>8), byte(v)
	}
	r := request{slave: slave, fn: FuncWriteMultipleRegisters, addr: addr, qty: uint16(len(vals)), data: data}
	return c.roundTrip(ctx, &r, nil)
}

func (c *Client) readBits(ctx context.Context, slave, fn byte, addr, qty uint16) ([]bool, error) {
	if err := checkRange(slave, false, addr, int(qty), MaxReadBits); err != nil {
		return nil, err
	}
	var d [4]byte
	putRange(d[:], addr, qty)
	r := request{slave: slave, fn: fn, addr: addr, qty: qty, data: d[:]}
	out := make([]bool, qty)
	err := c.roundTrip(ctx, &r, func(b []byte) {
		for i := range out {
			out[i] = b[i/8]&(1<<(i%8)) != 0
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) readRegisters(ctx context.Context, slave, fn byte, addr, qty uint16) ([]uint16, error) {
	if err := checkRange(slave, false, addr, int(qty), MaxReadRegisters); err != nil {
		return nil, err
	}
	var d [4]byte
	putRange(d[:], addr, qty)
	r := request{slave: slave, fn: fn, addr: addr, qty: qty, data: d[:]}
	out := make([]uint16, qty)
	err := c.roundTrip(ctx, &r, func(b []byte) {
		for i := range out {
			out[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) writeSingle(ctx context.Context, slave, fn byte, addr, val uint16) error {
	if err := checkRange(slave, true, addr, 1, 1); err != nil {
		return err
	}
	var d [4]byte
	putRange(d[:], addr, val)
	r := request{slave: slave, fn: fn, addr: addr, qty: val, data: d[:]}
	return c.roundTrip(ctx, &r, nil)
}

func checkRange(slave byte, write bool, addr uint16, qty, max int) error {
	if slave > MaxSlaveID || (slave == BroadcastID && !write) {
		return fmt.Errorf("slave id %d: %w", slave, ErrInvalid)
	}
	if qty < 1 || qty > max {
		return fmt.Errorf("quantity %d not in 1..%d: %w", qty, max, ErrInvalid)
	}
	if int(addr)+qty > 0x10000 {
		return fmt.Errorf("address %d + quantity %d exceeds 65536: %w", addr, qty, ErrInvalid)
	}
	return nil
}

func putRange(b []byte, addr, qty uint16) {
	b[0], b[1], b[2], b[3] = byte(addr>>8), byte(addr), byte(qty>>8), byte(qty)
}

// roundTrip sends r with retries and hands the response data (after the
// byte count for reads) to decode, under the lock.
func (c *Client) roundTrip(ctx context.Context, r *request, decode func([]byte)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		data, err := c.attempt(ctx, r)
		if err == nil {
			if decode != nil {
				decode(data)
			}
			return nil
		}
		retry := errors.Is(err, ErrTimeout) || errors.Is(err, ErrBadFrame)
		if retry {
			c.dirty = true
		}
		if !retry || attempt >= c.opts.Retries || ctx.Err() != nil {
			return fmt.Errorf("slave %d function %d address %d: %w", r.slave, r.fn, r.addr, err)
		}
	}
}

// attempt sends r once and reads its response.
func (c *Client) attempt(ctx context.Context, r *request) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.discard()

	deadline := time.Now().Add(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	frame := append(c.wbuf[:0], r.slave, r.fn)
	frame = AppendCRC(append(frame, r.data...))
	if wd, ok := c.port.(writeDeadliner); ok && wd.SetWriteDeadline(deadline) == nil {
		defer func() { _ = wd.SetWriteDeadline(time.Time{}) }()
	}
	if _, err := c.port.Write(frame); err != nil {
		if isTimeout(err) {
			return nil, fmt.Errorf("%w: write: %v", ErrTimeout, err)
		}
		return nil, fmt.Errorf("modbus: write: %w", err)
	}
	if r.slave == BroadcastID {
		return nil, nil
	}

	rd, hasRD := c.port.(readDeadliner)
	if hasRD && rd.SetReadDeadline(deadline) != nil {
		hasRD = false // e.g. os.ErrNoDeadline: rely on the port's timeout
	}
	if hasRD {
		defer func() { _ = rd.SetReadDeadline(time.Time{}) }()
		if ctx.Done() != nil {
			stop := context.AfterFunc(ctx, func() { _ = rd.SetReadDeadline(time.Now()) })
			defer stop()
		}
	}

	buf := c.rbuf[:]
	got, want, known := 0, 5, false // every response is at least 5 bytes
	for got < want {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%w: %d of %d bytes after %v", ErrTimeout, got, want, c.opts.Timeout)
		}
		n, err := c.port.Read(buf[got:want])
		got += n
		if !known && got >= 2 {
			l, lerr := r.responseLen(buf[:got])
			if lerr != nil {
				return nil, lerr
			}
			want, known = l, true
		}
		switch {
		case err == nil:
		case isTimeout(err):
		case errors.Is(err, io.EOF):
			if n == 0 {
				// tarm/serial read timeout, or an unplugged device that
				// returns EOF at once: do not spin.
				time.Sleep(min(5*time.Millisecond, time.Until(deadline)))
			}
		default:
			return nil, fmt.Errorf("modbus: read: %w", err)
		}
	}
	return r.parse(buf[:got])
}

// discard drops stray input before a request: it flushes ports that can,
// and after a failed attempt reads and drops what arrives within
// DrainTimeout (ports with deadlines) or until a read returns nothing
// (ports with a read timeout and no Flush).
func (c *Client) discard() {
	f, canFlush := c.port.(flusher)
	if canFlush {
		_ = f.Flush()
	}
	if !c.dirty {
		return
	}
	c.dirty = false
	rd, hasRD := c.port.(readDeadliner)
	if hasRD && rd.SetReadDeadline(time.Now().Add(c.opts.DrainTimeout)) != nil {
		hasRD = false
	}
	if !hasRD && canFlush {
		return
	}
	if hasRD {
		defer func() { _ = rd.SetReadDeadline(time.Time{}) }()
	}
	end := time.Now().Add(c.opts.DrainTimeout)
	for total := 0; total < 4096; {
		n, err := c.port.Read(c.rbuf[:])
		total += n
		if n == 0 || err != nil && !errors.Is(err, io.EOF) || !time.Now().Before(end) {
			return
		}
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
