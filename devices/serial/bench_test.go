package serial_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/serial"
)

// feedPort returns n copies of line, as many as fit in each read, then
// times out.
type feedPort struct {
	mu   sync.Mutex
	line []byte
	left int
}

func (p *feedPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for p.left > 0 && n+len(p.line) <= len(b) {
		n += copy(b[n:], p.line)
		p.left--
	}
	if n == 0 {
		time.Sleep(time.Millisecond)
		return 0, io.EOF
	}
	return n, nil
}
func (p *feedPort) Write(b []byte) (int, error) { return len(b), nil }
func (p *feedPort) Close() error                { return nil }

type brokerClient struct{ *broker.Client }

func (c brokerClient) Subscribe(filter string, qos byte, h func(string, []byte)) error {
	return c.Client.Subscribe(filter, qos, func(m *broker.Message) { h(m.Topic, m.Payload) })
}

// BenchmarkAdapterToBroker measures what one serial adapter parses and
// publishes into an in-process broker with one subscriber on every
// field: b.N lines of three kv fields each (ns/op is per line, so
// ns/op x 1000 / 3 is the CPU of 1,000 readings of one field).
func BenchmarkAdapterToBroker(b *testing.B) {
	srv, err := broker.New(broker.Options{MaxQueuedMessages: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	sub, _ := srv.NewClient("sub")
	var mu sync.Mutex
	got := 0
	sub.Subscribe("edgemq/gw/b/#", 0, func(*broker.Message) { mu.Lock(); got++; mu.Unlock() })
	c, _ := srv.NewClient("devices")
	defer c.Close()

	port := &feedPort{line: []byte("temp=21.5,hum=40,press=1013.25\n"), left: b.N}
	a, err := serial.New(serial.Config{Port: "bench", Format: "kv", Open: func(serial.Config) (serial.Port, error) { return port, nil }})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	sup, err := devices.Start(devices.Options{Client: brokerClient{c}, GatewayID: "gw"}, []devices.Device{{ID: "b", Adapter: a}})
	if err != nil {
		b.Fatal(err)
	}
	for sup.Stats()[0].Published < uint64(3*b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sup.Close(context.Background())
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lines/s")
	if st := sup.Stats()[0]; st.ParseErrors != 0 || st.LinesRead != uint64(b.N) {
		b.Fatalf("stats %+v", st)
	}
}
