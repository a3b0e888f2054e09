package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPayloadRoundTrip(t *testing.T) {
	buf := make([]byte, 64)
	encodePayload(buf, 49, 1<<40+3, 1700000000123456789)
	pub, seq, ts, ok := decodePayload(buf)
	if !ok || pub != 49 || seq != 1<<40+3 || ts != 1700000000123456789 {
		t.Errorf("got %d %d %d %v", pub, seq, ts, ok)
	}
	if _, _, _, ok := decodePayload(buf[:payloadHeader-1]); ok {
		t.Error("short payload decoded")
	}
}

func TestSeqTracker(t *testing.T) {
	tr := newSeqTracker(2)
	var credits []int
	for _, s := range []uint64{0, 1, 2, 1, 5, 4, 0} {
		credits = append(credits, tr.record(0, s))
	}
	// 5 reveals the gap 3,4; the late 4 then accounts for nothing more.
	if want := []int{1, 1, 1, 0, 3, 0, 0}; fmt.Sprint(credits) != fmt.Sprint(want) {
		t.Errorf("credits %v, want %v", credits, want)
	}
	tr.record(1, 5)
	tr.record(7, 0)             // unknown publisher
	tr.record(1, maxTrackedSeq) // beyond the bitset bound
	tr.record(1, 200)           // grows the bitset
	u, d, b := tr.counts()
	if u != 7 || d != 2 || b != 2 {
		t.Errorf("unique %d dups %d bad %d", u, d, b)
	}
}

func TestConnectPacket(t *testing.T) {
	got := connectPacket("ab", 60)
	want := []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'a', 'b'}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
	long := connectPacket(strings.Repeat("x", 200), 60) // remaining length 212: two bytes
	if long[1] != 212%128|0x80 || long[2] != 1 || len(long) != 3+212 {
		t.Errorf("long header % x", long[:3])
	}
}

func TestCheckConnack(t *testing.T) {
	if err := checkConnack([]byte{0x20, 2, 0, 0}); err != nil {
		t.Error(err)
	}
	if err := checkConnack([]byte{0x20, 2, 1, 0}); err != nil {
		t.Error("session present flag must be accepted:", err)
	}
	for _, bad := range [][]byte{{0x20, 2, 0, 5}, {0x30, 2, 0, 0}, {0x20, 3, 0, 0}} {
		if err := checkConnack(bad); err == nil {
			t.Errorf("% x: want error", bad)
		}
	}
}

func setStall(t *testing.T, d time.Duration) {
	old := stallTimeout
	stallTimeout = d
	t.Cleanup(func() { stallTimeout = old })
}

func TestWindow(t *testing.T) {
	setStall(t, 10*time.Second) // no stall while the goroutine waits
	var nilWin *window
	nilWin.acquire() // never blocks
	nilWin.release(1)

	w := newWindow(2)
	w.acquire()
	w.acquire()
	done := make(chan struct{})
	go func() { w.acquire(); close(done) }()
	select {
	case <-done:
		t.Fatal("acquired beyond the window")
	case <-time.After(20 * time.Millisecond):
	}
	w.release(1)
	<-done
	if w.stallCount() != 0 {
		t.Fatal("unexpected stall")
	}
	// Full window and no release: after stallTimeout it goes on anyway.
	stallTimeout = 50 * time.Millisecond
	start := time.Now()
	w.acquire()
	if time.Since(start) < stallTimeout || w.stallCount() != 1 {
		t.Errorf("stall: waited %v, stalls %d", time.Since(start), w.stallCount())
	}
	w.release(5) // more than taken: empties the window, no block
	if len(w.ch) != 0 {
		t.Errorf("window holds %d credits", len(w.ch))
	}
}

func TestFanoutWindow(t *testing.T) {
	setStall(t, 10*time.Second)
	f := &fanoutWindow{limit: 3, progress: make([]paddedCounter, 2)}
	var stop atomic.Bool
	f.wait(0, &stop)
	f.wait(2, &stop)
	advance(&f.progress[0].n, 4)
	advance(&f.progress[1].n, 0)
	advance(&f.progress[0].n, 1) // progress never goes back
	if f.progress[0].n.Load() != 5 {
		t.Fatalf("progress %d", f.progress[0].n.Load())
	}
	// Slowest subscriber has 1 message: 3 may go, 4 must wait.
	f.wait(3, &stop)
	go func() {
		time.Sleep(10 * time.Millisecond)
		advance(&f.progress[1].n, 4) // messages 1..3 dropped by the broker: no matter
	}()
	start := time.Now()
	f.wait(4, &stop)
	if f.stalls != 0 || time.Since(start) < 5*time.Millisecond {
		t.Fatalf("stalls %d after %v: should have waited for the slow subscriber", f.stalls, time.Since(start))
	}
	stallTimeout = 50 * time.Millisecond
	f.wait(100, &stop) // nobody progresses: stall
	if f.stalls != 1 {
		t.Errorf("stalls %d", f.stalls)
	}
	stop.Store(true)
	f.wait(200, &stop) // stop set: returns at once
}

func TestFindLoads(t *testing.T) {
	ls, err := FindLoads("fanin0, memory")
	if err != nil || len(ls) != 2 || ls[0].Name != "fanin0" || ls[1].Name != "memory" {
		t.Fatalf("got %v, %v", ls, err)
	}
	if _, err := FindLoads("fanin0,nope"); err == nil {
		t.Error("unknown load accepted")
	}
	if _, err := FindLoads(" , "); err == nil {
		t.Error("empty list accepted")
	}
	if got := strings.Join(LoadNames(), ","); got != "fanin0,fanin1,fanout,latency,memory" {
		t.Errorf("LoadNames = %s", got)
	}
}

func TestConfigs(t *testing.T) {
	e := edgemqConfig(4321, "/tmp/x/data")
	for _, want := range []string{`address: "127.0.0.1:4321"`, "max_connections: 20000", "max_queued_messages: 10000",
		"max_inflight: 64", "receive_maximum: 64", "sys_interval: 0s", `storage: {dir: "/tmp/x/data"}`, "log: {level: warn}"} {
		if !strings.Contains(e, want) {
			t.Errorf("edgemq config lacks %q:\n%s", want, e)
		}
	}
	if strings.Contains(mosquittoConfig(4321, false), "user") {
		t.Error("user set when not root")
	}
	m := mosquittoConfig(4321, true)
	for _, want := range []string{"listener 4321 127.0.0.1\n", "allow_anonymous true\n", "max_connections -1\n", "persistence false\n", "log_type error\n", "user root\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("mosquitto config lacks %q:\n%s", want, m)
		}
	}
}
