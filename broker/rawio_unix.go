//go:build unix

package broker

import (
	"io"
	"net"
	"sync"
	"syscall"
)

// rawConnOf returns the raw socket of a TCP connection, or nil.
func rawConnOf(nc net.Conn) syscall.RawConn {
	if tc, ok := nc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// tryWrite writes as much of b as the socket takes without blocking. With
// no raw socket it writes nothing and leaves the rest to the writer
// goroutine.
func tryWrite(rc syscall.RawConn, b []byte) (int, error) {
	if rc == nil {
		return 0, nil
	}
	w := sockWriters.Get().(*sockWriter)
	w.b, w.n, w.err = b, 0, nil
	err := rc.Write(w.fn)
	n, werr := w.n, w.err
	w.b, w.err = nil, nil
	sockWriters.Put(w)
	if werr != nil {
		return n, werr
	}
	return n, err
}

// sockWriter is the callback that RawConn.Write takes, made once and
// pooled: a closure per write cost three allocations per flush, and with
// them a garbage collection every few seconds under a light load.
type sockWriter struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // w.write
}

var sockWriters = sync.Pool{New: func() any {
	w := new(sockWriter)
	w.fn = w.write
	return w
}}

func (w *sockWriter) write(fd uintptr) bool {
	for w.n < len(w.b) {
		k, err := sysWrite(int(fd), w.b[w.n:])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			return true
		}
		if err != nil {
			w.err = err
			return true
		}
		w.n += k
	}
	return true
}

// readInto reads from the socket into the buffer that get returns and
// hands every read to got, until got returns false (then readInto returns
// nil) or the read fails. When the socket has nothing to read, it calls
// idle (which may give the buffer back to a pool) and waits for input, so
// that a waiting connection holds no buffer.
//
// With trustShort set, a read that did not fill the buffer is taken to
// have drained the socket: readInto waits for the next readiness event
// without the read that would only return EAGAIN, which saves a system
// call per wakeup. Go's poller is edge-triggered, so data arriving after
// that read raises a new event. An end of file that arrived together with
// the data does not, and is seen when the read deadline expires: the
// caller sets trustShort only when a deadline is always armed (a
// connection that may park).
func readInto(nc net.Conn, rc syscall.RawConn, get func() []byte, idle func(), got func(n int) bool, trustShort bool) error {
	if rc == nil {
		return readPlain(nc, get, got)
	}
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			b := get()
			k, err := sysRead(int(fd), b)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				idle()
				return false
			case err != nil:
				rerr = err
				return true
			case k == 0:
				rerr = io.EOF
				return true
			}
			if !got(k) {
				return true
			}
			if trustShort && k < len(b) {
				idle()
				return false
			}
		}
	})
	if rerr != nil {
		return rerr
	}
	return err
}

// shutdownSocket shuts both directions of the socket down, which wakes a
// blocked reader with end of file without closing the descriptor.
func shutdownSocket(rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) { serr = syscall.Shutdown(int(fd), syscall.SHUT_RDWR) })
	if err != nil {
		return err
	}
	return serr
}
