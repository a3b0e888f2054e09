package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify runs the real binary with a fake systemd notify socket
// and a watchdog: READY=1 comes first (the listener is bound by then),
// WATCHDOG=1 pings follow, STOPPING=1 comes on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	os.WriteFile(cfg, []byte("broker:\n  listeners:\n    - {type: tcp, address: \""+addr+"\"}\nstorage: {dir: "+filepath.Join(dir, "data")+"}\n"), 0o600)
	// The watchdog wants a ping every 100 ms.
	g := startGatewayEnv(t, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=200000"}, cfg, addr)

	read := func() string {
		t.Helper()
		buf := make([]byte, 512)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("notify socket: %v\n%s", err, g.log.String())
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1" {
		t.Fatalf("first message %q, want READY=1", got)
	}
	if got := read(); !strings.HasPrefix(got, "STATUS=0 clients connected") {
		t.Errorf("status %q", got)
	}
	pings := 0
	for pings < 2 {
		if read() == "WATCHDOG=1" {
			pings++
		}
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	for {
		if got := read(); got == "STOPPING=1" {
			break
		}
	}
}
