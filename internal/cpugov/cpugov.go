// Package cpugov adapts GOMAXPROCS to the load of the process.
//
// A message broker on a small board spends most of its time handling one
// packet at a time: with several Ps, the Go runtime wakes, parks and
// spins OS threads for nearly every packet, and those wake-ups cost more
// than the packet itself. Measured at 70,000 fan-in messages/s on two
// cores: two Ps make three times Mosquitto's context switches and 30%
// more CPU per message than one P, which handles such a load on one
// thread, much like an epoll loop. When the process needs more than one
// core, the governor gives it more Ps at once, and takes them back when
// the load has stayed low for a while. A quiet process (well under a
// core) gets every P: there, the wake-ups cost little CPU in absolute
// terms, and with one P two packets that arrive together wait for each
// other (measured at 2,000 QoS 1 messages/s: p99 latency 210-260 µs on
// two Ps, 290-300 µs on one). An execution trace of that load on one P
// shows the tail: whenever the kernel preempts the one thread (for the
// load generator, on a small board for any other process) or the
// collector's mark worker holds the P, every connection waits, for 0.2
// to 1 ms; with two Ps the other thread carries on.
//
// The governor samples the process's CPU time (getrusage) every Interval:
// it doubles the Ps (up to Max) when the last two samples used more than
// Raise of every P; once a whole LowerAfter of samples is in, it sets Max
// Ps when the busiest of them used less than Quiet, and otherwise lowers
// the Ps to what that sample needs at Target per P. A quiet process keeps
// Max Ps until a sample uses twice Quiet, and then goes at once to what
// that sample needs.
package cpugov

import (
	"context"
	"log/slog"
	"math"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// Options tune the governor. Zero fields take the defaults shown.
type Options struct {
	Min, Max   int           // bounds for GOMAXPROCS: 1 and runtime.GOMAXPROCS(0) at start
	Interval   time.Duration // between samples: 250ms
	Raise      float64       // share of every P in use that adds Ps: 0.85
	Target     float64       // load per P to aim for when lowering: 0.7
	LowerAfter time.Duration // how long the load must stay low: 5s
	Quiet      float64       // load (cores) under which every P is used: 0.15; negative: never
	Logger     *slog.Logger  // changes are logged at debug level; nil: none
}

func (o Options) withDefaults() Options {
	if o.Max <= 0 {
		o.Max = runtime.GOMAXPROCS(0)
	}
	if o.Min <= 0 {
		o.Min = 1
	}
	o.Min = min(o.Min, o.Max)
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.Raise <= 0 {
		o.Raise = 0.85
	}
	if o.Target <= 0 {
		o.Target = 0.7
	}
	if o.LowerAfter <= 0 {
		o.LowerAfter = 5 * time.Second
	}
	if o.Quiet == 0 {
		o.Quiet = 0.15
	}
	return o
}

// running makes Start one per process: GOMAXPROCS is process-wide.
var running atomic.Bool

// Start sets GOMAXPROCS to Max before it returns (a process at rest is
// quiet), then adapts it in a goroutine of its own until ctx is done or
// stop is called. stop waits for that goroutine, which restores the
// GOMAXPROCS it found. While a governor runs in the process, another
// Start does nothing.
func Start(ctx context.Context, o Options) (stop func()) {
	if !running.CompareAndSwap(false, true) {
		return func() {}
	}
	o = o.withDefaults()
	if o.Logger != nil {
		o.Logger.Debug("CPU governor running", "min_procs", o.Min, "max_procs", o.Max)
	}
	prev := runtime.GOMAXPROCS(o.Max)
	g := newGovernor(o, o.Max)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer running.Store(false)
		defer runtime.GOMAXPROCS(prev)
		g.run(ctx)
	}()
	return func() { cancel(); <-done }
}

// run samples the load every Interval and applies the decisions.
func (g *governor) run(ctx context.Context) {
	t := time.NewTicker(g.o.Interval)
	defer t.Stop()
	lastCPU, lastAt := cpuTime(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c := cpuTime()
			wall := now.Sub(lastAt)
			if wall <= 0 {
				continue
			}
			load := float64(c-lastCPU) / float64(wall)
			lastCPU, lastAt = c, now
			was := g.procs
			if n := g.next(load); n != was {
				runtime.GOMAXPROCS(n)
				if g.o.Logger != nil {
					g.o.Logger.Debug("GOMAXPROCS changed", "from", was, "to", n, "load", math.Round(load*100)/100)
				}
			}
		}
	}
}

// governor is the decision, apart from the clock and the runtime.
type governor struct {
	o      Options
	procs  int
	window []float64 // the load of the last LowerAfter, newest last
	high   int       // consecutive samples above Raise
	quiet  bool      // at Max Ps because the load was under Quiet
}

func newGovernor(o Options, procs int) *governor {
	n := max(1, int(o.LowerAfter/o.Interval))
	return &governor{o: o, procs: procs, window: make([]float64, 0, n), quiet: procs == o.Max && o.Quiet > 0}
}

// next takes a sample (CPU time per wall time, in cores) and returns the
// number of Ps to use from now on.
func (g *governor) next(load float64) int {
	if len(g.window) == cap(g.window) {
		copy(g.window, g.window[1:])
		g.window = g.window[:len(g.window)-1]
	}
	g.window = append(g.window, load)
	if load > g.o.Raise*float64(g.procs) {
		g.high++
	} else {
		g.high = 0
	}
	switch {
	case g.high >= 2 && g.procs < g.o.Max:
		g.set(min(g.o.Max, 2*g.procs))
		g.quiet = false
	case g.quiet && load >= 2*g.o.Quiet:
		// No longer quiet: at once to what this sample needs.
		g.quiet = false
		if need := max(g.o.Min, int(math.Ceil(load/g.o.Target))); need < g.procs {
			g.set(need)
		}
	case len(g.window) == cap(g.window):
		peak := 0.0
		for _, l := range g.window {
			peak = max(peak, l)
		}
		switch {
		case peak < g.o.Quiet:
			if g.procs != g.o.Max {
				g.set(g.o.Max)
			}
			g.quiet = true
		case g.quiet:
			// under twice Quiet: still quiet enough
		default:
			if need := max(g.o.Min, int(math.Ceil(peak/g.o.Target))); need < g.procs {
				g.set(need)
			}
		}
	}
	return g.procs
}

// set changes the Ps and starts the observation afresh: samples taken
// with the old width say little about the new one.
func (g *governor) set(n int) {
	g.procs = n
	g.high = 0
	g.window = g.window[:0]
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
