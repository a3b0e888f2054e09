package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
)

func TestImportConfigFile(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "boot", "edgemq.yaml"), filepath.Join(dir, "data", "config", "edgemq.yaml")
	os.MkdirAll(filepath.Dir(from), 0o755)
	// Nothing to import.
	if ok, w := importConfig(from, to); ok || w != "" {
		t.Fatalf("no file: imported %v, warning %q", ok, w)
	}
	// A broken file: kept, with the reason beside it.
	os.WriteFile(from, []byte("gateway: {id: gw1}\nbroker:\n  listeners: [{type: tcp, address: \"127.0.0.1\"}]\n"), 0o644)
	ok, w := importConfig(from, to)
	if ok || !strings.Contains(w, "missing port") {
		t.Fatalf("broken file: imported %v, warning %q", ok, w)
	}
	note, err := os.ReadFile(from + ".error.txt")
	if err != nil || !strings.Contains(string(note), "edgemq.yaml:3: broker.listeners[0].address: missing port") {
		t.Fatalf("error note %q, %v", note, err)
	}
	if _, err := os.Stat(to); err == nil {
		t.Fatal("a broken file was imported")
	}
	// A valid one: in place, 0600, removed from the boot partition.
	os.WriteFile(from, []byte("gateway: {id: gw1}\n"), 0o644)
	if ok, w := importConfig(from, to); !ok || w != "" {
		t.Fatalf("valid file: imported %v, warning %q", ok, w)
	}
	fi, err := os.Stat(to)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("imported file: %v, mode %v", err, fi.Mode())
	}
	for _, p := range []string{from, from + ".error.txt"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
}

// TestRunImport: the binary takes a valid file from the "boot partition"
// at start, and refuses a broken one on the next start, running the
// previous configuration and saying why on the dashboard.
func TestRunImport(t *testing.T) {
	dir := t.TempDir()
	boot := filepath.Join(dir, "boot", "edgemq.yaml")
	cfg := filepath.Join(dir, "data", "config", "edgemq.yaml")
	os.MkdirAll(filepath.Dir(boot), 0o755)
	addr := freeAddr(t)
	good := fmt.Sprintf("gateway: {id: imported}\nbroker: {listeners: [{type: tcp, address: %q}], sys_interval: 1s}\nstorage: {dir: %q}\nhttp: {address: \"127.0.0.1:0\"}\n",
		addr, filepath.Join(dir, "data", "db"))
	os.WriteFile(boot, []byte(good), 0o644)
	g := startGateway(t, cfg, addr, "--import", boot)
	c := subscribeAll(t, addr, "$SYS/broker/uptime")
	brokertest.Eventually(t, 10*time.Second, func() bool { return c.last("$SYS/broker/uptime") != "" }, "the imported listener serves")
	if _, err := os.Stat(boot); err == nil {
		t.Error("the imported file is still on the boot partition")
	}
	g.stop(t, os.Interrupt)

	os.WriteFile(boot, []byte("gateway: {id: [broken\n"), 0o644)
	g = startGateway(t, cfg, addr, "--import", boot)
	base := "http://" + httpAddr(t, g)
	var ov struct {
		GatewayID string `json:"gateway_id"`
		Warnings  []string
	}
	resp, err := http.Get(base + "/api/v1/overview")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&ov)
	resp.Body.Close()
	if ov.GatewayID != "imported" || len(ov.Warnings) != 1 || !strings.Contains(ov.Warnings[0], "was not imported") {
		t.Errorf("overview %+v: want the previous configuration and the reason", ov)
	}
	if _, err := os.Stat(boot + ".error.txt"); err != nil {
		t.Errorf("no error note on the boot partition: %v", err)
	}
	if !strings.Contains(g.log.String(), "was not imported") {
		t.Errorf("log does not say the file was refused:\n%s", g.log.String())
	}
}
