//go:build linux

package broker

import (
	"errors"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// A connection is read by a goroutine of its own while it is active: Go's
// netpoller wakes it cheaply, and its batch of packets is handled where it
// was read. A connection that stays silent for parkAfter is parked: its
// goroutine registers the socket with a poller (epoll, one-shot) and exits,
// so that an idle connection costs no goroutine, no stack and no buffer,
// only its state. When the client sends again, the poller starts a new read
// loop for it; the poller itself never reads.
//
// The poller goroutine never blocks in epoll_wait (that would pin an OS
// thread): the epoll descriptor is non-blocking and watched by Go's
// netpoller, which wakes the goroutine when there are events; epoll_wait is
// then called with a zero timeout. Every expireEvery the poller closes the
// parked connections whose keep alive ran out.
type poller struct {
	s    *Server
	ep   *os.File        // owns the epoll descriptor, for Go's netpoller
	epc  syscall.RawConn // of ep
	epfd int
	wake [2]int // pipe: a byte written to wake[1] wakes the poller

	lastFree   int       // parked connections at the last memory release
	lastFreeAt time.Time // when that was

	mu     sync.Mutex
	parked map[int32]*conn // by socket
}

// expireEvery is how often a poller looks for parked connections past
// their keep alive: they are closed at most this much late.
const expireEvery = 500 * time.Millisecond

// reactor is the poller of a server.
type reactor struct{ p *poller }

func newReactor(s *Server) (*reactor, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	p := &poller{s: s, epfd: epfd, parked: make(map[int32]*conn)}
	p.ep = os.NewFile(uintptr(epfd), "epoll")
	if p.epc, err = p.ep.SyscallConn(); err != nil {
		p.ep.Close()
		return nil, err
	}
	if err := syscall.Pipe2(p.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		p.ep.Close()
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p.wake[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		p.closeFDs()
		return nil, err
	}
	return &reactor{p: p}, nil
}

func (p *poller) closeFDs() {
	p.ep.Close()
	syscall.Close(p.wake[0])
	syscall.Close(p.wake[1])
}

func (r *reactor) close() { r.p.closeFDs() }

// start runs the poller on a goroutine owned by the server; it exits once
// the server is closing and no connection is parked.
func (r *reactor) start(s *Server) bool { return s.goFunc(r.p.run) }

// wakeAll interrupts the poller's wait, for Shutdown.
func (r *reactor) wakeAll() { syscall.Write(r.p.wake[1], []byte{1}) }

// park hands c, whose read loop is about to exit, to the poller. It
// returns false (and c stays with its goroutine) if it cannot.
func (r *reactor) park(c *conn) bool {
	p := r.p
	fd := -1
	if c.rc == nil || c.rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return false
	}
	c.fd = fd
	c.deadline = c.keepAliveDeadline()
	c.ackMu.Lock()
	c.acks.release() // a parked connection holds no array either
	c.ackMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.s.closed:
		return false // the read loop sees the shutdown
	default:
	}
	p.parked[int32(fd)] = c
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		delete(p.parked, int32(fd))
		return false
	}
	return true
}

// unpark takes c off the poller and gives it a read loop again.
func (p *poller) unpark(c *conn) {
	p.mu.Lock()
	if p.parked[int32(c.fd)] != c {
		p.mu.Unlock()
		return
	}
	delete(p.parked, int32(c.fd))
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	p.mu.Unlock()
	if c.keepAlive > 0 {
		c.armKeepAlive(time.Now(), true)
	} else {
		c.nc.SetReadDeadline(time.Now().Add(parkAfter))
	}
	// Exits when the connection ends or parks again.
	if !p.s.goFunc(c.loop) {
		c.finish() // shutting down
	}
}

// run waits for parked sockets to become readable and unparks them.
func (p *poller) run() {
	defer p.closeFDs()
	events := make([]syscall.EpollEvent, 64)
	nextCheck := time.Now().Add(expireEvery)
	p.ep.SetReadDeadline(nextCheck)
	for {
		var n int
		var werr error
		err := p.epc.Read(func(fd uintptr) bool {
			for {
				n, werr = syscall.EpollWait(int(fd), events, 0)
				if werr != syscall.EINTR {
					return n > 0 || werr != nil
				}
			}
		})
		if werr != nil {
			err = werr
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			p.s.log.Error("epoll wait failed", "err", err)
			p.unparkAll()
			return
		}
		for i := 0; i < n; i++ {
			fd := events[i].Fd
			if int(fd) == p.wake[0] {
				var b [64]byte
				syscall.Read(p.wake[0], b[:])
				continue
			}
			p.mu.Lock()
			c := p.parked[fd]
			p.mu.Unlock()
			if c != nil {
				p.unpark(c)
			}
		}
		if now := time.Now(); now.After(nextCheck) {
			nextCheck = now.Add(expireEvery)
			p.ep.SetReadDeadline(nextCheck)
			p.expire(now)
			p.mu.Lock()
			np := len(p.parked)
			p.mu.Unlock()
			p.releaseMemory(np, now)
		}
		select {
		case <-p.s.closed:
			// Shutdown has shut every socket down: their end of file
			// unparks them; leave once none is left.
			p.mu.Lock()
			empty := len(p.parked) == 0
			p.mu.Unlock()
			if empty {
				return
			}
		default:
		}
	}
}

// releaseMemory gives the stacks of parked connections' goroutines back
// to the operating system after a wave of parking (at least 256 more
// parked connections than at the last release, at most every 2 s):
// without it, the freed stacks stay in the process until the runtime's
// scavenger gets to them, and a board that just took a storm of
// connections keeps their peak memory.
func (p *poller) releaseMemory(parked int, now time.Time) {
	if parked < p.lastFree {
		p.lastFree = parked
	}
	if parked-p.lastFree >= 256 && now.Sub(p.lastFreeAt) > 2*time.Second {
		p.lastFree, p.lastFreeAt = parked, now
		debug.FreeOSMemory()
	}
}

// expire closes parked connections whose keep alive ran out; their read
// loop, started by unpark, sees the end and finishes them (will included).
func (p *poller) expire(now time.Time) {
	var late []*conn
	p.mu.Lock()
	for _, c := range p.parked {
		if !c.deadline.IsZero() && now.After(c.deadline) {
			late = append(late, c)
		}
	}
	p.mu.Unlock()
	for _, c := range late {
		c.s.log.Debug("keep alive expired", "client", c.clientID, "remote", c.nc.RemoteAddr().String())
		c.closeNet()
		p.unpark(c)
	}
}

func (p *poller) unparkAll() {
	p.mu.Lock()
	all := make([]*conn, 0, len(p.parked))
	for _, c := range p.parked {
		all = append(all, c)
	}
	p.mu.Unlock()
	for _, c := range all {
		p.unpark(c)
	}
}
