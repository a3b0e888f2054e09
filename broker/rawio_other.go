//go:build !unix

package broker

import (
	"net"
	"syscall"
)

func rawConnOf(net.Conn) syscall.RawConn { return nil }

func tryWrite(syscall.RawConn, []byte) (int, error) { return 0, nil }

func readInto(nc net.Conn, _ syscall.RawConn, get func() []byte, _ func(), got func(n int) bool, _ bool) error {
	return readPlain(nc, get, got)
}

func shutdownSocket(syscall.RawConn) error { return syscall.EINVAL }
