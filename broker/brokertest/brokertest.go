// Package brokertest starts real brokers for tests: on 127.0.0.1 with a
// port the kernel picks, ready for connections when StartServer returns,
// and shut down by t.Cleanup.
package brokertest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
)

// StartServer starts a broker with opts (the listeners are replaced by one
// on 127.0.0.1:0 when opts has none) and returns it with its address.
func StartServer(t testing.TB, opts broker.Options) (*broker.Server, string) {
	t.Helper()
	if len(opts.Listeners) == 0 {
		opts.Listeners = []broker.Listener{{Address: "127.0.0.1:0"}}
	}
	if opts.Logger == nil {
		opts.Logger = TestLogger(t)
	}
	s, err := broker.New(opts)
	if err != nil {
		t.Fatalf("brokertest: new: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("brokertest: start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("brokertest: shutdown: %v", err)
		}
	})
	addr := s.Addrs()[0].String()
	WaitReady(t, addr)
	return s, addr
}

// WaitReady waits up to 5 s until addr accepts TCP connections.
func WaitReady(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: %s not ready: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLogger logs to the test's log at debug level when EDGEMQ_TEST_LOG is
// set, and discards otherwise.
func TestLogger(t testing.TB) *slog.Logger {
	if os.Getenv("EDGEMQ_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// RequireTool returns the path of an external tool, skipping the test when
// it is missing, or failing it when EDGEMQ_REQUIRE_EXTERNAL=1 (as in CI).
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("EDGEMQ_REQUIRE_EXTERNAL") == "1" {
		t.Fatalf("%s is required (EDGEMQ_REQUIRE_EXTERNAL=1): %v", name, err)
	}
	t.Skipf("%s not installed: %v", name, err)
	return ""
}

// Eventually polls cond every 10 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", timeout, msg)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ErrTimeout is returned by helpers that wait for a packet.
var ErrTimeout = errors.New("brokertest: timeout")
