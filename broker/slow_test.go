package broker_test

// Slow and stalled subscribers, and many concurrent clients. Every wait is
// bounded; nothing is measured in time.

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// fastSub is a raw subscriber that reads and acknowledges in its own
// goroutine, checking that the sequence numbers in the first 8 bytes of
// the payloads come in order without gaps.
type fastSub struct {
	rc     *brokertest.RawClient
	got    atomic.Int64
	notify chan struct{} // capacity 1: progress
	done   chan error    // the reader's result once it has want messages
}

func startFastSub(t *testing.T, addr, id, filter string, want int64) *fastSub {
	t.Helper()
	f := &fastSub{rc: rcConnect(t, addr, packet.Version311, id), notify: make(chan struct{}, 1), done: make(chan error, 1)}
	rcSubscribe(t, f.rc, 1, filter, 1)
	go func() { f.done <- f.read(want) }()
	return f
}

func (f *fastSub) read(want int64) error {
	var ack []byte
	br := bufio.NewReaderSize(f.rc.Conn, 64<<10)
	f.rc.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for f.got.Load() < want {
		p, err := packet.Read(br, 0, packet.Version311)
		if err != nil {
			return fmt.Errorf("after %d messages: %w", f.got.Load(), err)
		}
		pub, ok := p.(*packet.Publish)
		if !ok {
			return fmt.Errorf("unexpected %v", p.Type())
		}
		if seq := int64(binary.BigEndian.Uint64(pub.Payload)); seq != f.got.Load() {
			return fmt.Errorf("message %d out of order or duplicated: got sequence %d", f.got.Load(), seq)
		}
		if pub.QoS == 1 {
			ack, _ = packet.Append(ack[:0], &packet.Ack{Kind: packet.PUBACK, PacketID: pub.PacketID}, packet.Version311)
			f.rc.Conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := f.rc.Conn.Write(ack); err != nil {
				return err
			}
		}
		f.got.Add(1)
		select {
		case f.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

// waitFor waits until the subscriber has n messages.
func (f *fastSub) waitFor(t *testing.T, n int64) {
	t.Helper()
	deadline := time.NewTimer(boundedWait)
	defer deadline.Stop()
	for f.got.Load() < n {
		select {
		case <-f.notify:
		case err := <-f.done:
			f.done <- err
			if f.got.Load() < n {
				t.Fatalf("fast subscriber stopped at %d of %d: %v", f.got.Load(), n, err)
			}
		case <-deadline.C:
			t.Fatalf("fast subscriber has %d of %d messages", f.got.Load(), n)
		}
	}
}

// publishBatches publishes n QoS 1 messages of size bytes on topicName
// from a raw client, in batches, each completed (all PUBACKs) and received
// by fast before the next: the broker's queues never need to hold more
// than a batch for a subscriber that keeps up.
func publishBatches(t *testing.T, pub *brokertest.RawClient, fast *fastSub, topicName string, n, batch, size int) {
	t.Helper()
	payload := make([]byte, size)
	var buf []byte
	br := bufio.NewReader(pub.Conn) // only PUBACKs come: none left over at the end
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		buf = buf[:0]
		for i := start; i < end; i++ {
			binary.BigEndian.PutUint64(payload, uint64(i))
			var err error
			buf, err = packet.Append(buf, &packet.Publish{Topic: topicName, QoS: 1, PacketID: uint16(i%65535) + 1, Payload: payload}, packet.Version311)
			if err != nil {
				t.Fatal(err)
			}
		}
		pub.WriteRaw(buf)
		pub.Conn.SetReadDeadline(time.Now().Add(boundedWait))
		for i := start; i < end; i++ {
			p, err := packet.Read(br, 0, packet.Version311)
			if a, ok := p.(*packet.Ack); err != nil || !ok || a.Kind != packet.PUBACK || a.PacketID != uint16(i%65535)+1 {
				t.Fatalf("publisher: want PUBACK %d, got %#v (%v)", uint16(i%65535)+1, p, err)
			}
		}
		fast.waitFor(t, int64(end))
	}
}

// dialStalled connects a raw subscriber with a small receive buffer that
// never reads after its SUBACK.
func dialStalled(t *testing.T, addr, id, filter string, qos byte) *brokertest.RawClient {
	t.Helper()
	rc := brokertest.Dial(t, addr, packet.Version311)
	rc.Conn.(*net.TCPConn).SetReadBuffer(8 << 10)
	rc.Connect(id)
	rcSubscribe(t, rc, 1, filter, qos)
	return rc
}

// TestSlowSubscriberStalled: a subscriber that never reads does not slow
// down the publisher or a fast subscriber; what it cannot take is dropped
// and counted, and it is cleaned up when it finally goes.
func TestSlowSubscriberStalled(t *testing.T) {
	t.Parallel()
	const (
		n        = 20000
		size     = 1 << 10
		inflight = 16
		queued   = 100
	)
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{MaxInflight: inflight, MaxQueuedMessages: queued, MaxQueuedBytes: 64 << 10})
			stalled := dialStalled(t, addr, "stalled", "load/#", qos)
			fast := startFastSub(t, addr, "fast", "load/#", n)
			pub := rcConnect(t, addr, packet.Version311, "pub")

			// Batches of 80: with the window of 16 still in flight, below the
			// queue of 100.
			publishBatches(t, pub, fast, "load/x", n, 80, size)
			if err := <-fast.done; err != nil {
				t.Fatalf("fast subscriber: %v", err)
			}
			st := s.Stats()
			t.Logf("dropped %d of %d for the stalled subscriber", st.PublishDropped, n)
			if st.PublishDropped == 0 {
				t.Errorf("nothing dropped for a subscriber that never reads")
			}
			if qos == 1 {
				// The window and the queue hold the first messages, the
				// rest is dropped: exactly.
				if want := uint64(n - inflight - queued); st.PublishDropped != want {
					t.Errorf("PublishDropped = %d, want %d", st.PublishDropped, want)
				}
			}
			if st.MessagesReceived != n {
				t.Errorf("MessagesReceived = %d, want %d", st.MessagesReceived, n)
			}

			// The stalled client goes; the broker forgets it.
			stalled.Conn.Close()
			brokertest.Eventually(t, boundedWait, func() bool {
				st := s.Stats()
				return st.ClientsConnected == 2 && st.ClientsTotal == 2 && st.Subscriptions == 1
			}, "stalled client cleaned up")
			// Everything still works, and Shutdown finds no goroutine stuck
			// on the stalled socket.
			rcPublish(t, pub, "load/x", 1, 1, "\x00\x00\x00\x00\x00\x00\x4e\x20") // sequence 20000
			rcPing(t, rcConnect(t, addr, packet.Version311, "newcomer"))
			ctx, cancel := context.WithTimeout(context.Background(), boundedWait)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
		})
	}
}

