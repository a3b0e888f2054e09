package gpio

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/devicestest"
	"periph.io/x/conn/v3/gpio"
)

// memStore is a CountStore in memory that can be made to fail.
type memStore struct {
	mu    sync.Mutex
	n     uint64
	saves int
	err   error
}

func (s *memStore) Load() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, nil
}

func (s *memStore) Save(n uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.n = n
	s.saves++
	return nil
}

// pulse gives n falling edges on p, spaced by gap.
func pulse(t *testing.T, p interface{ Set(gpio.Level) error }, n int, gap time.Duration) {
	t.Helper()
	for range n {
		if err := p.Set(gpio.Low); err != nil {
			t.Fatal(err)
		}
		if err := p.Set(gpio.High); err != nil {
			t.Fatal(err)
		}
		time.Sleep(gap)
	}
}

func last(p *devicestest.Publisher, field string) string {
	v := values(p, field)
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

func TestCounterCountsAndSurvivesRestart(t *testing.T) {
	sim, pins := simPins(t)
	store := &memStore{}
	cfg := CounterConfig{Pin: "GPIO27", PulsesPerUnit: 4, Debounce: 5 * time.Millisecond, Interval: time.Hour}
	a, err := NewCounter(cfg, pins, store)
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	stop := start(t, a, out)
	eventually(t, func() bool { return last(out, "count") == "0" }, "count 0 at start")
	p := simPin(t, sim, "GPIO27")
	pulse(t, p, 7, 20*time.Millisecond)
	eventually(t, func() bool { return last(out, "count") == "7" }, "count 7")
	if got := last(out, "total"); got != "1.750" {
		t.Errorf("total %q, want 1.750 (7 pulses at 4 per unit)", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A new run (the gateway restarted) goes on from the stored count.
	out2 := &devicestest.Publisher{}
	start(t, a, out2)
	eventually(t, func() bool { return last(out2, "count") == "7" }, "count 7 after restart")
	pulse(t, p, 1, 0)
	eventually(t, func() bool { return last(out2, "count") == "8" }, "count 8")
	if store.n != 8 {
		t.Errorf("stored %d, want 8", store.n)
	}
}

func TestCounterDebounce(t *testing.T) {
	sim, pins := simPins(t)
	a, err := NewCounter(CounterConfig{Pin: "GPIO6", Debounce: 200 * time.Millisecond, Interval: time.Hour}, pins, &memStore{})
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	start(t, a, out)
	eventually(t, func() bool { return last(out, "count") == "0" }, "count 0")
	p := simPin(t, sim, "GPIO6")
	pulse(t, p, 5, 0) // one pulse that bounced 4 times
	eventually(t, func() bool { return last(out, "count") == "1" }, "count 1")
	time.Sleep(300 * time.Millisecond)
	pulse(t, p, 1, 0)
	eventually(t, func() bool { return last(out, "count") == "2" }, "count 2")
	if got := joined(out, "count"); got != "0 1 2" {
		t.Errorf("counts %q, want 0 1 2", got)
	}
}

func TestCounterRate(t *testing.T) {
	sim, pins := simPins(t)
	a, err := NewCounter(CounterConfig{Pin: "GPIO6", Debounce: -1, Interval: 300 * time.Millisecond}, pins, &memStore{})
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	start(t, a, out)
	eventually(t, func() bool { return last(out, "count") == "0" }, "count 0")
	p := simPin(t, sim, "GPIO6")
	pulse(t, p, 10, time.Millisecond)
	eventually(t, func() bool {
		r, err := strconv.ParseFloat(last(out, "rate"), 64)
		return err == nil && r > 0
	}, "a positive rate")
	// 10 pulses within one interval of at least 300 ms: at most 10 units
	// per 0.3 s, i.e. 120000 per hour.
	rates := values(out, "rate")
	var max float64
	for _, s := range rates {
		r, _ := strconv.ParseFloat(s, 64)
		max = max2(max, r)
	}
	if max > 120000 || max < 1000 {
		t.Errorf("rates %v per hour, want one near 10 per interval", rates)
	}
	// Later intervals without pulses give 0.
	eventually(t, func() bool { return last(out, "rate") == "0.000" }, "rate back to 0")
}

func max2(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func TestCounterSaveFailureEndsRun(t *testing.T) {
	sim, pins := simPins(t)
	diskFull := errors.New("disk full")
	store := &memStore{}
	a, err := NewCounter(CounterConfig{Pin: "GPIO6", Debounce: -1, Interval: time.Hour}, pins, store)
	if err != nil {
		t.Fatal(err)
	}
	out := &devicestest.Publisher{}
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, out) }()
	eventually(t, func() bool { return last(out, "count") == "0" }, "count 0")
	store.mu.Lock()
	store.err = diskFull
	store.mu.Unlock()
	pulse(t, simPin(t, sim, "GPIO6"), 1, 0)
	select {
	case err := <-done:
		if !errors.Is(err, diskFull) {
			t.Fatalf("Run = %v, want %v", err, diskFull)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run went on after a failed save")
	}
	if got := joined(out, "count"); got != "0" {
		t.Errorf("counts %q: an unsaved count was published", got)
	}
}
