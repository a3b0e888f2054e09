package broker_test

// MQTT 3.1.1 and 3.1 behaviour, exercised with github.com/eclipse/paho.mqtt.golang
// (and raw packets where paho cannot express the case).

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

const (
	pv31  uint = 3 // paho protocol version for MQTT 3.1 (MQIsdp)
	pv311 uint = 4
)

func v3Name(v uint) string {
	if v == pv31 {
		return "3.1"
	}
	return "3.1.1"
}

// TestV3QoSDowngrade publishes at QoS 0, 1 and 2 to subscribers at QoS 0, 1
// and 2: each message arrives once, at min(publish QoS, subscription QoS)
// [MQTT-3.8.4-6], with the retain flag clear [MQTT-3.3.1-9].
func TestV3QoSDowngrade(t *testing.T) {
	t.Parallel()
	for _, vs := range [][2]uint{{pv311, pv311}, {pv31, pv31}, {pv31, pv311}, {pv311, pv31}} {
		pubV, subV := vs[0], vs[1]
		t.Run(v3Name(pubV)+"_to_"+v3Name(subV), func(t *testing.T) {
			t.Parallel()
			_, addr := brokertest.StartServer(t, broker.Options{})
			var subs [3]*p3Client
			for q := range subs {
				subs[q] = p3Connect(t, addr, fmt.Sprintf("sub%d", q), subV)
				subs[q].sub(t, "qos/t", byte(q))
			}
			pub := p3Connect(t, addr, "pub", pubV)
			for q := byte(0); q <= 2; q++ {
				pub.pub(t, "qos/t", q, false, fmt.Sprintf("p%d", q))
			}
			for sq, s := range subs {
				got := s.in.waitN(t, 3)
				if len(got) != 3 {
					t.Fatalf("sub QoS %d: got %d messages, want 3:%s", sq, len(got), describeMsgs3(got))
				}
				seen := map[string]bool{}
				for _, m := range got {
					var pq int
					fmt.Sscanf(string(m.Payload()), "p%d", &pq)
					if seen[string(m.Payload())] {
						t.Errorf("sub QoS %d: duplicate %s", sq, m.Payload())
					}
					seen[string(m.Payload())] = true
					if want := byte(min(pq, sq)); m.Qos() != want {
						t.Errorf("sub QoS %d, pub QoS %d: delivered at QoS %d, want %d", sq, pq, m.Qos(), want)
					}
					if m.Retained() || m.Duplicate() {
						t.Errorf("sub QoS %d: %s retained=%v dup=%v, want both false", sq, m.Payload(), m.Retained(), m.Duplicate())
					}
				}
			}
		})
	}
}

// TestV3RawQoS2Handshake checks the broker's side of the QoS 2 exchanges in
// both directions with raw packets, including a PUBLISH resent with DUP
// before PUBREL, which must not be routed twice [MQTT-4.3.3-10].
func TestV3RawQoS2Handshake(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	sub := rcConnect(t, addr, packet.Version311, "sub")
	rcSubscribe(t, sub, 1, "q2/#", 2)
	pub := rcConnect(t, addr, packet.Version311, "pub")

	pub.Write(&packet.Publish{Topic: "q2/a", QoS: 2, PacketID: 7, Payload: []byte("once")})
	rcExpectAck(t, pub, packet.PUBREC, 7)
	pub.Write(&packet.Publish{Topic: "q2/a", QoS: 2, PacketID: 7, Dup: true, Payload: []byte("once")})
	rcExpectAck(t, pub, packet.PUBREC, 7)
	pub.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 7})
	rcExpectAck(t, pub, packet.PUBCOMP, 7)
	rcPublish(t, pub, "q2/end", 2, 8, "end")

	// The subscriber's side: PUBLISH, PUBREC, PUBREL, PUBCOMP; the next
	// message may come before the PUBREL.
	p := rcRead(t, sub).(*packet.Publish)
	if p.Topic != "q2/a" || p.QoS != 2 || string(p.Payload) != "once" || p.Dup || p.Retain {
		t.Fatalf("first delivery: %+v", p)
	}
	sub.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
	gotRel, gotEnd := false, false
	var endPID uint16
	for !gotRel || !gotEnd {
		switch q := rcRead(t, sub).(type) {
		case *packet.Ack:
			if q.Kind != packet.PUBREL || q.PacketID != p.PacketID || gotRel {
				t.Fatalf("want one PUBREL %d, got %#v", p.PacketID, q)
			}
			gotRel = true
			sub.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: q.PacketID})
		case *packet.Publish:
			if q.Topic != "q2/end" || gotEnd {
				t.Fatalf("QoS 2 message delivered twice: then %+v", q)
			}
			gotEnd = true
			endPID = q.PacketID
			sub.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: q.PacketID})
		default:
			t.Fatalf("unexpected %#v", q)
		}
	}
	rcExpectAck(t, sub, packet.PUBREL, endPID)
	sub.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: endPID})
	rcPing(t, sub) // nothing else was sent: no duplicate
	// PUBREL for an unknown packet identifier is still answered.
	pub.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 99})
	rcExpectAck(t, pub, packet.PUBCOMP, 99)
}

