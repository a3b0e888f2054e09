package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgemq/edgemq/broker/brokertest"
)

// TestSystemdUnit checks systemd/edgemq.service with systemd-analyze
// verify, pointed at the binary built for the tests, and that it keeps the
// settings the gateway relies on.
func TestSystemdUnit(t *testing.T) {
	analyze := brokertest.RequireTool(t, "systemd-analyze")
	unit, err := os.ReadFile("../../systemd/edgemq.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
		"StateDirectory=edgemq", "ConfigurationDirectory=edgemq", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet="} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "edgemq.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/edgemq", binPath)), 0o644)
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
