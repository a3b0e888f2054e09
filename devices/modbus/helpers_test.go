package modbus_test

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

// serve runs sim.Serve until the test ends and checks that it returned
// cleanly. closeFn closes the simulator's end of the port.
func serve(t testing.TB, sim *modbustest.Slave, closeFn func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var serr error
	go func() {
		defer wg.Done()
		serr = sim.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		_ = closeFn()
		wg.Wait()
		if serr != nil {
			t.Errorf("Serve: %v", serr)
		}
	})
}

// pipeBus returns a simulator for ids and the master's end of a net.Pipe
// to it, wrapped by wrap when not nil.
func pipeBus(t testing.TB, wrap func(net.Conn) modbus.Port, ids ...byte) (modbus.Port, *modbustest.Slave) {
	t.Helper()
	master, slave := net.Pipe()
	t.Cleanup(func() { _ = master.Close() })
	sim := modbustest.NewSlave(slave, ids...)
	serve(t, sim, slave.Close)
	if wrap != nil {
		return wrap(master), sim
	}
	return master, sim
}

// corruptPort flips a bit in the next response byte it reads while
// corrupt is above zero, once per count.
type corruptPort struct {
	net.Conn
	corrupt atomic.Int32
}

func (p *corruptPort) Read(b []byte) (int, error) {
	n, err := p.Conn.Read(b)
	if n > 0 && p.corrupt.Load() > 0 {
		p.corrupt.Add(-1)
		b[n-1] ^= 0x10
	}
	return n, err
}

// strayPort returns injected bytes before what the port delivers.
type strayPort struct {
	net.Conn
	mu    sync.Mutex
	stray []byte
}

func (p *strayPort) inject(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stray = append(p.stray, b...)
}

func (p *strayPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	if len(p.stray) > 0 {
		n := copy(b, p.stray)
		p.stray = p.stray[n:]
		p.mu.Unlock()
		return n, nil
	}
	p.mu.Unlock()
	return p.Conn.Read(b)
}

// scriptedPort records the request and answers with resp, split after
// split bytes into two reads, then reports read timeouts.
type scriptedPort struct {
	req   []byte
	resp  []byte
	split int
	reads int
}

func (p *scriptedPort) Write(b []byte) (int, error) {
	p.req = append(p.req[:0], b...)
	return len(b), nil
}

func (p *scriptedPort) Read(b []byte) (int, error) {
	if len(p.resp) == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	p.reads++
	lim := len(p.resp)
	if p.split > 0 && p.split < lim {
		lim = p.split
		p.split = 0
	}
	n := copy(b, p.resp[:lim])
	p.resp = p.resp[n:]
	return n, nil
}

func (p *scriptedPort) SetReadDeadline(time.Time) error { return nil }

// tarmPort behaves like github.com/tarm/serial with a read timeout: a read
// that times out returns (0, io.EOF). It hides the file's deadlines.
type tarmPort struct {
	f       *os.File
	timeout time.Duration
}

func (p tarmPort) Read(b []byte) (int, error) {
	if err := p.f.SetReadDeadline(time.Now().Add(p.timeout)); err != nil {
		return 0, err
	}
	n, err := p.f.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errEOF
	}
	return n, err
}

func (p tarmPort) Write(b []byte) (int, error) { return p.f.Write(b) }