// TestV3Retained sets, replaces and deletes a retained message.
func TestV3Retained(t *testing.T) {
	t.Parallel()
	for _, v := range []uint{pv311, pv31} {
		t.Run(v3Name(v), func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			pub := p3Connect(t, addr, "pub", v)
			pub.pub(t, "r/1", 1, true, "v1")

			s1 := p3Connect(t, addr, "s1", v)
			s1.sub(t, "r/#", 1)
			got := s1.in.waitN(t, 1)
			if m := got[0]; m.Topic() != "r/1" || string(m.Payload()) != "v1" || !m.Retained() || m.Qos() != 1 {
				t.Fatalf("retained delivery on subscribe: %s, retained=%v", describeMsgs3(got), m.Retained())
			}

			// A retained publish to a current subscriber is a normal
			// delivery: retain flag 0 [MQTT-3.3.1-9].
			pub.pub(t, "r/1", 1, true, "v2")
			got = s1.in.waitN(t, 2)
			if m := got[1]; string(m.Payload()) != "v2" || m.Retained() {
				t.Fatalf("live delivery of a retained publish: %s retained=%v, want v2 retained=false", m.Payload(), m.Retained())
			}

			// The new value replaced the old one [MQTT-3.3.1-5].
			s2 := p3Connect(t, addr, "s2", v)
			s2.sub(t, "r/#", 1)
			pub.pub(t, "r/end", 1, false, "end")
			got = s2.in.waitTopic(t, "r/end")
			if len(got) != 2 || string(got[0].Payload()) != "v2" || !got[0].Retained() {
				t.Fatalf("after replace: %s", describeMsgs3(got))
			}
			if n := s.Stats().RetainedMessages; n != 1 {
				t.Errorf("RetainedMessages = %d, want 1", n)
			}

			// A retained QoS 2 message is sent at the subscription's QoS.
			pub.pub(t, "r/q2", 2, true, "two")
			s3 := p3Connect(t, addr, "s3", v)
			s3.sub(t, "r/q2", 1)
			got = s3.in.waitN(t, 1)
			if m := got[0]; m.Qos() != 1 || !m.Retained() || string(m.Payload()) != "two" {
				t.Fatalf("retained QoS 2 to a QoS 1 subscription: %s retained=%v", describeMsgs3(got), m.Retained())
			}

			// An empty retained payload deletes it [MQTT-3.3.1-10] and is
			// delivered as a normal message to current subscribers.
			pub.pub(t, "r/1", 1, true, "")
			pub.pub(t, "r/q2", 0, true, "")
			got = s1.in.waitUntil(t, boundedWait, "the delete", func(ms []mqtt.Message) bool {
				return len(ms) > 0 && ms[len(ms)-1].Topic() == "r/q2" && len(ms[len(ms)-1].Payload()) == 0
			})
			if m := got[len(got)-2]; m.Topic() != "r/1" || len(m.Payload()) != 0 || m.Retained() {
				t.Fatalf("delete delivered as %s retained=%v", describeMsgs3(got[len(got)-2:]), m.Retained())
			}
			brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().RetainedMessages == 0 }, "retained messages deleted")
			s4 := p3Connect(t, addr, "s4", v)
			s4.sub(t, "r/#", 1)
			pub.pub(t, "r/end", 1, false, "end2")
			if got := s4.in.waitTopic(t, "r/end"); len(got) != 1 {
				t.Fatalf("deleted retained message still delivered: %s", describeMsgs3(got))
			}
		})
	}
}

// TestV3Wildcards checks + and # [MQTT-4.7.1], including "sport/#"
// matching "sport" and topics starting with $ not matched by filters that
// start with a wildcard [MQTT-4.7.2-1].
func TestV3Wildcards(t *testing.T) {
	t.Parallel()
	topics := []string{
		"sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
		"sport/tennis/player2", "sport/football", "/finance", "finance", "a//b", "$foo/bar",
	}
	cases := []struct {
		filter string
		want   []string
	}{
		{"sport/#", []string{"sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2", "sport/football"}},
		{"sport/tennis/player1/#", []string{"sport/tennis/player1", "sport/tennis/player1/ranking"}},
		{"sport/tennis/+", []string{"sport/tennis/player1", "sport/tennis/player2"}},
		{"sport/+", []string{"sport/tennis", "sport/football"}},
		{"+", []string{"sport", "finance"}},
		{"+/+", []string{"sport/tennis", "sport/football", "/finance"}},
		{"/+", []string{"/finance"}},
		{"+/tennis/#", []string{"sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2"}},
		{"a/+/b", []string{"a//b"}},
		{"#", []string{"sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2", "sport/football", "/finance", "finance", "a//b"}},
		{"+/bar", nil},
		{"$foo/#", []string{"$foo/bar"}},
		{"$foo/+", []string{"$foo/bar"}},
		{"sport/tennis/player1", []string{"sport/tennis/player1"}},
	}
	_, addr := brokertest.StartServer(t, broker.Options{})
	subs := make([]*p3Client, len(cases))
	for i, c := range cases {
		subs[i] = p3Connect(t, addr, fmt.Sprintf("w%d", i), pv311)
		subs[i].sub(t, c.filter, 1)
		subs[i].sub(t, fmt.Sprintf("end/%d", i), 1)
	}
	pub := p3Connect(t, addr, "pub", pv311)
	for _, tp := range topics {
		pub.pub(t, tp, 1, false, tp)
	}
	for i := range cases {
		pub.pub(t, fmt.Sprintf("end/%d", i), 1, false, "end")
	}
	for i, c := range cases {
		got := subs[i].in.waitTopic(t, fmt.Sprintf("end/%d", i))
		var names []string
		for _, m := range got[:len(got)-1] {
			if !strings.HasPrefix(m.Topic(), "end/") {
				names = append(names, m.Topic())
			}
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("filter %q matched %q, want %q", c.filter, names, c.want)
		}
	}
}

