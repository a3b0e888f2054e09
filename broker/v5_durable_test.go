package broker_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// v5Pending is one message handed to a durable subscriber, waiting for its
// confirmation.
type v5Pending struct {
	m    *broker.Message
	done func(error)
}

// v5DurableSub subscribes an in-process durable subscriber to filter; the
// messages and their confirmation functions arrive on the channel.
func v5DurableSub(t *testing.T, s *broker.Server, filter string) <-chan v5Pending {
	t.Helper()
	c, err := s.NewClient("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ch := make(chan v5Pending, 256)
	err = c.SubscribeDurable(filter, 2, func(m *broker.Message, done func(error)) {
		ch <- v5Pending{m, done} // must not block: the channel has room
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// v5NextPending returns the next message the durable subscriber got.
func v5NextPending(t *testing.T, ch <-chan v5Pending) v5Pending {
	t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(v5Wait):
		t.Fatalf("durable subscriber got nothing within %v", v5Wait)
		return v5Pending{}
	}
}

// v5ReadAck requires the next packet to be an ack of kind for pid with rc.
func v5ReadAck(t *testing.T, r *brokertest.RawClient, kind packet.Type, pid uint16, rc packet.ReasonCode) {
	t.Helper()
	a := v5Read[*packet.Ack](t, r)
	if a.Kind != kind || a.PacketID != pid || a.ReasonCode != rc {
		t.Fatalf("got %v id %d reason 0x%02x, want %v id %d reason 0x%02x",
			a.Kind, a.PacketID, byte(a.ReasonCode), kind, pid, byte(rc))
	}
}

func pubackKind(qos byte) packet.Type {
	if qos == 2 {
		return packet.PUBREC
	}
	return packet.PUBACK
}

func TestV5DurableAckAfterConfirm(t *testing.T) {
	t.Parallel()
	for _, qos := range []byte{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			pending := v5DurableSub(t, s, "du/#")
			r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "pub", CleanStart: true})
			r.Write(&packet.Publish{Topic: "du/a", QoS: qos, PacketID: 7, Payload: []byte("keep me")})
			p := v5NextPending(t, pending)
			if string(p.m.Payload) != "keep me" || p.m.QoS != qos {
				t.Fatalf("durable got %q QoS %d, want %q QoS %d", p.m.Payload, p.m.QoS, "keep me", qos)
			}
			v5Ping(t, r)                                        // no PUBACK/PUBREC before the confirmation
			v5Within(t, "confirmation", func() { p.done(nil) }) // as a store would, from its goroutine
			v5ReadAck(t, r, pubackKind(qos), 7, packet.Success)
			if qos == 2 {
				r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 7})
				v5ReadAck(t, r, packet.PUBCOMP, 7, packet.Success)
			}
		})
	}
}

func TestV5DurableRefused(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pending := v5DurableSub(t, s, "refuse/#")
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		// Refuses the first two messages, takes the rest.
		n := 0
		for {
			var p v5Pending
			select {
			case p = <-pending:
			case <-stop:
				return
			}
			n++
			switch n {
			case 1:
				p.done(broker.ErrQuotaExceeded)
			case 2:
				p.done(fmt.Errorf("disk full: %w", broker.ErrQuotaExceeded))
			default:
				p.done(nil)
			}
		}
	}()
	pub := v5ConnectID(t, addr, "pub")
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	for i, qos := range []byte{1, 2} {
		res, err := pub.Publish(ctx, &paho.Publish{Topic: "refuse/x", QoS: qos, Payload: []byte("x")})
		if res == nil {
			t.Fatalf("QoS %d: no response: %v", qos, err)
		}
		if res.ReasonCode != byte(packet.QuotaExceeded) {
			t.Errorf("message %d, QoS %d: got reason 0x%02x (err %v), want 0x97", i, qos, res.ReasonCode, err)
		}
	}
	// The connection stays usable.
	for _, qos := range []byte{1, 2} {
		pub.publish(t, &paho.Publish{Topic: "refuse/y", QoS: qos, Payload: []byte("y")})
	}

	t.Run("PUBREL after a refused PUBREC", func(t *testing.T) {
		s, addr := brokertest.StartServer(t, broker.Options{})
		pending := v5DurableSub(t, s, "refuse/#")
		r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "raw", CleanStart: true})
		r.Write(&packet.Publish{Topic: "refuse/z", QoS: 2, PacketID: 3, Payload: []byte("z")})
		v5NextPending(t, pending).done(broker.ErrQuotaExceeded)
		v5ReadAck(t, r, packet.PUBREC, 3, packet.QuotaExceeded)
		// [MQTT-4.3.3-4]: the exchange ended with the refused PUBREC.
		r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 3})
		v5ReadAck(t, r, packet.PUBCOMP, 3, packet.PacketIDNotFound)
		// The packet identifier is free again: a new message with it is new.
		r.Write(&packet.Publish{Topic: "refuse/z", QoS: 2, PacketID: 3, Payload: []byte("z2")})
		if p := v5NextPending(t, pending); string(p.m.Payload) != "z2" {
			t.Fatalf("durable got %q, want z2", p.m.Payload)
		} else {
			p.done(nil)
		}
		v5ReadAck(t, r, packet.PUBREC, 3, packet.Success)
	})
}

