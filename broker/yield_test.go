package broker

import (
	"runtime"
	"testing"
	"time"
)

// A reader yields before its flush when the broker is busy (batches read
// back to back, or at once on several Ps) or runs on one P, and flushes
// at once when a quiet broker on several Ps would wake an idle P for
// nothing.
func TestBatchReadYieldsOnlyWhenBusy(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := s.started.Add(time.Second)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	steps := []struct {
		name  string
		procs int32
		t     time.Time
		yield bool
	}{
		{"first batch after a pause", 2, at(0), false},
		{"next one 5 µs later", 2, at(5 * time.Microsecond), true},
		{"a paced batch 500 µs later", 2, at(505 * time.Microsecond), false},
		{"read on another P slightly earlier", 2, at(500 * time.Microsecond), true},
		{"just past the gap", 2, at(500*time.Microsecond + busyGap), false},
		{"one P: always", 1, at(10 * time.Millisecond), true},
		{"one P, again after a pause", 1, at(20 * time.Millisecond), true},
		{"two Ps again", 2, at(30 * time.Millisecond), false},
	}
	for _, st := range steps {
		s.procs.Store(st.procs)
		s.procsAt.Store(int64(st.t.Sub(s.started))) // no refresh now
		if got := s.batchRead(st.t); got != st.yield {
			t.Errorf("%s: yield = %v, want %v", st.name, got, st.yield)
		}
	}

	// GOMAXPROCS is read again once procsEvery has passed.
	s.procs.Store(99)
	s.procsAt.Store(0)
	s.batchRead(t0.Add(time.Hour))
	if got, want := s.procs.Load(), int32(runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("procs = %d after procsEvery, want GOMAXPROCS %d", got, want)
	}
	s.procs.Store(99)
	s.batchRead(t0.Add(time.Hour + procsEvery/2))
	if got := s.procs.Load(); got != 99 {
		t.Errorf("procs = %d, read again before procsEvery passed", got)
	}
}
