package kv

import (
	"errors"
	"syscall"
)

// dirWatch reports whether files were created in a directory since the
// last call, so that a sync round can skip listing the directory when no
// log file was rotated. It uses inotify.
type dirWatch struct {
	fd  int
	buf []byte
}

func newDirWatch(dir string) *dirWatch {
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MOVED_TO); err != nil {
		_ = syscall.Close(fd)
		return nil
	}
	return &dirWatch{fd: fd, buf: make([]byte, 4096)}
}

// changed drains the pending events. It is true if there were any, or if
// it cannot tell.
func (w *dirWatch) changed() bool {
	if w == nil {
		return true
	}
	any := false
	for {
		n, err := syscall.Read(w.fd, w.buf)
		switch {
		case n > 0:
			any = true
		case errors.Is(err, syscall.EAGAIN):
			return any
		case errors.Is(err, syscall.EINTR):
		default:
			return true
		}
	}
}

func (w *dirWatch) close() {
	if w != nil {
		_ = syscall.Close(w.fd)
	}
}