// TestV3SysTopics checks that $SYS topics are matched by "$SYS/#" but not
// by "#" or "+/..." [MQTT-4.7.2-1], and that a client cannot publish there.
func TestV3SysTopics(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{SysInterval: 50 * time.Millisecond})
	sys := p3Connect(t, addr, "sys", pv311)
	sys.sub(t, "$SYS/#", 0)
	sys.in.waitN(t, 1)
	all := p3Connect(t, addr, "all", pv311)
	all.sub(t, "#", 0)
	all.sub(t, "+/broker/#", 0)
	all.sub(t, "+/broker/uptime", 0)
	// Two more rounds of $SYS messages reach "$SYS/#" after the wildcard
	// subscriptions were made.
	n := sys.in.len()
	sys.in.waitUntil(t, boundedWait, "two $SYS rounds", func(ms []mqtt.Message) bool {
		uptimes := 0
		for _, m := range ms[n:] {
			if m.Topic() == "$SYS/broker/uptime" {
				uptimes++
			}
		}
		return uptimes >= 2
	})
	// A client's publish to $SYS is not routed.
	pub := p3Connect(t, addr, "pub", pv311)
	pub.pub(t, "$SYS/broker/fake", 1, false, "x")
	pub.pub(t, "x/done", 1, false, "done")
	for _, m := range all.in.waitTopic(t, "x/done") {
		if strings.HasPrefix(m.Topic(), "$") {
			t.Errorf("wildcard filter matched %s", m.Topic())
		}
	}
	for _, m := range sys.in.all() {
		if m.Topic() == "$SYS/broker/fake" {
			t.Errorf("a client's publish to $SYS was routed")
		}
	}
}

// TestV3OverlappingSubscriptions: a client whose subscriptions overlap gets
// one copy of each message, at the highest QoS of the matching
// subscriptions [MQTT-3.3.5-1].
func TestV3OverlappingSubscriptions(t *testing.T) {
	t.Parallel()
	for _, v := range []uint{pv311, pv31} {
		t.Run(v3Name(v), func(t *testing.T) {
			t.Parallel()
			_, addr := brokertest.StartServer(t, broker.Options{})
			sub := p3Connect(t, addr, "sub", v)
			sub.sub(t, "ov/+", 0)
			sub.sub(t, "ov/#", 2)
			sub.sub(t, "ov/a", 1)
			sub.sub(t, "#", 0)
			pub := p3Connect(t, addr, "pub", v)
			pub.pub(t, "ov/a", 2, false, "q2")
			pub.pub(t, "ov/a", 1, false, "q1")
			pub.pub(t, "ov/b/c", 1, false, "q1b")
			pub.pub(t, "ov/end", 0, false, "end")
			got := sub.in.waitTopic(t, "ov/end")
			want := []struct {
				payload string
				qos     byte
			}{{"q2", 2}, {"q1", 1}, {"q1b", 1}, {"end", 0}}
			if len(got) != len(want) {
				t.Fatalf("got %d messages, want %d:%s", len(got), len(want), describeMsgs3(got))
			}
			for i, w := range want {
				if string(got[i].Payload()) != w.payload || got[i].Qos() != w.qos {
					t.Errorf("message %d: %s, want %s at QoS %d", i, describeMsgs3(got[i:i+1]), w.payload, w.qos)
				}
			}
		})
	}
}