func TestV5DurableParallelPublishers(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pending := v5DurableSub(t, s, "par/#")
	a, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "a", CleanStart: true})
	b, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "b", CleanStart: true})
	byPayload := func(n int) map[string]v5Pending {
		t.Helper()
		got := make(map[string]v5Pending)
		for range n {
			p := v5NextPending(t, pending)
			got[string(p.m.Payload)] = p
		}
		return got
	}
	confirm := func(ps ...v5Pending) {
		t.Helper()
		// From other goroutines, as a store would.
		v5Within(t, "confirmations", func() {
			var wg sync.WaitGroup
			for _, p := range ps {
				wg.Go(func() { p.done(nil) })
			}
			wg.Wait()
		})
	}

	a.Write(&packet.Publish{Topic: "par/a", QoS: 1, PacketID: 1, Payload: []byte("a1")})
	b.Write(&packet.Publish{Topic: "par/b", QoS: 1, PacketID: 1, Payload: []byte("b1")})
	ps := byPayload(2)
	// b is not held up by a's slow confirmation.
	confirm(ps["b1"])
	v5ReadAck(t, b, packet.PUBACK, 1, packet.Success)
	v5Ping(t, a)

	// a's acks leave in order [MQTT-4.6.0-2], [MQTT-4.6.0-3], whatever the
	// order of the confirmations.
	a.Write(&packet.Publish{Topic: "par/a", QoS: 2, PacketID: 2, Payload: []byte("a2")})
	a.Write(&packet.Publish{Topic: "par/a", QoS: 1, PacketID: 3, Payload: []byte("a3")})
	more := byPayload(2)
	confirm(more["a3"])
	confirm(more["a2"])
	v5Ping(t, a) // all wait for a1
	confirm(ps["a1"])
	v5ReadAck(t, a, packet.PUBACK, 1, packet.Success)
	v5ReadAck(t, a, packet.PUBREC, 2, packet.Success)
	v5ReadAck(t, a, packet.PUBACK, 3, packet.Success)

	t.Run("stress", func(t *testing.T) {
		const publishers, perPublisher = 4, 40
		s, addr := brokertest.StartServer(t, broker.Options{})
		pending := v5DurableSub(t, s, "stress/#")
		var clients []*brokertest.RawClient
		for i := range publishers {
			r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: fmt.Sprint("stress-", i), CleanStart: true})
			clients = append(clients, r)
			for j := range perPublisher {
				r.Write(&packet.Publish{Topic: fmt.Sprint("stress/", i), QoS: byte(1 + j%2),
					PacketID: uint16(j + 1), Payload: []byte("x")})
			}
		}
		all := make([]v5Pending, 0, publishers*perPublisher)
		for range publishers * perPublisher {
			all = append(all, v5NextPending(t, pending))
		}
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		v5Within(t, "confirmations", func() {
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := w; i < len(all); i += 4 {
						all[i].done(nil)
					}
				})
			}
			wg.Wait()
		})
		for i, r := range clients {
			for j := range perPublisher {
				a := v5Read[*packet.Ack](t, r)
				if a.PacketID != uint16(j+1) || a.Kind != pubackKind(byte(1+j%2)) {
					t.Fatalf("publisher %d: got %v %d, want %v %d", i, a.Kind, a.PacketID, pubackKind(byte(1+j%2)), j+1)
				}
			}
		}
	})
}

func TestV5DurableRefusedV311(t *testing.T) {
	t.Parallel()
	for _, qos := range []byte{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			pending := v5DurableSub(t, s, "v3/#")
			r := brokertest.Dial(t, addr, packet.Version311)
			r.Connect(fmt.Sprint("v3-pub-", qos))
			r.Write(&packet.Publish{Topic: "v3/a", QoS: qos, PacketID: 1, Payload: []byte("taken")})
			v5NextPending(t, pending).done(nil)
			v5ReadAck(t, r, pubackKind(qos), 1, packet.Success)

			r.Write(&packet.Publish{Topic: "v3/a", QoS: qos, PacketID: 2, Payload: []byte("refused")})
			v5NextPending(t, pending).done(broker.ErrQuotaExceeded)
			// A 3.1.1 publisher cannot be told: it is disconnected without an
			// acknowledgement, so that it sends the message again.
			if got := r.ExpectClosed(v5Wait); len(got) != 0 {
				t.Errorf("got %d packets (first %T) before the close, want none", len(got), got[0])
			}
		})
	}
}

