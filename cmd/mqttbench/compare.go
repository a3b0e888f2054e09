package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Settings of one benchmark session, shared by compare and run.
type Settings struct {
	Rounds   int
	Duration time.Duration
	Loads    []Load
	Params   Params
	Out      io.Writer // tables
	Log      io.Writer // progress
}

// envFor returns the measurement schedule for a broker at addr.
func (s Settings) envFor(addr string, pid int) Env {
	warm := min(time.Second, s.Duration/5)
	return Env{
		Addr:     addr,
		PID:      pid,
		Duration: s.Duration,
		Warmup:   warm,
		Quiet:    300 * time.Millisecond,
		DrainMax: max(2*time.Second, s.Duration),
		Settle:   time.Second,
		Params:   s.Params,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(s.Log, "    "+format+"\n", args...)
		},
	}
}

// Compare runs every load on a fresh broker of each target, alternating
// A B A B, for s.Rounds rounds, and returns every run. It stops early
// (returning what it has) when ctx ends.
func Compare(ctx context.Context, s Settings, a, b Target) []Run {
	var runs []Run
	for round := 1; round <= s.Rounds; round++ {
		for _, l := range s.Loads {
			for _, t := range []Target{a, b} {
				if ctx.Err() != nil {
					return runs
				}
				r := runOnFreshBroker(ctx, s, l, t, round)
				if ctx.Err() != nil {
					return runs // interrupted: the run is incomplete, not failed
				}
				runs = append(runs, r)
			}
		}
	}
	return runs
}

// runOnFreshBroker starts t, runs l once against it and stops it.
func runOnFreshBroker(ctx context.Context, s Settings, l Load, t Target, round int) Run {
	r := Run{Load: l.Name, Target: t.Name, Kind: t.Kind.String(), Binary: t.Binary, Round: round, Started: time.Now()}
	fmt.Fprintf(s.Log, "[round %d/%d] %-7s on %-9s ", round, s.Rounds, l.Name, t.Name)
	br, err := StartBroker(ctx, t)
	if err != nil {
		r.Error = err.Error()
		fmt.Fprintf(s.Log, "start failed: %v\n", err)
		return r
	}
	fmt.Fprintf(s.Log, "(pid %d, %s)\n", br.PID, br.Addr)
	sample, err := l.Run(ctx, s.envFor(br.Addr, br.PID))
	if err == nil && br.Exited() {
		err = fmt.Errorf("broker exited during the run: %s", br.LogTail(400))
	}
	br.Stop()
	r.Seconds = time.Since(r.Started).Seconds()
	if err != nil {
		r.Error = err.Error()
		fmt.Fprintf(s.Log, "    failed after %.1fs: %v\n", r.Seconds, err)
		return r
	}
	r.Metrics = sample.Metrics
	fmt.Fprintf(s.Log, "    %s\n", headline(sample))
	return r
}

// headline summarises a sample in one progress line.
func headline(s *Sample) string {
	out := ""
	for i, m := range s.Metrics {
		if i == 3 {
			break
		}
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %s %s", m.Name, fmtNum(m.Value), m.Unit)
	}
	return out
}

// PrintComparison writes one table per load.
func PrintComparison(w io.Writer, s Settings, a, b Target, runs []Run) {
	for _, l := range s.Loads {
		var lr []Run
		for _, r := range runs {
			if r.Load == l.Name {
				lr = append(lr, r)
			}
		}
		if len(lr) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n== %s: %s; %d round(s) of %v ==\n", l.Name, l.Desc, s.Rounds, s.Duration)
		fmt.Fprint(w, CompareTable(l, a.Name, b.Name, lr))
	}
}
