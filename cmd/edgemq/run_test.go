package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
)

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("broker:\n  listeners:\n    - {type: tcp, address: \"127.0.0.1:0\"}\n"), 0o600)
	os.WriteFile(bad, []byte("broker:\n  listeners:\n    - {type: tcp, address: \"127.0.0.1\"}\n  limts: {}\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrRE string
	}{
		{"no command", nil, 2, "", "usage: edgemq"},
		{"unknown", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "", ""},
		{"check good", []string{"check-config", good}, 0, good + ": ok\n", ""},
		{"check bad", []string{"check-config", bad}, 1, "", `bad.yaml:3: broker.listeners\[0\].address: missing port(.|\n)*bad.yaml:4: broker.limts: unknown key`},
		{"check missing", []string{"check-config", filepath.Join(dir, "nope.yaml")}, 1, "", "nope.yaml"},
		{"run bad config", []string{"run", "--config", bad}, 1, "", "missing port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if tc.stdout != "" && stdout.String() != tc.stdout {
				t.Errorf("stdout = %q, want %q", stdout.String(), tc.stdout)
			}
			if tc.stderrRE != "" && !regexp.MustCompile(tc.stderrRE).MatchString(stderr.String()) {
				t.Errorf("stderr = %q, want match for %q", stderr.String(), tc.stderrRE)
			}
		})
	}
}

// TestVersion: version, commit, Go version and platform on one line.
func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, &bytes.Buffer{}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	re := regexp.MustCompile(`^edgemq dev \(commit (unknown|[0-9a-f]{12}), go[0-9.]+\S*, [a-z0-9]+/[a-z0-9]+\)\n$`)
	if !re.MatchString(stdout.String()) {
		t.Errorf("version = %q, want %v", stdout.String(), re)
	}
}

// TestRunServesAndStops runs the gateway, speaks MQTT to it, and checks
// that cancelling the context (what SIGTERM does) stops it cleanly.
func TestRunServesAndStops(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "edgemq.yaml")
	os.WriteFile(cfg, []byte("broker:\n  listeners:\n    - {type: tcp, address: \"127.0.0.1:0\"}\nstorage: {dir: "+filepath.Join(dir, "data")+"}\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr brokertest.Buffer
	done := make(chan int, 1)
	freeHTTP(t, cfg)
	go func() { done <- run(ctx, []string{"run", "--config", cfg}, &bytes.Buffer{}, &stderr) }()

	re := regexp.MustCompile(`msg=listening .*address=(127\.0\.0\.1:\d+)`)
	var addr string
	deadline := time.Now().Add(5 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no listening address in log: %s", stderr.String())
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// CONNECT 3.1.1, clean session, keep alive 10, client id "t".
	c.Write([]byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 10, 0, 1, 't'})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	ack := make([]byte, 4)
	if _, err := c.Read(ack); err != nil || !bytes.Equal(ack, []byte{0x20, 2, 0, 0}) {
		t.Fatalf("CONNACK = %x, %v", ack, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("log lacks stop message: %s", stderr.String())
	}
	c.Close()
}