// TestV3PersistentSession: with clean session 0 the subscriptions and the
// QoS 1 and 2 messages published while the client was offline survive
// [MQTT-3.1.2-4], [MQTT-3.1.2-5], and CONNACK says session present
// [MQTT-3.2.2-2].
func TestV3PersistentSession(t *testing.T) {
	t.Parallel()
	for _, v := range []uint{pv311, pv31} {
		t.Run(v3Name(v), func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			persistent := func(o *mqtt.ClientOptions) { o.SetCleanSession(false) }
			c := p3Connect(t, addr, "durable", v, persistent)
			if c.sessionPresent {
				t.Fatalf("session present on the first connection")
			}
			c.sub(t, "ps/#", 2)
			c.Disconnect(100)
			brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 0 }, "client disconnected")

			pub := p3Connect(t, addr, "pub", v)
			pub.pub(t, "ps/1", 1, false, "m1")
			pub.pub(t, "ps/2", 2, false, "m2")
			pub.pub(t, "ps/3", 1, false, "m3")
			pub.pub(t, "ps/4", 2, true, "m4")

			c2 := p3Connect(t, addr, "durable", v, persistent)
			// 3.1 has no session present flag: its CONNACK byte is reserved.
			if want := v == pv311; c2.sessionPresent != want {
				t.Fatalf("CONNACK session present = %v for a stored session, want %v", c2.sessionPresent, want)
			}
			got := c2.in.waitN(t, 4)
			want := []struct {
				payload string
				qos     byte
			}{{"m1", 1}, {"m2", 2}, {"m3", 1}, {"m4", 2}}
			for i, w := range want {
				if string(got[i].Payload()) != w.payload || got[i].Qos() != w.qos || got[i].Retained() {
					t.Errorf("queued message %d: %s retained=%v, want %s at QoS %d", i, describeMsgs3(got[i:i+1]), got[i].Retained(), w.payload, w.qos)
				}
			}
			// The subscription survived too.
			pub.pub(t, "ps/live", 1, false, "live")
			if got := c2.in.waitTopic(t, "ps/live"); len(got) != 5 {
				t.Fatalf("after resume: %s", describeMsgs3(got))
			}
		})
	}
}

// TestV3CleanSessionDiscards: clean session 1 discards the stored session,
// its subscriptions and queued messages [MQTT-3.1.2-6], and its own state
// ends with the connection.
func TestV3CleanSessionDiscards(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	c := p3Connect(t, addr, "cs", pv311, func(o *mqtt.ClientOptions) { o.SetCleanSession(false) })
	c.sub(t, "cs/#", 1)
	c.Disconnect(100)
	brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 0 }, "client disconnected")
	pub := p3Connect(t, addr, "pub", pv311)
	pub.pub(t, "cs/queued", 1, false, "queued")

	c2 := p3Connect(t, addr, "cs", pv311)
	if c2.sessionPresent {
		t.Fatalf("session present with clean session 1 [MQTT-3.2.2-1]")
	}
	pub.pub(t, "cs/unsubscribed", 1, false, "x")
	c2.sub(t, "cs/#", 1)
	pub.pub(t, "cs/end", 1, false, "end")
	if got := c2.in.waitTopic(t, "cs/end"); len(got) != 1 {
		t.Fatalf("clean session received old messages: %s", describeMsgs3(got))
	}
	c2.Disconnect(100)
	brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsTotal == 1 }, "clean session removed")

	c3 := p3Connect(t, addr, "cs", pv311, func(o *mqtt.ClientOptions) { o.SetCleanSession(false) })
	if c3.sessionPresent {
		t.Fatalf("session present after a clean session ended")
	}
}

// p3CaptureConn returns paho options that dial through a function recording
// the TCP connection, so that a test can close it under the client.
func p3CaptureConn(conns chan<- net.Conn) func(*mqtt.ClientOptions) {
	return func(o *mqtt.ClientOptions) {
		o.SetCustomOpenConnectionFn(func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			c, err := net.DialTimeout("tcp", u.Host, boundedWait)
			if err == nil {
				conns <- c
			}
			return c, err
		})
	}
}

