package main

import (
	"os"
	"testing"
	"time"
)

func withProcRoot(t *testing.T, root string) {
	t.Helper()
	old := procRoot
	procRoot = root
	t.Cleanup(func() { procRoot = old })
}

func TestReadCPUFixture(t *testing.T) {
	withProcRoot(t, "testdata/proc")
	ct, err := ReadCPU(4242)
	if err != nil {
		t.Fatal(err)
	}
	// Sum of the three task schedstat files, not the main thread's alone.
	if want := int64(2004935550 + 1000000000 + 30365); ct.SchedNS != want {
		t.Errorf("SchedNS = %d, want %d", ct.SchedNS, want)
	}
	// utime 250 + stime 75 ticks at 100 Hz.
	if want := int64(3250 * time.Millisecond); ct.StatNS != want {
		t.Errorf("StatNS = %d, want %d", ct.StatNS, want)
	}
	if want := int64(24 + 258 + 1); ct.Runs != want {
		t.Errorf("Runs = %d, want %d", ct.Runs, want)
	}
	if ct.NS() != ct.SchedNS {
		t.Errorf("NS() should prefer schedstat")
	}
}

func TestReadCPUWithoutSchedstat(t *testing.T) {
	withProcRoot(t, "testdata/proc")
	ct, err := ReadCPU(77) // no task dir: falls back to ticks
	if err != nil {
		t.Fatal(err)
	}
	if ct.SchedNS != 0 || ct.StatNS != 0 || ct.NS() != 0 {
		t.Errorf("got %+v", ct)
	}
	if _, err := ReadCPU(99999); err == nil {
		t.Error("missing pid: want error")
	}
}

func TestCPUTimeSub(t *testing.T) {
	a := CPUTime{SchedNS: 100, StatNS: 0}
	b := CPUTime{SchedNS: 350, StatNS: 10e6}
	if d := b.Sub(a); d != 250 {
		t.Errorf("schedstat delta = %v", d)
	}
	a.SchedNS = 0 // fall back to ticks when either side lacks schedstat
	if d := b.Sub(a); d != 10*time.Millisecond {
		t.Errorf("stat delta = %v", d)
	}
}

func TestParseStatTicks(t *testing.T) {
	for _, tc := range []struct {
		in         string
		ut, st     int64
		shouldFail bool
	}{
		{in: "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 17 5 0 0 20 0 1 0", ut: 17, st: 5},
		{in: "9 (a) b) c) R 0 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0", ut: 1, st: 2},
		{in: "no parens here", shouldFail: true},
		{in: "1 (x) S 0 1", shouldFail: true},
		{in: "1 (x) S 0 1 1 0 -1 0 0 0 0 0 zz 2 0", shouldFail: true},
	} {
		ut, st, err := parseStatTicks(tc.in)
		if (err != nil) != tc.shouldFail {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if !tc.shouldFail && (ut != tc.ut || st != tc.st) {
			t.Errorf("%q: got %d %d, want %d %d", tc.in, ut, st, tc.ut, tc.st)
		}
	}
}

func TestParseSchedstat(t *testing.T) {
	if ns, runs, err := parseSchedstat("123 456 7\n"); err != nil || ns != 123 || runs != 7 {
		t.Errorf("got %d, %d, %v", ns, runs, err)
	}
	for _, bad := range []string{"", "\n", "x 1 2", "1 2", "1 2 x"} {
		if _, _, err := parseSchedstat(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestReadRSSFixture(t *testing.T) {
	withProcRoot(t, "testdata/proc")
	rss, err := ReadRSS(4242)
	if err != nil {
		t.Fatal(err)
	}
	if rss != 8816*1024 {
		t.Errorf("rss = %d", rss)
	}
	if anon, err := ReadStatusBytes(4242, "RssAnon"); err != nil || anon != 1200*1024 {
		t.Errorf("RssAnon = %d, %v", anon, err)
	}
	if _, err := ReadRSS(77); err == nil {
		t.Error("kernel thread without VmRSS: want error")
	}
}

func TestParseStatusKBMalformed(t *testing.T) {
	for _, bad := range []string{"VmRSS:\t12 MB\n", "VmRSS:\tabc kB\n", "VmRSS:\n", "VmRSSx:\t12 kB\n"} {
		if _, err := parseStatusKB(bad, "VmRSS"); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}

func TestReadSelf(t *testing.T) {
	// The real procfs: this test process has several threads and some CPU.
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no procfs")
	}
	ct, err := ReadCPU(os.Getpid())
	if err != nil || ct.SchedNS <= 0 {
		t.Fatalf("ReadCPU(self) = %+v, %v", ct, err)
	}
	if rss, err := ReadRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Fatalf("ReadRSS(self) = %d, %v", rss, err)
	}
}

func TestReadBusyCPU(t *testing.T) {
	withProcRoot(t, "testdata/proc")
	busy, err := ReadBusyCPU()
	if err != nil {
		t.Fatal(err)
	}
	// user 1000 + nice 20 + system 300 + irq 5 + softirq 6 + steal 7 ticks.
	if want := 1338 * 10 * time.Millisecond; busy != want {
		t.Errorf("busy = %v, want %v", busy, want)
	}
	for _, bad := range []string{"cpu0 1 2 3 4 5 6 7", "cpu 1 2 3", "cpu 1 2 3 x 5 6 7 8"} {
		if _, err := parseBusyTicks(bad); err == nil {
			t.Errorf("%q: want error", bad)
		}
	}
}