// TestV5DurableResentQoS2 resends a QoS 2 PUBLISH on a new connection while
// the durable subscriber has not yet confirmed the first copy: the PUBREC
// for the resent copy waits for that confirmation and carries its outcome.
func TestV5DurableResentQoS2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		confirm error
		want    packet.ReasonCode
	}{
		{"stored", nil, packet.Success},
		{"refused", broker.ErrQuotaExceeded, packet.QuotaExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			pending := v5DurableSub(t, s, "resent/#")
			cp := func(clean bool) *packet.Connect {
				return &packet.Connect{ClientID: "resender", CleanStart: clean,
					Properties: v5Props(func(p *packet.Properties) { p.SessionExpiry = 30; p.Set(packet.PropSessionExpiry) })}
			}
			r, _ := v5RawConnect(t, addr, cp(true))
			r.Write(&packet.Publish{Topic: "resent/a", QoS: 2, PacketID: 1, Payload: []byte("first")})
			r.Write(&packet.Publish{Topic: "resent/a", QoS: 1, PacketID: 2, Payload: []byte("other")})
			first := v5NextPending(t, pending)
			other := v5NextPending(t, pending)
			r.Conn.Close()
			brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 0 }, "publisher offline")

			r, ack := v5RawConnect(t, addr, cp(false))
			if !ack.SessionPresent {
				t.Fatalf("got no session present")
			}
			// [MQTT-4.4.0-1]: the client resends both with DUP.
			r.Write(&packet.Publish{Dup: true, Topic: "resent/a", QoS: 2, PacketID: 1, Payload: []byte("first")})
			r.Write(&packet.Publish{Dup: true, Topic: "resent/a", QoS: 1, PacketID: 2, Payload: []byte("other")})
			// QoS 1 is routed again (at least once); QoS 2 is not [MQTT-4.3.3-10].
			again := v5NextPending(t, pending)
			if string(again.m.Payload) != "other" {
				t.Fatalf("durable got %q again, want only the QoS 1 message", again.m.Payload)
			}
			again.done(nil)
			v5Ping(t, r) // nothing before the first copy is confirmed
			other.done(nil)
			v5Ping(t, r)
			first.done(tc.confirm)
			v5ReadAck(t, r, packet.PUBREC, 1, tc.want)
			v5ReadAck(t, r, packet.PUBACK, 2, packet.Success)
			if tc.want == packet.Success {
				r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 1})
				v5ReadAck(t, r, packet.PUBCOMP, 1, packet.Success)
			}
		})
	}
}

// TestV5DurableRefusedV311Resent: the 3.1.1 publisher disconnected for a
// refused QoS 2 message sends it again after reconnecting; the broker must
// take it as new, not as an already received duplicate.
func TestV5DurableRefusedV311Resent(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pending := v5DurableSub(t, s, "v3r/#")
	connect := func(clean bool) *brokertest.RawClient {
		r := brokertest.Dial(t, addr, packet.Version311)
		r.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: clean, KeepAlive: 30, ClientID: "v3-resend"})
		if ack := v5Read[*packet.Connack](t, r); ack.ReasonCode != 0 {
			t.Fatalf("CONNACK: got 0x%02x", byte(ack.ReasonCode))
		}
		return r
	}
	r := connect(false) // a persistent session keeps the QoS 2 state
	r.Write(&packet.Publish{Topic: "v3r/a", QoS: 2, PacketID: 1, Payload: []byte("x")})
	v5NextPending(t, pending).done(broker.ErrQuotaExceeded)
	if got := r.ExpectClosed(v5Wait); len(got) != 0 {
		t.Errorf("got %d packets before the close, want none", len(got))
	}
	brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 0 }, "publisher offline")
	r = connect(false)
	r.Write(&packet.Publish{Dup: true, Topic: "v3r/a", QoS: 2, PacketID: 1, Payload: []byte("x")})
	p := v5NextPending(t, pending)
	if string(p.m.Payload) != "x" {
		t.Fatalf("durable got %q, want x", p.m.Payload)
	}
	p.done(nil)
	v5ReadAck(t, r, packet.PUBREC, 1, packet.Success)
}