// TestV3Will: the will is published when the network connection closes
// without DISCONNECT [MQTT-3.1.2-8], and not after DISCONNECT
// [MQTT-3.1.2-10].
func TestV3Will(t *testing.T) {
	t.Parallel()
	for _, v := range []uint{pv311, pv31} {
		t.Run(v3Name(v)+"/abrupt", func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			watch := p3Connect(t, addr, "watch", v)
			watch.sub(t, "will/#", 2)
			conns := make(chan net.Conn, 2)
			p3Connect(t, addr, "w1", v, p3CaptureConn(conns), func(o *mqtt.ClientOptions) {
				o.SetWill("will/w1", "gone", 1, false)
			})
			p3Connect(t, addr, "w2", v, p3CaptureConn(conns), func(o *mqtt.ClientOptions) {
				o.SetWill("will/w2", "gone too", 2, true)
			})
			(<-conns).Close()
			(<-conns).Close()
			got := watch.in.waitN(t, 2)
			sort.Slice(got, func(i, j int) bool { return got[i].Topic() < got[j].Topic() })
			if m := got[0]; m.Topic() != "will/w1" || string(m.Payload()) != "gone" || m.Qos() != 1 || m.Retained() {
				t.Errorf("will 1: %s retained=%v", describeMsgs3(got[:1]), m.Retained())
			}
			if m := got[1]; m.Topic() != "will/w2" || string(m.Payload()) != "gone too" || m.Qos() != 2 || m.Retained() {
				t.Errorf("will 2: %s retained=%v", describeMsgs3(got[1:]), m.Retained())
			}
			// The retained will was stored [MQTT-3.1.2-17].
			late := p3Connect(t, addr, "late", v)
			late.sub(t, "will/#", 2)
			if got := late.in.waitN(t, 1); got[0].Topic() != "will/w2" || !got[0].Retained() {
				t.Errorf("retained will: %s", describeMsgs3(got))
			}
			brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 2 }, "will clients gone")
		})
		t.Run(v3Name(v)+"/disconnect", func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			watch := p3Connect(t, addr, "watch", v)
			watch.sub(t, "will/#", 2)
			c := p3Connect(t, addr, "w", v, func(o *mqtt.ClientOptions) {
				o.SetWill("will/w", "gone", 1, true)
			})
			c.Disconnect(100)
			brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsTotal == 1 }, "session of w ended")
			pub := p3Connect(t, addr, "pub", v)
			pub.pub(t, "will/end", 1, false, "end")
			if got := watch.in.waitTopic(t, "will/end"); len(got) != 1 {
				t.Fatalf("will published after DISCONNECT: %s", describeMsgs3(got))
			}
			if n := s.Stats().RetainedMessages; n != 0 {
				t.Errorf("retained will stored after DISCONNECT (%d retained)", n)
			}
		})
	}
	t.Run("raw/socket_closed", func(t *testing.T) {
		t.Parallel()
		_, addr := brokertest.StartServer(t, broker.Options{})
		watch := rcConnect(t, addr, packet.Version311, "watch")
		rcSubscribe(t, watch, 1, "will/#", 1)
		rc := brokertest.Dial(t, addr, packet.Version31)
		rc.Write(&packet.Connect{ProtocolName: "MQIsdp", ProtocolVersion: packet.Version31, CleanStart: true, KeepAlive: 30,
			ClientID: "rawwill", WillFlag: true, WillTopic: "will/raw", WillPayload: []byte("bye"), WillQoS: 1})
		if p := rcRead(t, rc); p.Type() != packet.CONNACK || p.(*packet.Connack).ReasonCode != 0 {
			t.Fatalf("CONNACK: %#v", p)
		}
		rc.Conn.Close()
		if p := rcExpectPublish(t, watch); p.Topic != "will/raw" || string(p.Payload) != "bye" || p.QoS != 1 || p.Retain {
			t.Fatalf("will: %+v", p)
		}
	})
}

// TestV3SessionTakeover: a second connection with the same client
// identifier takes the session over and the first is closed [MQTT-3.1.4-2].
func TestV3SessionTakeover(t *testing.T) {
	t.Parallel()
	for _, v := range []uint{pv311, pv31} {
		t.Run(v3Name(v), func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			persistent := func(o *mqtt.ClientOptions) { o.SetCleanSession(false) }
			a := p3Connect(t, addr, "same", v, persistent, func(o *mqtt.ClientOptions) {
				o.SetWill("to/will", "a died", 1, false)
			})
			a.sub(t, "to/#", 1)
			b := p3Connect(t, addr, "same", v, persistent)
			if want := v == pv311; b.sessionPresent != want {
				t.Errorf("takeover with clean session 0: session present = %v, want %v", b.sessionPresent, want)
			}
			select {
			case <-a.lost:
			case <-time.After(boundedWait):
				t.Fatalf("first connection not closed after takeover")
			}
			pub := p3Connect(t, addr, "pub", v)
			pub.pub(t, "to/x", 1, false, "x")
			got := b.in.waitTopic(t, "to/x")
			for _, m := range got {
				if m.Topic() == "to/will" {
					// The will of a taken-over 3.1.1 connection is published
					// (its network connection closed without DISCONNECT).
					continue
				}
				if m.Topic() != "to/x" {
					t.Errorf("unexpected %s", describeMsgs3([]mqtt.Message{m}))
				}
			}
			if n := a.in.len(); n != 0 {
				t.Errorf("taken-over client received %d messages", n)
			}
			// The old connection's read loop ends on its own schedule.
			brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 2 }, "2 clients connected")
			// A clean takeover starts a new session.
			c := p3Connect(t, addr, "same", v)
			if c.sessionPresent {
				t.Errorf("clean takeover: session present")
			}
			select {
			case <-b.lost:
			case <-time.After(boundedWait):
				t.Fatalf("second connection not closed after takeover")
			}
		})
	}
}

// TestV3KeepAlive: a client silent for 1.5 times its keep alive is
// disconnected [MQTT-3.1.2-24], and its will published; a client that
// pings stays.
func TestV3KeepAlive(t *testing.T) {
	t.Parallel()
	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		_, addr := brokertest.StartServer(t, broker.Options{})
		watch := rcConnect(t, addr, packet.Version311, "watch")
		rcSubscribe(t, watch, 1, "ka/#", 1)
		rc := brokertest.Dial(t, addr, packet.Version311)
		rc.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 1,
			ClientID: "silent", WillFlag: true, WillTopic: "ka/will", WillPayload: []byte("timed out")})
		if p := rcRead(t, rc); p.Type() != packet.CONNACK {
			t.Fatalf("CONNACK: %#v", p)
		}
		start := time.Now()
		if got := rc.ExpectClosed(5 * time.Second); len(got) != 0 {
			t.Errorf("packets before close: %#v", got)
		}
		// Generous bounds: closed after the keep alive, and not much later
		// than 1.5 times it.
		if el := time.Since(start); el < 900*time.Millisecond || el > 4*time.Second {
			t.Errorf("closed after %v, want about 1.5s", el)
		}
		if p := rcExpectPublish(t, watch); p.Topic != "ka/will" || string(p.Payload) != "timed out" {
			t.Fatalf("will: %+v", p)
		}
	})
	t.Run("pinging", func(t *testing.T) {
		t.Parallel()
		_, addr := brokertest.StartServer(t, broker.Options{})
		rc := brokertest.Dial(t, addr, packet.Version311)
		rc.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 1, ClientID: "pinger"})
		if p := rcRead(t, rc); p.Type() != packet.CONNACK {
			t.Fatalf("CONNACK: %#v", p)
		}
		for range 6 { // 3 s: twice the 1.5 s limit
			time.Sleep(500 * time.Millisecond) // the client's own keep alive timer
			rcPing(t, rc)
		}
	})
}