// TestSlowSubscriberQoS0DroppedFirst: when a stalled QoS 1 subscriber's
// queue is full, queued QoS 0 messages make room for QoS 1 ones: once it
// reads again it gets every QoS 1 message the window and the queue could
// hold, in order, and (almost) no QoS 0 message.
func TestSlowSubscriberQoS0DroppedFirst(t *testing.T) {
	t.Parallel()
	const (
		n        = 2000 // of each QoS
		inflight = 8
		queued   = 50
	)
	s, addr := brokertest.StartServer(t, broker.Options{MaxInflight: inflight, MaxQueuedMessages: queued})
	stalled := dialStalled(t, addr, "stalled", "mix/#", 1)
	pub := rcConnect(t, addr, packet.Version311, "pub")
	var buf []byte
	for i := range n {
		buf, _ = packet.Append(buf, &packet.Publish{Topic: "mix/q0", Payload: []byte(fmt.Sprint(i))}, packet.Version311)
		buf, _ = packet.Append(buf, &packet.Publish{Topic: "mix/q1", QoS: 1, PacketID: uint16(i + 1), Payload: []byte(fmt.Sprint(i))}, packet.Version311)
		if len(buf) > 32<<10 || i == n-1 {
			pub.WriteRaw(buf)
			buf = buf[:0]
		}
	}
	for i := range n {
		rcExpectAck(t, pub, packet.PUBACK, uint16(i+1))
	}
	if d := s.Stats().PublishDropped; d < n {
		t.Errorf("PublishDropped = %d, want >= %d", d, n)
	}

	// Now read: every QoS 1 message of the window and the queue.
	var q1 []string
	q0 := 0
	for len(q1) < inflight+queued {
		p := rcExpectPublish(t, stalled)
		if p.Topic == "mix/q0" {
			q0++
			continue
		}
		q1 = append(q1, string(p.Payload))
	}
	rcPublish(t, pub, "mix/end", 1, 60000, "end")
	for {
		p := rcExpectPublish(t, stalled)
		if p.Topic == "mix/end" {
			break
		}
		if p.Topic == "mix/q1" {
			t.Fatalf("more QoS 1 messages than window and queue: %s", p.Payload)
		}
		q0++
	}
	for i, v := range q1 {
		if v != fmt.Sprint(i) {
			t.Fatalf("QoS 1 messages kept: %q, want 0..%d in order", q1, inflight+queued-1)
		}
	}
	t.Logf("QoS 0 messages that reached the stalled subscriber: %d of %d", q0, n)
	if q0 >= queued {
		t.Errorf("%d QoS 0 messages delivered: queued QoS 0 messages were not dropped first", q0)
	}
}

