//go:build unix

package devicestest

import (
	"os"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// PTY is a pseudo-terminal standing in for a serial device. The test
// writes into Master what the device would send (and reads what it is
// sent); the code under test opens the terminal side, Tty, or Link when
// one was given, as it would a /dev/serial/by-id/ name.
type PTY struct {
	Master, Tty *os.File
	Link        string
}

// OpenPTY opens a pseudo-terminal pair in raw mode and, if link is not
// empty, points link at its terminal side. Both files stay on Go's poller
// (deadlines work, Close ends a pending Read). Unplug runs when the test
// ends. Without pseudo-terminals the test is skipped, or fails when
// EDGEMQ_REQUIRE_EXTERNAL=1.
func OpenPTY(t testing.TB, link string) *PTY {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		if os.Getenv("EDGEMQ_REQUIRE_EXTERNAL") == "1" {
			t.Fatalf("pseudo-terminals are required (EDGEMQ_REQUIRE_EXTERNAL=1): %v", err)
		}
		t.Skipf("no pseudo-terminals: %v", err)
	}
	// Not Fd(): it would switch the file to blocking mode and disable
	// deadlines.
	rc, err := tty.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var rawErr error
	if err := rc.Control(func(fd uintptr) { _, rawErr = term.MakeRaw(int(fd)) }); err != nil || rawErr != nil {
		t.Fatalf("raw mode: %v, %v", err, rawErr)
	}
	p := &PTY{Master: pollable(t, ptmx), Tty: tty, Link: link}
	if link != "" {
		os.Remove(link)
		if err := os.Symlink(tty.Name(), link); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(p.Unplug)
	return p
}

// pollable returns f, pty.Open's master side in blocking mode, as a
// non-blocking file on Go's poller.
func pollable(t testing.TB, f *os.File) *os.File {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = syscall.Dup(int(fd)) }); err != nil || derr != nil {
		t.Fatalf("dup: %v %v", err, derr)
	}
	f.Close()
	if err := syscall.SetNonblock(nfd, true); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(nfd), "ptmx")
}

// Unplug removes the link and closes both ends, as unplugging a USB
// serial adapter does to its by-id name. It may be called more than once.
func (p *PTY) Unplug() {
	if p.Link != "" {
		os.Remove(p.Link)
	}
	p.Tty.Close()
	p.Master.Close()
}

// Write writes s into the master side: what the device sends.
func (p *PTY) Write(t testing.TB, s string) {
	t.Helper()
	if _, err := p.Master.WriteString(s); err != nil {
		t.Fatalf("write to %s: %v", p.Tty.Name(), err)
	}
}
