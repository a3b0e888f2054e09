package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
)

// TestGovernorWiring runs the gateway with debug logs: without GOMAXPROCS
// in its environment the CPU governor runs (between one core and
// max_procs) and an idle gateway, being quiet, has max_procs Ps, which
// /metrics shows; GOMAXPROCS in the environment fixes the number and the
// governor stays out. How the governor decides is tested in
// internal/cpugov.
func TestGovernorWiring(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to adapt")
	}
	tests := []struct {
		name      string
		env       string
		extra     string
		wantLog   string
		wantProcs int // 0: the max_procs of the log line
	}{
		{"adaptive", "GOMAXPROCS=", "", `msg="CPU governor running" min_procs=1 max_procs=(\d+)`, 0},
		{"max_procs", "GOMAXPROCS=", "max_procs: 1\n", `msg="CPU governor running" min_procs=1 max_procs=(1)`, 1},
		{"fixed by the environment", "GOMAXPROCS=2", "", `msg="GOMAXPROCS fixed by the environment" GOMAXPROCS=2`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			addr := freeAddr(t)
			cfg := writeConfig(t, dir, addr)
			appendFile(t, cfg, "log: {level: debug}\n"+tc.extra)
			g := startGatewayEnv(t, []string{tc.env}, cfg, addr)
			web := httpAddr(t, g)
			logRE := regexp.MustCompile(tc.wantLog)
			want := fmt.Sprint(tc.wantProcs)
			brokertest.Eventually(t, 10*time.Second, func() bool {
				m := logRE.FindStringSubmatch(g.log.String())
				if m != nil && tc.wantProcs == 0 {
					want = m[1]
				}
				return m != nil
			}, tc.wantLog)
			re := regexp.MustCompile(`(?m)^go_sched_gomaxprocs_threads (\d+)$`)
			var last string
			brokertest.Eventually(t, 10*time.Second, func() bool {
				resp, err := http.Get("http://" + web + "/metrics")
				if err != nil {
					return false
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := re.FindSubmatch(body)
				if m != nil {
					last = string(m[1])
				}
				return last == want
			}, "go_sched_gomaxprocs_threads "+want)
			if strings.Contains(g.log.String(), `msg="GOMAXPROCS changed"`) {
				t.Fatalf("an idle gateway changed GOMAXPROCS:\n%s", g.log.String())
			}
		})
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Clean(path), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
