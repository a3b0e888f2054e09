package broker

import "sync"

// Acknowledgements confirmed from another goroutine (a durable
// subscriber such as the bridge confirms a batch of records after one
// fsync, the Store's commit releases many at once) are written to their
// connections' buffers at once and flushed by one goroutine a moment
// later: a batch of confirmations then costs one write per connection
// instead of one per acknowledgement (a quarter of the bridge's CPU went
// to those writes). Order is kept: the buffer is the connection's.
type lateFlush struct {
	mu      sync.Mutex
	conns   []*conn
	running bool
	wake    chan struct{} // capacity 1
}

// flushLater hands the connections f wrote to to the late flusher.
func (s *Server) flushLater(f *flusher) {
	if len(f.conns) == 0 {
		return
	}
	lf := &s.late
	lf.mu.Lock()
	lf.conns = append(lf.conns, f.conns...)
	start := !lf.running
	if start {
		lf.running = true
		lf.wake = make(chan struct{}, 1)
	}
	wake := lf.wake
	lf.mu.Unlock()
	clear(f.conns)
	f.conns = f.conns[:0]
	if start && !s.goFunc(s.lateFlusher) {
		// Shutting down: no goroutine any more, flush here.
		lf.mu.Lock()
		lf.running = false
		lf.mu.Unlock()
		s.flushLate()
		return
	}
	select {
	case wake <- struct{}{}:
	default:
	}
}

// lateFlusher flushes what flushLater collected until Shutdown.
func (s *Server) lateFlusher() {
	lf := &s.late
	lf.mu.Lock()
	wake := lf.wake
	lf.mu.Unlock()
	for {
		select {
		case <-wake:
			s.flushLate()
		case <-s.closed:
			s.flushLate()
			return
		}
	}
}

func (s *Server) flushLate() {
	lf := &s.late
	lf.mu.Lock()
	conns := lf.conns
	lf.conns = nil
	lf.mu.Unlock()
	f := flusher{conns: conns}
	f.flush()
}
