//go:build unix

package broker

import (
	"io"
	"net"
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
func tryWrite(_ net.Conn, rc syscall.RawConn, b []byte) (int, error) {
	if rc == nil {
		return 0, nil
	}
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			k, err := syscall.Write(int(fd), b[n:])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				return true
			}
			if err != nil {
				werr = err
				return true
			}
			n += k
		}
		return true
	})
	if werr != nil {
		return n, werr
	}
	return n, err
}

// readInto reads from the socket into the buffer that get returns. When
// the socket has nothing to read, it calls idle (which may give the buffer
// back to a pool) and waits for input, so that a waiting connection holds
// no buffer.
func readInto(nc net.Conn, rc syscall.RawConn, get func() []byte, idle func()) (int, error) {
	if rc == nil {
		return nc.Read(get())
	}
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			k, err := syscall.Read(int(fd), get())
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				idle()
				return false
			case err != nil:
				rerr = err
			case k == 0:
				rerr = io.EOF
			default:
				n = k
			}
			return true
		}
	})
	if rerr != nil {
		return 0, rerr
	}
	return n, err
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