// TestV3ClientID: an empty client identifier is assigned one with clean
// session 1 [MQTT-3.1.3-6] and refused with 0x02 otherwise
// [MQTT-3.1.3-8]; 3.1 requires an identifier.
func TestV3ClientID(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	t.Run("empty_clean", func(t *testing.T) {
		t.Parallel()
		rc := rcConnect(t, addr, packet.Version311, "")
		rcSubscribe(t, rc, 1, "id/#", 1)
		other := rcConnect(t, addr, packet.Version311, "")
		rcPublish(t, other, "id/self", 1, 2, "me")
		if p := rcExpectPublish(t, rc); p.Topic != "id/self" {
			t.Fatalf("got %+v", p)
		}
		// paho too.
		pc := p3Connect(t, addr, "", pv311)
		pc.sub(t, "id2", 0)
		pc.pub(t, "id2", 0, false, "x")
		pc.in.waitN(t, 1)
	})
	refused := []struct {
		name    string
		version byte
		clean   bool
	}{{"empty_persistent_3.1.1", packet.Version311, false}, {"empty_3.1", packet.Version31, true}, {"empty_persistent_3.1", packet.Version31, false}}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			name := "MQTT"
			if c.version == packet.Version31 {
				name = "MQIsdp"
			}
			rc := brokertest.Dial(t, addr, c.version)
			rc.Write(&packet.Connect{ProtocolName: name, ProtocolVersion: c.version, CleanStart: c.clean, KeepAlive: 30})
			got := rc.ExpectClosed(boundedWait)
			if len(got) != 1 {
				t.Fatalf("want one CONNACK, got %#v", got)
			}
			if ack, ok := got[0].(*packet.Connack); !ok || ack.ReasonCode != packet.V3IdentifierRejected || ack.SessionPresent {
				t.Fatalf("want CONNACK 0x02, got %#v", got[0])
			}
		})
	}
}

// TestV31Connect speaks MQTT 3.1 (protocol name MQIsdp, level 3) with raw
// packets: connect, subscribe, publish at every QoS.
func TestV31Connect(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	rc := rcConnect(t, addr, packet.Version31, "old-client")
	rcSubscribe(t, rc, 1, "v31/#", 2)
	other := rcConnect(t, addr, packet.Version311, "new-client")
	rcSubscribe(t, other, 1, "v31/#", 2)
	pub := rcConnect(t, addr, packet.Version31, "old-publisher")
	for q := byte(0); q <= 2; q++ {
		rcPublish(t, pub, fmt.Sprintf("v31/%d", q), q, uint16(10+q), "hello")
		for _, r := range []*brokertest.RawClient{rc, other} {
			p := rcExpectPublish(t, r)
			if p.Topic != fmt.Sprintf("v31/%d", q) || p.QoS != q || string(p.Payload) != "hello" {
				t.Fatalf("QoS %d: got %+v", q, p)
			}
		}
	}
	rc.Write(&packet.Disconnect{})
	rc.ExpectClosed(boundedWait)
}

// TestV3SharedSubscription: $share/{group}/{filter} works for 3.1.1 and
// 3.1 clients: each message goes to one member of the group.
func TestV3SharedSubscription(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	m1 := p3Connect(t, addr, "m1", pv311)
	m1.sub(t, "$share/g/jobs/#", 1)
	m2 := p3Connect(t, addr, "m2", pv31)
	m2.sub(t, "$share/g/jobs/#", 1)
	other := p3Connect(t, addr, "other", pv311)
	other.sub(t, "$share/h/jobs/+", 1)
	plain := p3Connect(t, addr, "plain", pv311)
	plain.sub(t, "jobs/#", 1)
	pub := p3Connect(t, addr, "pub", pv311)
	const n = 100
	for i := range n {
		pub.pub(t, fmt.Sprintf("jobs/%d", i), 1, false, "job")
	}
	plain.in.waitN(t, n)
	other.in.waitN(t, n)
	var mu sync.Mutex
	seen := map[string]int{}
	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		clear(seen)
		for _, c := range []*p3Client{m1, m2} {
			for _, m := range c.in.all() {
				seen[m.Topic()]++
			}
		}
		s := 0
		for _, k := range seen {
			s += k
		}
		return s
	}
	brokertest.Eventually(t, boundedWait, func() bool { return total() >= n }, "group g received every message")
	if s := total(); s != n || len(seen) != n {
		t.Fatalf("group g: %d deliveries of %d distinct messages, want %d once each", s, len(seen), n)
	}
	if m1.in.len() == 0 || m2.in.len() == 0 {
		t.Errorf("round robin: member 1 got %d, member 2 got %d", m1.in.len(), m2.in.len())
	}
	if n2 := other.in.len(); n2 != n {
		t.Errorf("group h: %d messages, want %d", n2, n)
	}
}

