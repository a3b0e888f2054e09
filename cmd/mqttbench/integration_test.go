package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
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
	for _, m := range []string{mThroughput, mCPUPerMsg, mBrokerUtil, mReceived} {
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
