package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
)

// mosquittoForTest returns the mosquitto binary, skipping the test when it
// is absent unless EDGEMQ_REQUIRE_EXTERNAL=1 demands it.
func mosquittoForTest(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/mosquitto", "mosquitto"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("EDGEMQ_REQUIRE_EXTERNAL") == "1" {
		t.Fatal("mosquitto not found and EDGEMQ_REQUIRE_EXTERNAL=1")
	}
	t.Skip("mosquitto not installed")
	return ""
}

// TestAgainstMosquitto starts a real Mosquitto, runs a tiny fanin0 and a
// tiny memory load against it, and checks that the broker is gone after Stop.
func TestAgainstMosquitto(t *testing.T) {
	bin := mosquittoForTest(t)
	raiseNofile()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := StartBroker(ctx, Target{Name: "mosquitto", Kind: KindMosquitto, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()

	env := Env{
		Addr: b.Addr, PID: b.PID,
		Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond,
		Quiet: 100 * time.Millisecond, DrainMax: time.Second, Settle: 100 * time.Millisecond,
		Params: Params{Publishers: 5, Conns: []int{20, 50}},
		Logf:   t.Logf,
	}
	s, err := runFanin(ctx, env, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fanin0: %+v", s.Metrics)
	want := []string{mThroughput, mCPUPerMsg, mBrokerUtil, mReceived}
	if self, _ := ReadCPU(os.Getpid()); self.Runs > 0 {
		want = append(want, mRunsPerMsg) // needs schedstat
	}
	for _, m := range want {
		if v, ok := s.Get(m); !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want > 0", m, v, ok)
		}
	}
	if v, _ := s.Get(mLost); v != 0 {
		t.Errorf("lost %v messages with flow control", v)
	}

	s, err = runMemory(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("memory: %+v", s.Metrics)
	if v, ok := s.Get(mIdleRSS); !ok || v <= 0 {
		t.Errorf("idle RSS = %v", v)
	}
	if _, ok := s.Get(bytesPerConnMetric(50)); !ok {
		t.Error("no bytes/conn @50")
	}

	pid, dir := b.PID, b.dir
	b.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("broker pid %d still exists after Stop (kill 0: %v)", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s left behind", dir)
	}
}

// TestStartFailure checks that a broker that exits at once is reported
// with its output, not waited for.
func TestStartFailure(t *testing.T) {
	start := time.Now()
	_, err := StartBroker(context.Background(), Target{Name: "edgemq", Kind: KindEdgeMQ, Binary: "/bin/false"})
	if err == nil {
		t.Fatal("want error")
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v to notice the exit", time.Since(start))
	}
}

// TestBridgeAgainstMosquitto builds edgemq and runs a tiny bridge
// comparison (one round of 1 s, a backlog of 2000) against real
// Mosquittos, checking that every acknowledged message reaches the cloud
// and that no broker is left running.
func TestBridgeAgainstMosquitto(t *testing.T) {
	if testing.Short() {
		t.Skip("builds edgemq and starts six brokers")
	}
	mosq := mosquittoForTest(t)
	goBin := brokertest.RequireTool(t, "go")
	raiseNofile()
	bin := filepath.Join(t.TempDir(), "edgemq")
	if out, err := exec.Command(goBin, "build", "-o", bin, "github.com/edgemq/edgemq/cmd/edgemq").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, log bytes.Buffer
	s := BridgeSettings{Rounds: 1, Duration: time.Second, Publishers: 2, Size: 64, Window: 8, BridgeWindow: 16,
		Backlog: 2000, DrainMax: 15 * time.Second, Mosquitto: mosq, Out: &out, Log: &log}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	a := Target{Name: "edgemq", Kind: KindEdgeMQ, Binary: bin}
	b := Target{Name: "mosquitto", Kind: KindMosquitto, Binary: mosq}
	runs := BridgeCompare(ctx, s, a, b)
	t.Logf("progress:\n%s", log.String())
	if len(runs) != 4 {
		t.Fatalf("got %d runs, want 4", len(runs))
	}
	for _, r := range runs {
		if r.Error != "" {
			t.Errorf("%s via %s failed: %s", r.Load, r.Target, r.Error)
			continue
		}
		get := func(name string) float64 {
			for _, m := range r.Metrics {
				if m.Name == name {
					return m.Value
				}
			}
			t.Errorf("%s via %s: no %q", r.Load, r.Target, name)
			return -1
		}
		rate := mFwd
		if r.Load == "backlog" {
			rate = mBlDrain
			if v := get(mSent); v != 2000 {
				t.Errorf("backlog via %s: published %v, want 2000", r.Target, v)
			}
		}
		if v := get(rate); v <= 0 {
			t.Errorf("%s via %s: %s = %v", r.Load, r.Target, rate, v)
		}
		// The ceiling is one core's worth of the cloud's CPU per message.
		if per, ceil := get(mCloudCPU), get(mCloudCeil); per <= 0 || math.Abs(per*ceil/1e6-1) > 1e-9 {
			t.Errorf("%s via %s: cloud CPU %v µs/msg, ceiling %v msg/s", r.Load, r.Target, per, ceil)
		}
		if sent, got := get(mSent), get(mReceived); sent <= 0 || got < sent {
			t.Errorf("%s via %s: published %v, received %v", r.Load, r.Target, sent, got)
		}
		if v := get(mLost); v != 0 {
			t.Errorf("%s via %s: lost %v", r.Load, r.Target, v)
		}
	}
	PrintBridgeComparison(&out, s, a, b, runs)
	t.Logf("report:\n%s", out.String())
	for _, want := range []string{"== bridge:", "== backlog:", "forwarded (msg/s)", "ratio edgemq/mosquitto"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	live.Lock()
	left := len(live.m)
	live.Unlock()
	if left != 0 {
		t.Errorf("%d broker(s) still running", left)
	}
}
