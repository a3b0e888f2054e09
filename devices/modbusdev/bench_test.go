package modbusdev

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

// countPublisher counts readings and fields, and drops them.
type countPublisher struct {
	readings, fields, polls int
}

func (p *countPublisher) Publish(_ context.Context, r devices.Reading) error {
	p.readings++
	p.fields += len(r.Fields)
	return nil
}

func (p *countPublisher) Count(c devices.Counter, n uint64) {
	if c == devices.Polls {
		p.polls += int(n)
	}
}

func (p *countPublisher) Commands() <-chan devices.Command { return nil }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPoll measures poll cycles of 4 slaves with 10 float32 points
// each against the simulator over a net.Pipe (no baud rate: this is the
// gateway's cost, not the bus's). cpu-ms/1000readings is the process's
// CPU time, simulator included, per 1,000 published values.
func BenchmarkPoll(b *testing.B) {
	for _, layout := range []struct {
		name string
		gap  int // registers between points; 0: one request per slave
	}{{"contiguous", 0}, {"scattered", 1}} {
		b.Run(layout.name, func(b *testing.B) {
			master, end := net.Pipe()
			sim := modbustest.NewSlave(end, 1, 2, 3, 4)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			// Exits when ctx is done and the pipe is closed (below).
			go func() { defer wg.Done(); _ = sim.Serve(ctx) }()
			defer func() { cancel(); end.Close(); master.Close(); wg.Wait() }()

			cfg := Config{Port: "bench", Timeout: time.Second}
			for id := 1; id <= 4; id++ {
				s := Slave{ID: id, Name: "m" + string(rune('0'+id))}
				for i := range 10 {
					addr := i * (2 + layout.gap)
					r, _ := modbus.Encode(230.1+float64(i), modbus.Float32, modbus.CDAB)
					sim.SetInputRegisters(byte(id), uint16(addr), r...)
					s.Points = append(s.Points, Point{Name: "p" + string(rune('a'+i)), Table: "input", Address: addr,
						Type: "float32", Order: "CDAB", Scale: ptr(0.001)})
				}
				cfg.Slaves = append(cfg.Slaves, s)
			}
			a, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			c := modbus.NewClient(master, modbus.Options{Timeout: time.Second})
			out := &countPublisher{}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, t0 := cpuTime(), time.Now()
			for range b.N {
				if err := a.pollAll(ctx, c, out); err != nil {
					b.Fatal(err)
				}
			}
			cpu, wall := cpuTime()-cpu0, time.Since(t0)
			b.StopTimer()
			if out.fields != 40*b.N {
				b.Fatalf("%d fields in %d cycles", out.fields, b.N)
			}
			b.ReportMetric(float64(out.polls)/wall.Seconds(), "polls/s")
			b.ReportMetric(float64(out.fields)/wall.Seconds(), "readings/s")
			b.ReportMetric(float64(cpu.Microseconds())/1000/(float64(out.fields)/1000), "cpu-ms/1000readings")
		})
	}
}
