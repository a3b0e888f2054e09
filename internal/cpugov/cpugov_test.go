package cpugov

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// decisions is a table of sample sequences and the Ps after each.
type decisions []struct {
	name  string
	start int
	loads []float64
	want  []int // procs after each sample
}

func (tests decisions) run(t *testing.T, o Options) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGovernor(o, tc.start)
			for i, l := range tc.loads {
				if got := g.next(l); got != tc.want[i] {
					t.Fatalf("sample %d (load %.2f): procs %d, want %d", i, l, got, tc.want[i])
				}
			}
		})
	}
}

func TestGovernorDecisions(t *testing.T) {
	decisions{
		{"idle lowers after a full window", 4,
			[]float64{0.1, 0.1, 0.1, 0.1},
			[]int{4, 4, 1, 1}},
		{"lowers to what the busiest sample needs", 4,
			[]float64{0.5, 1.1, 0.2},
			[]int{4, 4, 2}},
		{"one busy sample does not raise", 1,
			[]float64{0.95, 0.3, 0.95, 0.3},
			[]int{1, 1, 1, 1}},
		{"two busy samples double", 1,
			[]float64{0.9, 0.9, 1.8, 1.8},
			[]int{1, 2, 2, 4}},
		{"raise stops at Max", 4,
			[]float64{3.9, 3.9, 3.9},
			[]int{4, 4, 4}},
		{"a raise restarts the window", 1,
			[]float64{0.9, 0.9, 0.1, 0.1, 0.1},
			[]int{1, 2, 2, 2, 1}},
		{"load near the target keeps the Ps", 2,
			[]float64{0.75, 0.75, 0.75, 0.75},
			[]int{2, 2, 2, 2}},
		{"hysteresis: at 1 P, load between target and raise stays", 1,
			[]float64{0.7, 0.8, 0.7, 0.8},
			[]int{1, 1, 1, 1}},
	}.run(t, Options{Min: 1, Max: 4, Interval: time.Second, LowerAfter: 3 * time.Second, Quiet: -1}.withDefaults())
}

func TestGovernorQuiet(t *testing.T) {
	decisions{
		{"a quiet process gets every P", 1,
			[]float64{0.05, 0.05, 0.05},
			[]int{1, 1, 4}},
		{"quiet until a sample uses twice Quiet, then at once", 4,
			[]float64{0.05, 0.2, 0.25, 0.35},
			[]int{4, 4, 4, 1}},
		{"leaving quiet needs no full window", 4,
			[]float64{0.05, 0.5},
			[]int{4, 1}},
		{"leaving quiet for a load that needs two Ps", 4,
			[]float64{1.2},
			[]int{2}},
		{"a mid load keeps one P, then quiet again", 1,
			[]float64{0.4, 0.1, 0.1, 0.1},
			[]int{1, 1, 1, 4}},
		{"a busy quiet process keeps its Ps", 4,
			[]float64{0.05, 2.5, 2.5, 2.5},
			[]int{4, 4, 4, 4}},
	}.run(t, Options{Min: 1, Max: 4, Interval: time.Second, LowerAfter: 3 * time.Second}.withDefaults())
}

func TestGovernorMinAndMax(t *testing.T) {
	o := Options{Min: 2, Max: 3, Interval: time.Second, LowerAfter: time.Second, Quiet: -1}.withDefaults()
	g := newGovernor(o, 3)
	if got := g.next(0); got != 2 {
		t.Fatalf("idle: %d Ps, want Min 2", got)
	}
	g.next(2.5)
	if got := g.next(2.5); got != 3 {
		t.Fatalf("busy: %d Ps, want Max 3 (doubling capped)", got)
	}
	if d := (Options{Min: 5, Max: 2}).withDefaults(); d.Min != 2 {
		t.Fatalf("Min above Max: Min %d, want it capped to 2", d.Min)
	}
}

// waitProcs waits until GOMAXPROCS is want.
func waitProcs(t *testing.T, want int, why string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: GOMAXPROCS %d after 10s, want %d", why, runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStartAdapts runs the real loop on this test process: it starts at
// Min, adds a P while two goroutines spin, comes back to Min once they
// stop, and restores GOMAXPROCS when its context ends. Raise is low so
// that a test machine busy with other packages still counts as busy.
func TestStartAdapts(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	stop := Start(context.Background(), Options{Min: 1, Max: 2, Interval: 20 * time.Millisecond, Raise: 0.3, LowerAfter: 200 * time.Millisecond, Quiet: -1})
	defer stop()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS %d when Start returned, want Max 2", got)
	}
	waitProcs(t, 1, "idle, never quiet")
	var quit atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for x := 0; !quit.Load(); x++ {
			}
		})
	}
	waitProcs(t, 2, "while two goroutines spin")
	quit.Store(true)
	wg.Wait()
	waitProcs(t, 1, "once idle again")
	stop()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS %d after Run returned, want the %d it found", got, before)
	}
}

// TestStartQuiet: a mid load (one goroutine busy half the time) runs on
// one P, a quiet process on every P.
func TestStartQuiet(t *testing.T) {
	stop := Start(context.Background(), Options{Min: 1, Max: 2, Interval: 20 * time.Millisecond, LowerAfter: 100 * time.Millisecond, Quiet: 0.05})
	defer stop()
	var quit atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !quit.Load() {
			for end := time.Now().Add(5 * time.Millisecond); time.Now().Before(end); {
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	waitProcs(t, 1, "at half a core")
	quit.Store(true)
	wg.Wait()
	waitProcs(t, 2, "quiet again")
}

func TestCPUTimeAdvances(t *testing.T) {
	a := cpuTime()
	end := time.Now().Add(20 * time.Millisecond)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	if b := cpuTime(); b <= a {
		t.Fatalf("CPU time did not advance over 20ms of spinning (%v then %v, %d loops)", a, b, x)
	}
}

func TestStartOnePerProcess(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	stop := Start(context.Background(), Options{Min: 1, Max: 1, Interval: time.Hour})
	second := Start(context.Background(), Options{Min: 2, Max: 2, Interval: time.Hour})
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("a second Start changed GOMAXPROCS to %d", got)
	}
	second() // a no-op
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("the second Start's stop changed GOMAXPROCS to %d", got)
	}
	stop()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS %d after stop, want the %d it found", got, before)
	}
	// Once stopped, a governor may start again.
	again := Start(context.Background(), Options{Min: 1, Max: 1, Interval: time.Hour})
	defer again()
	if !running.Load() {
		t.Fatal("Start after stop did not run")
	}
}
