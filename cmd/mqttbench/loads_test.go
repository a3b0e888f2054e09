package main

import (
	"bytes"
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
	for _, s := range []uint64{0, 1, 2, 1, 200, 0} {
		tr.record(0, s)
	}
	tr.record(1, 5)
	tr.record(7, 0)             // unknown publisher
	tr.record(1, maxTrackedSeq) // beyond the bitset bound
	u, d, b := tr.counts()
	if u != 5 || d != 2 || b != 2 {
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

func TestWindow(t *testing.T) {
	var nilWin *window
	nilWin.acquire() // never blocks
	nilWin.release()

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
	w.release()
	<-done
	// Full window and no release: after stallTimeout it resets and goes on.
	start := time.Now()
	w.acquire()
	if time.Since(start) < stallTimeout || w.stallCount() != 1 {
		t.Errorf("stall: waited %v, stalls %d", time.Since(start), w.stallCount())
	}
	w.release()
	w.release() // extra release is ignored
}

func TestFanoutWindow(t *testing.T) {
	f := &fanoutWindow{limit: 3, subs: make([]paddedCounter, 2)}
	var stop atomic.Bool
	f.wait(0, &stop)
	f.wait(2, &stop)
	f.subs[0].n.Store(5)
	f.subs[1].n.Store(1) // slowest subscriber has 1: message 3 may go, 4 may not yet
	f.wait(3, &stop)
	if f.stalls != 0 {
		t.Fatal("unexpected stall")
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		f.subs[1].n.Store(5)
	}()
	f.wait(4, &stop)
	if f.stalls != 0 {
		t.Fatal("should have been released by the slow subscriber")
	}
	stop.Store(true)
	f.wait(100, &stop) // stop set: returns at once
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
	m := mosquittoConfig(4321)
	for _, want := range []string{"listener 4321 127.0.0.1\n", "allow_anonymous true\n", "max_connections -1\n", "persistence false\n", "log_type error\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("mosquitto config lacks %q:\n%s", want, m)
		}
	}
}
