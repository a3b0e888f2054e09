//go:build linux

package modbusdev

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

// BenchmarkPollPTY is BenchmarkPoll/contiguous through the real port
// path: tarm/serial (OpenTarm) on the terminal side of a pseudo-terminal,
// the simulator on its master side. A pty has no baud rate: on a real
// bus at 9600 baud one such request and its 45-byte response take about
// 60 ms of line time, which bounds a bus to some 16 requests per second.
func BenchmarkPollPTY(b *testing.B) {
	p := devicestest.OpenPTY(b, "")
	sim := modbustest.NewSlave(p.Master, 1, 2, 3, 4)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	// Serve returns when ctx is done and the pty is closed.
	go func() { defer wg.Done(); _ = sim.Serve(ctx) }()
	cfg := Config{Port: p.Tty.Name(), Timeout: time.Second}
	for id := 1; id <= 4; id++ {
		s := Slave{ID: id, Name: "m" + string(rune('0'+id))}
		for i := range 10 {
			r, _ := modbus.Encode(230.1+float64(i), modbus.Float32, modbus.CDAB)
			sim.SetInputRegisters(byte(id), uint16(2*i), r...)
			s.Points = append(s.Points, Point{Name: "p" + string(rune('a'+i)), Table: "input", Address: 2 * i,
				Type: "float32", Order: "CDAB"})
		}
		cfg.Slaves = append(cfg.Slaves, s)
	}
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	port, err := OpenTarm(a.cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		cancel()
		port.Close()
		p.Unplug()
		wg.Wait()
	}()
	c := modbus.NewClient(port, modbus.Options{Timeout: time.Second})
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
}
