package broker_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// TestDurableBackpressureV311: a 3.1.1 client has no receive maximum, so
// while ReceiveMaximum of its publishes wait for a durable subscriber the
// broker stops reading it instead of queueing acknowledgements without
// bound; once the subscriber confirms, every PUBACK arrives, in order.
func TestDurableBackpressureV311(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{ReceiveMaximum: 4})
	var mu sync.Mutex
	var pending []func(error)
	var taken atomic.Int32
	sub, err := s.NewClient("durable")
	if err != nil {
		t.Fatal(err)
	}
	err = sub.SubscribeDurable("bp/#", 1, func(_ *broker.Message, done func(error)) {
		taken.Add(1)
		mu.Lock()
		pending = append(pending, done)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}

	pub := brokertest.Dial(t, addr, packet.Version311)
	pub.Connect("publisher")
	const n = 12
	payload := make([]byte, 1500) // a few per 4 KiB read
	var raw []byte
	for i := 1; i <= n; i++ {
		raw, _ = packet.Append(raw, &packet.Publish{QoS: 1, PacketID: uint16(i), Topic: "bp/x", Payload: payload}, packet.Version311)
	}
	go pub.Conn.Write(raw) // may block on TCP: the broker stops reading

	brokertest.Eventually(t, 5*time.Second, func() bool { return taken.Load() >= 4 }, "first publishes reach the durable subscriber")
	time.Sleep(300 * time.Millisecond) // the broker must not read on
	if got := taken.Load(); got >= n {
		t.Fatalf("durable subscriber got %d of %d while none was confirmed: the broker kept reading", got, n)
	}
	// Confirm everything, as it arrives.
	confirmed := 0
	brokertest.Eventually(t, 10*time.Second, func() bool {
		mu.Lock()
		for _, done := range pending {
			done(nil)
			confirmed++
		}
		pending = nil
		mu.Unlock()
		return confirmed == n
	}, "all publishes confirmed")
	for want := uint16(1); want <= n; want++ {
		p, err := pub.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("PUBACK %d: %v", want, err)
		}
		if a, ok := p.(*packet.Ack); !ok || a.Kind != packet.PUBACK || a.PacketID != want {
			t.Fatalf("got %#v, want PUBACK %d", p, want)
		}
	}
}
