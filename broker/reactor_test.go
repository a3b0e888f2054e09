package broker_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// TestReadModes runs the keep-alive rules against both ways of reading
// connections: the epoll pollers (the default on Linux) and a goroutine
// per connection.
func TestReadModes(t *testing.T) {
	for _, mode := range []struct {
		name      string
		goroutine bool
	}{{"parking", false}, {"goroutine per connection", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			_, addr := brokertest.StartServer(t, broker.Options{
				ConnectTimeout:   300 * time.Millisecond,
				GoroutinePerConn: mode.goroutine,
			})
			// Keep alive 0: the CONNECT deadline must not linger after
			// the handshake.
			forever := brokertest.Dial(t, addr, packet.Version311)
			forever.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 4, CleanStart: true, ClientID: "forever"})
			if p, err := forever.Read(2 * time.Second); err != nil || p.Type() != packet.CONNACK {
				t.Fatalf("CONNACK: %v %v", p, err)
			}
			// Keep alive 1 s: closed after 1.5 s of silence, not before.
			short := brokertest.Dial(t, addr, packet.Version311)
			short.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 4, CleanStart: true, KeepAlive: 1, ClientID: "short"})
			if p, err := short.Read(2 * time.Second); err != nil || p.Type() != packet.CONNACK {
				t.Fatalf("CONNACK: %v %v", p, err)
			}
			start := time.Now()
			short.ExpectClosed(5 * time.Second)
			if d := time.Since(start); d < 1400*time.Millisecond {
				t.Errorf("keep alive 1s: closed after %v, want at least 1.5s", d)
			}
			// A silent connection that never sends CONNECT is closed.
			silent := brokertest.Dial(t, addr, packet.Version311)
			silent.ExpectClosed(3 * time.Second)

			forever.Write(&packet.Pingreq{})
			if p, err := forever.Read(2 * time.Second); err != nil || p.Type() != packet.PINGRESP {
				t.Fatalf("keep alive 0 client after %v: got %v, %v; want PINGRESP", time.Since(start), p, err)
			}
		})
	}
}

// TestParkedConnections: connections silent for longer than the park
// delay (300 ms) lose their read goroutine to the poller and must behave
// exactly as before: receive, publish, ping, time out, leave a will.
func TestParkedConnections(t *testing.T) {
	t.Parallel()
	srv, addr := brokertest.StartServer(t, broker.Options{})
	connect := func(id string, ka uint16, will bool) *brokertest.RawClient {
		c := brokertest.Dial(t, addr, packet.Version311)
		p := &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 4, CleanStart: true, KeepAlive: ka, ClientID: id}
		if will {
			p.WillFlag, p.WillTopic, p.WillPayload = true, "wills/"+id, []byte("gone")
		}
		c.Write(p)
		if p, err := c.Read(2 * time.Second); err != nil || p.Type() != packet.CONNACK {
			t.Fatalf("%s CONNACK: %v %v", id, p, err)
		}
		return c
	}
	sub := connect("sub", 0, false)
	sub.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "#", QoS: 1}}})
	if p, err := sub.Read(2 * time.Second); err != nil || p.Type() != packet.SUBACK {
		t.Fatalf("SUBACK: %v %v", p, err)
	}
	pub := connect("pub", 0, false)
	dying := connect("dying", 3, true) // 4.5 s without a packet: closed, will sent

	time.Sleep(2500 * time.Millisecond) // everyone parks
	start := time.Now()
	pub.Write(&packet.Publish{QoS: 1, PacketID: 7, Topic: "a/b", Payload: []byte("after parking")})
	if p, err := pub.Read(2 * time.Second); err != nil || p.Type() != packet.PUBACK {
		t.Fatalf("parked publisher: got %v, %v; want PUBACK", p, err)
	}
	p, err := sub.Read(2 * time.Second)
	if pp, ok := p.(*packet.Publish); err != nil || !ok || string(pp.Payload) != "after parking" {
		t.Fatalf("parked subscriber: got %#v, %v", p, err)
	}
	sub.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.(*packet.Publish).PacketID})

	// The will of the client whose keep alive ran out while parked.
	p, err = sub.Read(5 * time.Second)
	if pp, ok := p.(*packet.Publish); err != nil || !ok || pp.Topic != "wills/dying" {
		t.Fatalf("will of the expired parked client: got %#v, %v", p, err)
	}
	if d := time.Since(start) + 2500*time.Millisecond; d < 4400*time.Millisecond {
		t.Errorf("keep alive 3 s: closed after about %v, want at least 4.5 s", d)
	}
	dying.ExpectClosed(time.Second)
	if got := srv.Stats().ClientsConnected; got != 2 {
		t.Errorf("connected = %d, want 2", got)
	}
}

// TestListenerMaxConnections: a listener's own cap closes the connection
// past it before any MQTT is read, and frees its slot when one leaves.
func TestListenerMaxConnections(t *testing.T) {
	t.Parallel()
	s, _ := brokertest.StartServer(t, broker.Options{Listeners: []broker.Listener{
		{Address: "127.0.0.1:0", MaxConnections: 2},
		{Address: "127.0.0.1:0"},
	}})
	capped, free := s.Addrs()[0].String(), s.Addrs()[1].String()
	a := brokertest.Dial(t, capped, packet.Version311)
	a.Connect("a")
	b := brokertest.Dial(t, capped, packet.Version311)
	b.Connect("b")
	over := brokertest.Dial(t, capped, packet.Version311)
	over.ExpectClosed(2 * time.Second)
	brokertest.Dial(t, free, packet.Version311).Connect("other listener")

	a.Conn.Close()
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().ClientsConnected == 2 }, "a's slot freed")
	brokertest.Dial(t, capped, packet.Version311).Connect("c")
}

// TestConnectParksAtOnce: a client that connects and then waits has no
// read goroutine from its CONNACK on (not only after parkAfter), so a
// burst of connections leaves no burst of goroutines; each still answers
// at once when it sends, and one that sent more behind its CONNECT is
// served without parking.
func TestConnectParksAtOnce(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("connections park on the epoll pollers of Linux only")
	}
	_, addr := brokertest.StartServer(t, broker.Options{})
	const n = 200
	before := runtime.NumGoroutine()
	clients := make([]*brokertest.RawClient, n)
	for i := range clients {
		clients[i] = brokertest.Dial(t, addr, packet.Version311)
		clients[i].Connect(fmt.Sprintf("quiet-%d", i))
	}
	if grown := runtime.NumGoroutine() - before; grown > n/4 {
		t.Errorf("%d goroutines more after %d connections went quiet, want almost none", grown, n)
	}
	for i, c := range clients {
		c.Write(&packet.Pingreq{})
		if p, err := c.Read(2 * time.Second); err != nil || p.Type() != packet.PINGRESP {
			t.Fatalf("client %d: %v %v, want PINGRESP", i, p, err)
		}
	}
	// CONNECT and SUBSCRIBE in one write: the SUBSCRIBE is in the read
	// buffer after the handshake.
	eager := brokertest.Dial(t, addr, packet.Version311)
	var b []byte
	b, _ = packet.Append(b, &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 4, CleanStart: true, ClientID: "eager"}, packet.Version311)
	b, _ = packet.Append(b, &packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "x", QoS: 1}}}, packet.Version311)
	eager.WriteRaw(b)
	for _, want := range []packet.Type{packet.CONNACK, packet.SUBACK} {
		if p, err := eager.Read(2 * time.Second); err != nil || p.Type() != want {
			t.Fatalf("eager client: %v %v, want %v", p, err, want)
		}
	}
}