// TestSlowManyClients: 20 publishers and 20 subscribers (3.1.1 and 3.1) at
// once; every QoS 1 message reaches every subscriber exactly once, in the
// order of its publisher.
func TestSlowManyClients(t *testing.T) {
	t.Parallel()
	const (
		pubs = 20
		subs = 20
		msgs = 50
	)
	s, addr := brokertest.StartServer(t, broker.Options{})
	type result struct {
		mu   sync.Mutex
		next [pubs]int
		n    int
		errs []string
		done chan struct{} // all messages
		end  chan struct{} // the sentinel
	}
	results := make([]*result, subs)
	for i := range subs {
		r := &result{done: make(chan struct{}), end: make(chan struct{})}
		results[i] = r
		v := pv311
		if i%2 == 1 {
			v = pv31
		}
		c := p3Connect(t, addr, fmt.Sprintf("sub%d", i), v, func(o *mqtt.ClientOptions) {
			o.SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
				if string(m.Payload()) == "end" {
					close(r.end)
					return
				}
				var p, seq int
				if _, err := fmt.Sscanf(string(m.Payload()), "%d/%d", &p, &seq); err != nil || p < 0 || p >= pubs {
					r.mu.Lock()
					r.errs = append(r.errs, fmt.Sprintf("bad payload %q", m.Payload()))
					r.mu.Unlock()
					return
				}
				r.mu.Lock()
				defer r.mu.Unlock()
				if seq != r.next[p] {
					r.errs = append(r.errs, fmt.Sprintf("publisher %d: got %d, want %d (dup %v)", p, seq, r.next[p], m.Duplicate()))
				}
				r.next[p] = seq + 1
				if r.n++; r.n == pubs*msgs {
					close(r.done)
				}
			})
		})
		c.sub(t, "conc/#", 1)
	}
	var wg sync.WaitGroup
	errc := make(chan error, pubs)
	for p := range pubs {
		v := pv311
		if p%3 == 0 {
			v = pv31
		}
		c := p3Connect(t, addr, fmt.Sprintf("pub%d", p), v)
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks := make([]mqtt.Token, 0, msgs)
			for seq := range msgs {
				toks = append(toks, c.Publish(fmt.Sprintf("conc/%d", p), 1, false, fmt.Sprintf("%d/%d", p, seq)))
			}
			for _, tok := range toks {
				if !tok.WaitTimeout(20 * time.Second) {
					errc <- fmt.Errorf("publisher %d: timed out", p)
					return
				}
				if err := tok.Error(); err != nil {
					errc <- fmt.Errorf("publisher %d: %w", p, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	timeout := time.After(20 * time.Second)
	for i, r := range results {
		select {
		case <-r.done:
		case <-timeout:
			r.mu.Lock()
			t.Fatalf("subscriber %d has %d of %d messages", i, r.n, pubs*msgs)
			r.mu.Unlock()
		}
	}
	// A duplicate would come before a sentinel sent after everything.
	probe := p3Connect(t, addr, "probe", pv311)
	probe.pub(t, "conc/end", 1, false, "end")
	for i, r := range results {
		select {
		case <-r.end:
		case <-timeout:
			t.Fatalf("subscriber %d: no sentinel", i)
		}
		r.mu.Lock()
		if len(r.errs) > 0 || r.n != pubs*msgs {
			t.Errorf("subscriber %d: %d messages, want %d; %d errors %q", i, r.n, pubs*msgs, len(r.errs), r.errs[:min(len(r.errs), 3)])
		}
		r.mu.Unlock()
	}
	if d := s.Stats().PublishDropped; d != 0 {
		t.Errorf("PublishDropped = %d, want 0", d)
	}
}

// TestSlowSubscriberWriteTimeout: a subscriber whose socket stays full for
// Options.WriteTimeout is disconnected, and its will published; the
// publisher is never held up.
func TestSlowSubscriberWriteTimeout(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{WriteTimeout: 300 * time.Millisecond, MaxQueuedBytes: 64 << 10})
	watch := rcConnect(t, addr, packet.Version311, "watch")
	rcSubscribe(t, watch, 1, "will/#", 1)
	stalled := brokertest.Dial(t, addr, packet.Version311)
	stalled.Conn.(*net.TCPConn).SetReadBuffer(8 << 10)
	stalled.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 60,
		ClientID: "stalled", WillFlag: true, WillTopic: "will/stalled", WillPayload: []byte("write timeout")})
	if p := rcRead(t, stalled); p.Type() != packet.CONNACK {
		t.Fatalf("CONNACK: %#v", p)
	}
	rcSubscribe(t, stalled, 1, "flood/#", 0)
	pub := rcConnect(t, addr, packet.Version311, "pub")
	payload := make([]byte, 1<<10)
	var buf []byte
	// Flood until the stalled subscriber is disconnected: at full speed
	// until the broker drops for it (its socket is about full), then a
	// batch per poll, so that its socket stays full and a write blocks.
	var deadline time.Time
	for i := 0; s.Stats().ClientsConnected == 3; i++ {
		if i == 1024 {
			t.Fatalf("stalled subscriber still connected after 64 MiB")
		}
		if deadline.IsZero() && s.Stats().PublishDropped > 0 {
			deadline = time.Now().Add(boundedWait)
		}
		if !deadline.IsZero() {
			if time.Now().After(deadline) {
				t.Fatalf("stalled subscriber still connected %v after the first drop", boundedWait)
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf = buf[:0]
		for range 64 {
			buf, _ = packet.Append(buf, &packet.Publish{Topic: "flood/x", Payload: payload}, packet.Version311)
		}
		pub.WriteRaw(buf)
		rcPing(t, pub) // the publisher is served
	}
	if p := rcExpectPublish(t, watch); p.Topic != "will/stalled" || string(p.Payload) != "write timeout" {
		t.Fatalf("will: %+v", p)
	}
	brokertest.Eventually(t, boundedWait, func() bool {
		st := s.Stats()
		return st.ClientsConnected == 2 && st.Subscriptions == 1
	}, "stalled subscriber removed")
}

// TestClientThatDoesNotRead: a client that floods PINGREQs and never reads
// the PINGRESPs is disconnected once its unsent output passes four times
// MaxQueuedBytes, instead of the broker buffering without bound; others
// are not affected.
func TestClientThatDoesNotRead(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{MaxQueuedBytes: 1024})
	// A small receive buffer, set before connecting so that the window
	// is small from the start: the kernel absorbs little of the flood.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
		return nil
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	connect, _ := packet.Append(nil, &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 4, CleanStart: true, ClientID: "deaf"}, packet.Version311)
	nc.Write(connect)
	flood := make([]byte, 2*2000000) // 2,000,000 PINGREQs
	for i := 0; i < len(flood); i += 2 {
		flood[i] = 0xC0
	}
	go func() {
		nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		nc.Write(flood) // fails once the broker cuts the connection off
	}()
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().ConnectionsTotal == 1 }, "the deaf client connected")
	brokertest.Eventually(t, 10*time.Second, func() bool { return s.Stats().ClientsConnected == 0 }, "the deaf client disconnected")
	brokertest.Dial(t, addr, packet.Version311).Connect("other")
}