// TestV3Redelivery: QoS 1 and 2 messages in flight when a persistent
// session's connection ends are resent on reconnect, PUBLISH with DUP and
// the same packet identifier, or PUBREL after PUBREC [MQTT-4.4.0-1]; an
// inbound QoS 2 message is not routed twice across the reconnect.
func TestV3Redelivery(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	connect := func(id string) (*brokertest.RawClient, *packet.Connack) {
		rc := brokertest.Dial(t, addr, packet.Version311)
		rc.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, KeepAlive: 30, ClientID: id})
		a, ok := rcRead(t, rc).(*packet.Connack)
		if !ok || a.ReasonCode != 0 {
			t.Fatalf("CONNACK: %#v", a)
		}
		return rc, a
	}
	sub, ack := connect("sub")
	if ack.SessionPresent {
		t.Fatalf("session present on a new session")
	}
	rcSubscribe(t, sub, 1, "rd/#", 2)
	pub := rcConnect(t, addr, packet.Version311, "pub")
	rcPublish(t, pub, "rd/1", 1, 1, "one")
	rcPublish(t, pub, "rd/2", 2, 2, "two")
	p1 := rcRead(t, sub).(*packet.Publish)
	p2 := rcRead(t, sub).(*packet.Publish)
	if p1.Topic != "rd/1" || p2.Topic != "rd/2" || p1.Dup || p2.Dup {
		t.Fatalf("first deliveries: %+v %+v", p1, p2)
	}
	sub.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: p2.PacketID})
	rcExpectAck(t, sub, packet.PUBREL, p2.PacketID)
	sub.Conn.Close() // no PUBACK for rd/1, no PUBCOMP for rd/2

	sub, ack = connect("sub")
	if !ack.SessionPresent {
		t.Fatalf("session present = false on reconnect")
	}
	r1 := rcRead(t, sub).(*packet.Publish)
	if r1.Topic != "rd/1" || !r1.Dup || r1.PacketID != p1.PacketID || r1.QoS != 1 || string(r1.Payload) != "one" {
		t.Errorf("QoS 1 resent as %+v, want DUP with packet id %d", r1, p1.PacketID)
	}
	rcExpectAck(t, sub, packet.PUBREL, p2.PacketID)
	sub.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: r1.PacketID})
	sub.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p2.PacketID})
	rcPing(t, sub)

	// Inbound: PUBLISH QoS 2, connection lost before PUBREL, resent with
	// DUP on the new connection: routed once.
	pub.Conn.Close()
	pub2 := brokertest.Dial(t, addr, packet.Version311)
	pub2.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, KeepAlive: 30, ClientID: "pub3"})
	rcRead(t, pub2)
	pub2.Write(&packet.Publish{Topic: "rd/3", QoS: 2, PacketID: 9, Payload: []byte("three")})
	rcExpectAck(t, pub2, packet.PUBREC, 9)
	pub2.Conn.Close()
	pub3, ack := connect("pub3")
	if !ack.SessionPresent {
		t.Fatalf("publisher: session present = false")
	}
	pub3.Write(&packet.Publish{Topic: "rd/3", QoS: 2, PacketID: 9, Dup: true, Payload: []byte("three")})
	rcExpectAck(t, pub3, packet.PUBREC, 9)
	pub3.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 9})
	rcExpectAck(t, pub3, packet.PUBCOMP, 9)
	rcPublish(t, pub3, "rd/end", 1, 10, "end")
	if p := rcExpectPublish(t, sub); p.Topic != "rd/3" {
		t.Fatalf("got %+v", p)
	}
	if p := rcExpectPublish(t, sub); p.Topic != "rd/end" {
		t.Fatalf("inbound QoS 2 routed twice: then %+v", p)
	}
}

