package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUserErrors runs the binary with the mistakes a user makes: each
// gives one clear line per problem on stderr and a non-zero exit, never a
// stack trace.
func TestUserErrors(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, []byte("x"), 0o600)
	listener := func(addr string) string {
		return "broker:\n  listeners:\n    - {type: tcp, address: \"" + addr + "\"}\n"
	}
	for _, tc := range []struct {
		name, config string // config "" : no file at all
		want         string
		lines        int // 0: 1
	}{
		{"missing file", "", "no such file or directory", 1},
		{"bad YAML", "broker:\n  listeners: [\n", "edgemq.yaml:2: syntax error", 1},
		{"unknown key", "brokr: {}\n", "edgemq.yaml:1: brokr: unknown key", 1},
		{"port in use", listener(busy.Addr().String()) + "storage: {dir: " + filepath.Join(dir, "d1") + "}\n", "address already in use", 1},
		{"data directory is a file", listener("127.0.0.1:0") + "storage: {dir: " + filepath.Join(aFile, "data") + "}\n", "not a directory", 1},
		{"missing certificate", "broker:\n  listeners:\n    - {type: tls, address: \"127.0.0.1:0\", cert: " + filepath.Join(dir, "no.pem") +
			", key: " + filepath.Join(dir, "no.key") + "}\nstorage: {dir: " + filepath.Join(dir, "d2") + "}\n", "no.pem", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "edgemq.yaml")
			if tc.config != "" {
				if err := os.WriteFile(cfg, []byte(tc.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var stderr bytes.Buffer
			cmd := exec.Command(binPath, "run", "--config", cfg)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("exit: %v, want a non-zero status", err)
			}
			out := strings.TrimSpace(stderr.String())
			if lines := strings.Split(out, "\n"); len(lines) != max(tc.lines, 1) {
				t.Errorf("stderr has %d lines, want %d:\n%s", len(lines), max(tc.lines, 1), out)
			}
			if !strings.Contains(out, tc.want) || strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
				t.Errorf("stderr %q, want one line with %q", out, tc.want)
			}
		})
	}
}
