package serial

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
)

// runAdapter runs a on out until the test ends; the returned channel
// gets Run's result.
func runAdapter(t *testing.T, a *Adapter, out devices.Publisher) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	// Ends when ctx is cancelled (Cleanup) or the device fails.
	go func() { done <- a.Run(ctx, out); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return done
}

func fieldsOf(rs []devices.Reading) string {
	var parts []string
	for _, r := range rs {
		for _, f := range r.Fields {
			parts = append(parts, f.Name+"="+f.Value.String())
		}
	}
	return strings.Join(parts, " ")
}

func TestAdapterPTY(t *testing.T) {
	dir := t.TempDir()
	p := devicestest.OpenPTY(t, filepath.Join(dir, "usb-Test_Sensor-if00"))
	a, err := New(Config{Port: p.Link, Baud: 115200, Format: "kv", ReadTimeout: 100 * time.Millisecond,
		Commands: []Command{{Field: "relay", Template: "relay={value}"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{Cmds: make(chan devices.Command, 1)}
	done := runAdapter(t, a, out)
	p.Write(t, "temp=21")
	p.Write(t, ".5,hum=40\n\x01\x02garbage\n")
	p.Write(t, strings.Repeat("x", DefaultMaxLine+10)+"\ntemp=22\n")
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(out.Readings()) == 2 }, "two readings")
	if got, want := fieldsOf(out.Readings()), "temp=21.5 hum=40 temp=22"; got != want {
		t.Errorf("readings %q, want %q", got, want)
	}
	if n := out.Counted(devices.ParseErrors); n != 2 {
		t.Errorf("parse errors = %d, want 2", n)
	}
	if n := out.Counted(devices.LinesRead); n != 4 {
		t.Errorf("lines read = %d, want 4", n)
	}

	out.Cmds <- devices.Command{Field: "relay", Payload: "on"}
	got := make([]byte, 0, 64)
	buf := make([]byte, 64)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(string(got), "\n") && time.Now().Before(deadline) {
		p.Master.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := p.Master.Read(buf)
		got = append(got, buf[:n]...)
	}
	if string(got) != "relay=on\n" {
		t.Errorf("port got %q, want %q", got, "relay=on\n")
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(out.Readings()) == 3 }, "command confirmed")

	// Unplugged: the by-id link disappears and the pty hangs up.
	p.Unplug()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Run after unplug = %v", err)
		}
		t.Logf("after unplug: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not notice the unplug")
	}
}

func TestAdapterRepointedLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "dev")
	devicestest.OpenPTY(t, link)
	a, err := New(Config{Port: link, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := runAdapter(t, a, &devicestest.Publisher{})
	time.Sleep(300 * time.Millisecond) // opened
	devicestest.OpenPTY(t, link)       // the link now names another device
	select {
	case err := <-done:
		if !errors.Is(err, ErrGone) {
			t.Errorf("Run = %v, want ErrGone", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not notice the link moved")
	}
}

func TestAdapterOpenFails(t *testing.T) {
	a, err := New(Config{Port: filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background(), &devicestest.Publisher{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Run = %v, want not exist", err)
	}
}

// hungPort returns (0, io.EOF) at once, forever: an unplugged USB serial
// adapter as tarm/serial shows it.
type hungPort struct {
	mu     sync.Mutex
	closed bool
}

func (p *hungPort) Read([]byte) (int, error)    { return 0, io.EOF }
func (p *hungPort) Write(b []byte) (int, error) { return len(b), nil }
func (p *hungPort) Close() error                { p.mu.Lock(); p.closed = true; p.mu.Unlock(); return nil }

func TestAdapterHangup(t *testing.T) {
	port := &hungPort{}
	a, err := New(Config{Port: "fake", Open: func(Config) (Port, error) { return port, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background(), &devicestest.Publisher{}); !errors.Is(err, ErrHangup) {
		t.Errorf("Run = %v, want ErrHangup", err)
	}
	if !port.closed {
		t.Error("port not closed")
	}
}

// linesPort returns its lines, one per read, then times out (slowly).
type linesPort struct {
	lines []string
	wrote strings.Builder
}

func (p *linesPort) Read(b []byte) (int, error) {
	if len(p.lines) == 0 {
		time.Sleep(20 * time.Millisecond)
		return 0, io.EOF
	}
	n := copy(b, p.lines[0])
	p.lines[0] = p.lines[0][n:]
	if p.lines[0] == "" {
		p.lines = p.lines[1:]
	}
	return n, nil
}
func (p *linesPort) Write(b []byte) (int, error) { return p.wrote.Write(b) }
func (p *linesPort) Close() error                { return nil }

func TestAdapterReadError(t *testing.T) {
	boom := errors.New("input/output error")
	a, _ := New(Config{Port: "fake", Open: func(Config) (Port, error) { return errPort{boom}, nil }})
	if err := a.Run(context.Background(), &devicestest.Publisher{}); !errors.Is(err, boom) {
		t.Errorf("Run = %v", err)
	}
}

type errPort struct{ err error }

func (p errPort) Read([]byte) (int, error)    { return 0, p.err }
func (p errPort) Write(b []byte) (int, error) { return len(b), nil }
func (p errPort) Close() error                { return nil }

func TestAdapterCommandsCRLF(t *testing.T) {
	port := &linesPort{}
	a, _ := New(Config{Port: "fake", LineEnding: "crlf", ReadTimeout: 80 * time.Millisecond, Open: func(Config) (Port, error) { return port, nil },
		Commands: []Command{{Field: "led", Template: "L{value}"}, {Field: "raw"}}})
	out := &devicestest.Publisher{Cmds: make(chan devices.Command, 4)}
	out.Cmds <- devices.Command{Field: "led", Payload: "1"}
	out.Cmds <- devices.Command{Field: "raw", Payload: "x"}
	out.Cmds <- devices.Command{Field: "led", Payload: "bad\nline"}
	out.Cmds <- devices.Command{Field: "nope", Payload: "1"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, out) }()
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(out.Readings()) == 2 }, "confirmations")
	cancel()
	<-done
	if got := port.wrote.String(); got != "L1\r\nx\r\n" {
		t.Errorf("wrote %q", got)
	}
	if got := fieldsOf(out.Readings()); got != "led=1 raw=x" {
		t.Errorf("confirmed %q", got)
	}
	if n := out.Counted(devices.CommandsRejected); n != 2 {
		t.Errorf("bad commands counted %d, want 2", n)
	}
	if got := a.Writable(); strings.Join(got, ",") != "led,raw" {
		t.Errorf("Writable = %v", got)
	}
}