// TestV3SubscribeFailure: an invalid filter gets SUBACK 0x80 for that
// entry and the connection stays [MQTT-3.9.3]; UNSUBSCRIBE stops delivery.
func TestV3SubscribeFailure(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	rc := rcConnect(t, addr, packet.Version311, "s")
	rc.Write(&packet.Subscribe{PacketID: 3, Subscriptions: []packet.SubOptions{
		{Filter: "a/#/b", QoS: 1}, {Filter: "ok/+", QoS: 2}, {Filter: "x+", QoS: 0}, {Filter: "$share/g", QoS: 1}, {Filter: "ok2/#", QoS: 0},
	}})
	sa, ok := rcRead(t, rc).(*packet.Suback)
	want := []packet.ReasonCode{0x80, 2, 0x80, 0x80, 0}
	if !ok || sa.PacketID != 3 || !slices.Equal(sa.ReasonCodes, want) {
		t.Fatalf("SUBACK %#v, want codes %v", sa, want)
	}
	pub := p3Connect(t, addr, "", pv311)
	pub.pub(t, "ok/1", 1, false, "x")
	if p := rcExpectPublish(t, rc); p.Topic != "ok/1" || p.QoS != 1 {
		t.Fatalf("got %+v", p)
	}
	rc.Write(&packet.Unsubscribe{PacketID: 4, Filters: []string{"ok/+", "never"}})
	if u, ok := rcRead(t, rc).(*packet.Unsuback); !ok || u.PacketID != 4 {
		t.Fatalf("UNSUBACK: %#v", u)
	}
	pub.pub(t, "ok/2", 1, false, "x")
	pub.pub(t, "ok2/end", 1, false, "x")
	if p := rcExpectPublish(t, rc); p.Topic != "ok2/end" {
		t.Fatalf("delivered after UNSUBSCRIBE: %+v", p)
	}
}

// TestV3LargePayload: payloads up to the maximum packet size go through
// intact, in both directions of the read buffer's growth.
func TestV3LargePayload(t *testing.T) {
	t.Parallel()
	const maxPacket = 256 << 10
	_, addr := brokertest.StartServer(t, broker.Options{MaxPacketSize: maxPacket})
	sub := p3Connect(t, addr, "sub", pv311)
	sub.sub(t, "big/#", 1)
	pub := p3Connect(t, addr, "pub", pv311)
	sizes := []int{0, 1, 4095, 4096, 100 << 10, maxPacket - 20} // header, topic and packet id fit in 20 bytes
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i + j*7)
		}
		p3PublishBytes(t, pub, fmt.Sprintf("big/%d", i), b)
	}
	got := sub.in.waitN(t, len(sizes))
	for i, n := range sizes {
		m := got[i]
		if m.Topic() != fmt.Sprintf("big/%d", i) || len(m.Payload()) != n {
			t.Fatalf("message %d: %s, %d bytes, want %d", i, m.Topic(), len(m.Payload()), n)
		}
		for j, c := range m.Payload() {
			if c != byte(i+j*7) {
				t.Fatalf("message %d: byte %d corrupted", i, j)
			}
		}
	}
}

func p3PublishBytes(t *testing.T, pc *p3Client, topicName string, payload []byte) {
	t.Helper()
	p3Wait(t, pc.Publish(topicName, 1, false, payload), "publish "+topicName)
}

// TestV3ResubscribeResendsRetained: subscribing again to the same filter
// replaces the subscription (new QoS) and resends the retained messages
// [MQTT-3.8.4-3].
func TestV3ResubscribeResendsRetained(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	pub := rcConnect(t, addr, packet.Version311, "pub")
	rcPublish(t, pub, "rs/a", 2, 1, "kept")
	pub.Write(&packet.Publish{Topic: "rs/a", QoS: 2, PacketID: 2, Retain: true, Payload: []byte("kept")})
	rcExpectAck(t, pub, packet.PUBREC, 2)
	pub.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 2})
	rcExpectAck(t, pub, packet.PUBCOMP, 2)

	sub := rcConnect(t, addr, packet.Version311, "sub")
	rcSubscribe(t, sub, 1, "rs/#", 0)
	if p := rcExpectPublish(t, sub); !p.Retain || p.QoS != 0 || string(p.Payload) != "kept" {
		t.Fatalf("first: %+v", p)
	}
	rcSubscribe(t, sub, 2, "rs/#", 1)
	if p := rcExpectPublish(t, sub); !p.Retain || p.QoS != 1 || string(p.Payload) != "kept" {
		t.Fatalf("again: %+v", p)
	}
	rcPublish(t, pub, "rs/b", 2, 3, "live")
	if p := rcExpectPublish(t, sub); p.Retain || p.QoS != 1 || p.Topic != "rs/b" {
		t.Fatalf("live, one copy at the new QoS: %+v", p)
	}
	rcPing(t, sub)
}

// TestV3MaxConnections: past Options.MaxConnections a 3.1.1 client gets
// CONNACK 0x03 (server unavailable); once one leaves, it is accepted.
func TestV3MaxConnections(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{MaxConnections: 2})
	a := rcConnect(t, addr, packet.Version311, "a")
	rcConnect(t, addr, packet.Version311, "b")
	rc := brokertest.Dial(t, addr, packet.Version311)
	rc.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 30, ClientID: "c"})
	got := rcExpectClosed(t, rc, boundedWait)
	if len(got) != 1 || got[0].(*packet.Connack).ReasonCode != packet.V3ServerUnavailable {
		t.Fatalf("third connection: %s, want CONNACK 0x03", describePackets(got))
	}
	a.Write(&packet.Disconnect{})
	brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 1 }, "a gone")
	rcPing(t, rcConnect(t, addr, packet.Version311, "c"))
}
