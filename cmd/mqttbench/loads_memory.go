package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

func memoryLoad() Load {
	return Load{
		Name:    "memory",
		Desc:    "broker RSS idle, then with 1000 and 5000 idle MQTT 3.1.1 connections (keep alive 60 s, clean session)",
		Run:     runMemory,
		Targets: []Goal{goalAtMost(mIdleRSS), goalBelow(bytesPerConnMetric(5000), 4096)},
	}
}

// settleMax bounds how long RSS may take to settle after each step.
const settleMax = 10 * time.Second

// idleKeepAlive is the keep alive announced by the idle connections; the
// memory load finishes well within 1.5 times it.
const idleKeepAlive = 60

func rssMetric(n int) string          { return fmt.Sprintf("RSS @%d conns", n) }
func bytesPerConnMetric(n int) string { return fmt.Sprintf("bytes/conn @%d", n) }
func anonPerConnMetric(n int) string  { return fmt.Sprintf("anon bytes/conn @%d", n) }

func runMemory(ctx context.Context, env Env) (*Sample, error) {
	if env.PID <= 0 {
		return nil, errors.New("memory load needs the broker PID (--pid)")
	}
	p := env.Params.withDefaults(0, 0)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(p.Conns[len(p.Conns)-1]+256) {
		return nil, fmt.Errorf("RLIMIT_NOFILE %d is too low for %d connections", lim.Cur, p.Conns[len(p.Conns)-1])
	}
	interval := env.Settle
	if interval <= 0 {
		interval = time.Second
	}
	s := &Sample{}
	idle, err := settleRSS(ctx, env.PID, interval, settleMax)
	if err != nil {
		return nil, err
	}
	s.add(mIdleRSS, "MiB", mib(idle))
	// Anonymous memory only: VmRSS also counts mapped files such as
	// shared libraries (most of Mosquitto's idle RSS is libcrypto & co).
	idleAnon, anonErr := ReadStatusBytes(env.PID, "RssAnon")
	if anonErr == nil {
		s.add("idle RssAnon", "MiB", mib(idleAnon))
	}

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, n := range p.Conns {
		if n < len(conns) {
			return nil, fmt.Errorf("connection counts must grow: %v", p.Conns)
		}
		t0 := time.Now()
		more, err := openIdle(ctx, env.Addr, len(conns), n-len(conns), 64)
		conns = append(conns, more...)
		if err != nil {
			return nil, fmt.Errorf("after %d connections: %w", len(conns), err)
		}
		env.logf("memory: %d connections open (%d new in %v)", n, len(more), time.Since(t0).Round(time.Millisecond))
		rss, err := settleRSS(ctx, env.PID, interval, settleMax)
		if err != nil {
			return nil, err
		}
		s.add(rssMetric(n), "MiB", mib(rss))
		s.add(bytesPerConnMetric(n), "B", float64(rss-idle)/float64(n))
		// The same from anonymous memory only: the state the
		// connections hold, without pages of the broker's code or
		// libraries that the first connections bring back in (edgemq
		// trims its start-up pages, so its idle RSS has few of them).
		if anon, err := ReadStatusBytes(env.PID, "RssAnon"); err == nil && anonErr == nil {
			s.add(anonPerConnMetric(n), "B", float64(anon-idleAnon)/float64(n))
		}
	}
	// A connection the broker closed (e.g. over a limit) would make the
	// numbers meaningless: check that every socket is still open.
	if closed := countClosed(conns); closed > 0 {
		return nil, fmt.Errorf("broker closed %d of %d idle connections", closed, len(conns))
	}
	return s, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// settleRSS samples VmRSS every interval until two consecutive readings
// differ by less than 1%, or maxWait passes (then the last reading is used).
func settleRSS(ctx context.Context, pid int, interval, maxWait time.Duration) (int64, error) {
	prev, err := ReadRSS(pid)
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(maxWait)
	for time.Now().Before(deadline) {
		if !sleepCtx(ctx, interval) {
			return 0, ctx.Err()
		}
		cur, err := ReadRSS(pid)
		if err != nil {
			return 0, err
		}
		diff := cur - prev
		if diff < 0 {
			diff = -diff
		}
		if diff*100 < prev {
			return cur, nil
		}
		prev = cur
	}
	return prev, nil
}

// connectPacket builds an MQTT 3.1.1 CONNECT packet with a clean session,
// the given keep alive (seconds) and client identifier.
func connectPacket(clientID string, keepAlive uint16) []byte {
	rem := 10 + 2 + len(clientID)
	b := []byte{0x10}
	for {
		d := byte(rem % 128)
		rem /= 128
		if rem > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if rem == 0 {
			break
		}
	}
	b = append(b, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, byte(keepAlive>>8), byte(keepAlive))
	b = append(b, byte(len(clientID)>>8), byte(len(clientID)))
	return append(b, clientID...)
}

// checkConnack validates a 4-byte MQTT 3.1.1 CONNACK.
func checkConnack(b []byte) error {
	if len(b) != 4 || b[0] != 0x20 || b[1] != 0x02 {
		return fmt.Errorf("not a CONNACK: % x", b)
	}
	if b[3] != 0 {
		return fmt.Errorf("CONNACK return code %d", b[3])
	}
	return nil
}

// openIdle opens n raw MQTT connections numbered from first, with at most
// workers handshakes in flight, and returns the connections it opened.
func openIdle(ctx context.Context, addr string, first, n, workers int) ([]net.Conn, error) {
	var (
		mu    sync.Mutex
		conns = make([]net.Conn, 0, n)
		errs  []error
		wg    sync.WaitGroup
	)
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: 5 * time.Second}
			for i := range next {
				c, err := handshake(ctx, d, addr, fmt.Sprintf("mb-idle-%d", i))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		}()
	}
	func() {
		defer close(next)
		for i := first; i < first+n; i++ {
			mu.Lock()
			failed := len(errs) > 0
			mu.Unlock()
			if failed || ctx.Err() != nil {
				return
			}
			next <- i
		}
	}()
	wg.Wait()
	if ctx.Err() != nil {
		return conns, ctx.Err()
	}
	if len(errs) > 0 {
		return conns, fmt.Errorf("%d handshakes failed, first: %w", len(errs), errs[0])
	}
	return conns, nil
}

func handshake(ctx context.Context, d net.Dialer, addr, id string) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	ack := make([]byte, 4)
	if _, err = c.Write(connectPacket(id, idleKeepAlive)); err == nil {
		if _, err = io.ReadFull(c, ack); err == nil {
			err = checkConnack(ack)
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// countClosed returns how many of conns the peer has closed or reset,
// peeking at each socket without blocking (an idle broker sends nothing).
func countClosed(conns []net.Conn) int {
	closed := 0
	buf := make([]byte, 1)
	for _, c := range conns {
		tc, ok := c.(*net.TCPConn)
		if !ok {
			continue
		}
		rc, err := tc.SyscallConn()
		if err != nil {
			closed++
			continue
		}
		var n int
		var rerr error
		err = rc.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return true // never wait
		})
		switch {
		case err != nil:
			closed++
		case rerr == syscall.EAGAIN:
			// open and idle
		case rerr != nil || n == 0:
			closed++ // reset or EOF
		}
	}
	return closed
}
