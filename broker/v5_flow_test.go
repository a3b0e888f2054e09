package broker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

func TestV5TopicAliasFromClient(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{TopicAliasMaximum: 4})
	sub := v5ConnectID(t, addr, "sub")
	sub.sub(t, "ta/#", 1)
	pub := v5ConnectID(t, addr, "pub")
	if got := pub.connack.Properties.TopicAliasMaximum; got == nil || *got != 4 {
		t.Fatalf("topic alias maximum: got %v, want 4", v5Deref(got))
	}
	steps := []struct{ topic, payload string }{
		{"ta/x", "define 1"},
		{"", "use 1"},
		{"ta/y", "redefine 1"}, // [MQTT-3.3.2-12]: a new mapping replaces the old
		{"", "use 1 again"},
	}
	for _, st := range steps {
		pub.publish(t, &paho.Publish{Topic: st.topic, QoS: 1, Payload: []byte(st.payload),
			Properties: &paho.PublishProperties{TopicAlias: v5Ptr[uint16](1)}})
	}
	for _, want := range []struct{ topic, payload string }{
		{"ta/x", "define 1"}, {"ta/x", "use 1"}, {"ta/y", "redefine 1"}, {"ta/y", "use 1 again"},
	} {
		m := sub.expect(t, want.topic, want.payload)
		// paho announces no topic alias maximum: the broker sends none.
		if m.Properties.TopicAlias != nil {
			t.Errorf("%q: got topic alias %d towards a client that allows none", want.payload, *m.Properties.TopicAlias)
		}
	}
}

func TestV5TopicAliasToClient(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "aliased", CleanStart: true,
		Properties: v5Props(func(p *packet.Properties) {
			p.TopicAliasMaximum = 2
			p.Set(packet.PropTopicAliasMaximum)
		})})
	v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "alias/#", QoS: 0})
	pub := v5ConnectID(t, addr, "pub")
	for _, topic := range []string{"alias/a", "alias/a", "alias/b", "alias/c", "alias/b", "alias/c", "alias/a"} {
		pub.pub(t, topic, topic, 0, false)
	}
	// [MQTT-3.3.2-8]: the broker uses aliases up to the client's maximum;
	// the first PUBLISH of a topic carries topic and alias, the next ones
	// an empty topic and the alias.
	want := []struct {
		topic string
		alias uint16
	}{
		{"alias/a", 1}, {"", 1}, {"alias/b", 2},
		{"alias/c", 0}, // no alias left: the full topic, no alias
		{"", 2}, {"alias/c", 0}, {"", 1},
	}
	for i, w := range want {
		p := v5Read[*packet.Publish](t, r)
		gotAlias := uint16(0)
		if p.Properties.Has(packet.PropTopicAlias) {
			gotAlias = p.Properties.TopicAlias
		}
		if p.Topic != w.topic || gotAlias != w.alias {
			t.Errorf("PUBLISH %d (payload %q): got topic %q alias %d, want topic %q alias %d",
				i, p.Payload, p.Topic, gotAlias, w.topic, w.alias)
		}
	}
}

func TestV5TopicAliasInvalid(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{TopicAliasMaximum: 2})
	publishWithAlias := func(topic string, alias uint16) []byte {
		// Built by hand: the codec refuses to encode alias 0.
		body := []byte{0, byte(len(topic))}
		body = append(body, topic...)
		body = append(body, 3, byte(packet.PropTopicAlias), byte(alias>>8), byte(alias))
		body = append(body, 'x')
		return append([]byte{byte(packet.PUBLISH) << 4, byte(len(body))}, body...)
	}
	tests := []struct {
		name string
		pkts [][]byte
		want packet.ReasonCode
	}{
		{"alias 0", [][]byte{publishWithAlias("t", 0)}, packet.TopicAliasInvalid},
		{"alias above the maximum", [][]byte{publishWithAlias("t", 3)}, packet.TopicAliasInvalid},
		{"empty topic above the maximum", [][]byte{publishWithAlias("", 3)}, packet.TopicAliasInvalid},
		{"unknown alias", [][]byte{publishWithAlias("t", 1), publishWithAlias("", 2)}, packet.ProtocolError},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: fmt.Sprint("bad-alias-", i), CleanStart: true})
			for _, b := range tc.pkts {
				r.WriteRaw(b)
			}
			v5ExpectDisconnect(t, r, tc.want)
		})
	}

	t.Run("not kept across connections", func(t *testing.T) {
		t.Parallel()
		// [MQTT-3.3.2-7]: aliases belong to the network connection, even
		// when the session continues.
		cp := func(clean bool) *packet.Connect {
			return &packet.Connect{ClientID: "alias-session", CleanStart: clean,
				Properties: v5Props(func(p *packet.Properties) { p.SessionExpiry = 30; p.Set(packet.PropSessionExpiry) })}
		}
		r, _ := v5RawConnect(t, addr, cp(true))
		r.WriteRaw(publishWithAlias("t", 1))
		r.WriteRaw(publishWithAlias("", 1))
		v5Ping(t, r)
		r.Write(&packet.Disconnect{})
		r.ExpectClosed(v5Wait)
		r, ack := v5RawConnect(t, addr, cp(false))
		if !ack.SessionPresent {
			t.Fatalf("got no session present")
		}
		r.WriteRaw(publishWithAlias("", 1))
		v5ExpectDisconnect(t, r, packet.ProtocolError)
	})
}

func TestV5MessageExpiry(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})

	t.Run("online", func(t *testing.T) {
		t.Parallel()
		sub := v5ConnectID(t, addr, "exp-online")
		sub.sub(t, "exp/online", 1)
		pub := v5ConnectID(t, addr, "pub-online")
		pub.publish(t, &paho.Publish{Topic: "exp/online", QoS: 1, Payload: []byte("x"),
			Properties: &paho.PublishProperties{MessageExpiry: v5U32(60)}})
		pub.pub(t, "exp/online", "none", 1, false)
		m := sub.expect(t, "exp/online", "x")
		if e := m.Properties.MessageExpiry; e == nil || *e == 0 || *e > 60 {
			t.Errorf("message expiry: got %v, want 1..60", v5Deref(e))
		}
		if m := sub.expect(t, "exp/online", "none"); m.Properties.MessageExpiry != nil {
			t.Errorf("message without expiry: got expiry %d", *m.Properties.MessageExpiry)
		}
	})

	t.Run("offline queue", func(t *testing.T) {
		t.Parallel()
		s, addr := brokertest.StartServer(t, broker.Options{})
		cp := func(clean bool) *paho.Connect {
			return &paho.Connect{ClientID: "exp-offline", CleanStart: clean,
				Properties: &paho.ConnectProperties{SessionExpiryInterval: v5U32(60)}}
		}
		sub := v5Connect(t, addr, cp(true))
		sub.sub(t, "exp/offline", 1)
		if err := sub.Disconnect(&paho.Disconnect{}); err != nil {
			t.Fatal(err)
		}
		// Offline for the broker too, so that the messages are queued.
		brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 0 }, "subscriber offline")
		pub := v5ConnectID(t, addr, "pub-offline")
		for _, m := range []struct {
			payload string
			expiry  uint32
		}{{"expires", 1}, {"stays", 3}, {"forever", 0}} {
			p := &paho.Publish{Topic: "exp/offline", QoS: 1, Payload: []byte(m.payload)}
			if m.expiry > 0 {
				p.Properties = &paho.PublishProperties{MessageExpiry: v5U32(m.expiry)}
			}
			pub.publish(t, p)
		}
		// Every message was received before now: "expires" has expired and
		// "stays" has waited more than a second.
		v5SleepUntil(time.Now().Add(1050 * time.Millisecond))
		sub = v5Connect(t, addr, cp(false))
		if !sub.connack.SessionPresent {
			t.Fatalf("session present: got false")
		}
		// [MQTT-3.3.2-5]: "expires" is gone; [MQTT-3.3.2-6]: "stays" carries
		// its interval minus the time it waited.
		m := sub.expect(t, "exp/offline", "stays")
		if e := m.Properties.MessageExpiry; e == nil || *e == 0 || *e > 2 {
			t.Errorf("message expiry after waiting >1 s: got %v, want 1 or 2", v5Deref(e))
		}
		if m := sub.expect(t, "exp/offline", "forever"); m.Properties.MessageExpiry != nil {
			t.Errorf("message without expiry: got expiry %d", *m.Properties.MessageExpiry)
		}
	})
}

func TestV5ReceiveMaximumFromClient(t *testing.T) {
	t.Parallel()
	// A durable in-process subscriber that never confirms keeps every
	// PUBACK/PUBREC pending, so the publisher's quota is used up.
	const receiveMax = 2
	tests := []struct {
		name    string
		durable bool
		steps   []byte // QoS of each PUBLISH; the last one is one too many
	}{
		{"qos1 pending durable", true, []byte{1, 1, 1}},
		{"qos2 pending durable", true, []byte{2, 2, 2}},
		{"mixed pending durable", true, []byte{1, 2, 1}},
		{"qos2 without PUBREL", false, []byte{2, 2, 2}},
		{"qos2 without PUBREL then qos1", false, []byte{2, 2, 1}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{ReceiveMaximum: receiveMax})
			topic := fmt.Sprintf("rm/%d", i)
			if tc.durable {
				v5NeverConfirm(t, s, topic)
			}
			r, ack := v5RawConnect(t, addr, &packet.Connect{ClientID: "greedy", CleanStart: true})
			if !ack.Properties.Has(packet.PropReceiveMaximum) || ack.Properties.ReceiveMaximum != receiveMax {
				t.Fatalf("CONNACK receive maximum: got %d, want %d", ack.Properties.ReceiveMaximum, receiveMax)
			}
			for j, qos := range tc.steps {
				r.Write(&packet.Publish{Topic: topic, QoS: qos, PacketID: uint16(j + 1), Payload: []byte("x")})
				if j == len(tc.steps)-1 {
					break
				}
				if tc.durable {
					v5Ping(t, r) // the publish is taken, its ack still pending
				} else {
					rec := v5Read[*packet.Ack](t, r)
					if rec.Kind != packet.PUBREC || rec.PacketID != uint16(j+1) {
						t.Fatalf("got %v %d, want PUBREC %d", rec.Kind, rec.PacketID, j+1)
					}
				}
			}
			// [MQTT-3.3.4-8]: one publish over the quota ends the connection.
			v5ExpectDisconnect(t, r, packet.ReceiveMaximumExceeded)
		})
	}

	t.Run("released quota is reusable", func(t *testing.T) {
		t.Parallel()
		_, addr := brokertest.StartServer(t, broker.Options{ReceiveMaximum: receiveMax})
		r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "fair", CleanStart: true})
		for j := range uint16(5) {
			pid := j + 1
			r.Write(&packet.Publish{Topic: "rm/fair", QoS: 2, PacketID: pid, Payload: []byte("x")})
			if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREC || a.PacketID != pid {
				t.Fatalf("got %v %d, want PUBREC %d", a.Kind, a.PacketID, pid)
			}
			r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: pid})
			if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBCOMP || a.PacketID != pid {
				t.Fatalf("got %v %d, want PUBCOMP %d", a.Kind, a.PacketID, pid)
			}
		}
		v5Ping(t, r)
	})
}

func TestV5ReceiveMaximumToClient(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	for _, qos := range []byte{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			t.Parallel()
			topic := fmt.Sprintf("slow/%d", qos)
			r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "slow-" + topic, CleanStart: true,
				Properties: v5Props(func(p *packet.Properties) {
					p.ReceiveMaximum = 2
					p.Set(packet.PropReceiveMaximum)
				})})
			v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: topic, QoS: qos})
			pub := v5ConnectID(t, addr, "pub-"+topic)
			const n = 5
			for i := range n {
				pub.pub(t, topic, fmt.Sprint(i), qos, false)
			}
			// Every message is routed once the publisher has its acks; the
			// ping shows that no more than 2 were sent [MQTT-3.3.4-9], and
			// one more for each PUBACK or PUBCOMP (not PUBREC).
			next := 0
			var inflight []uint16
			readN := func(k int) {
				t.Helper()
				for range k {
					p := v5Read[*packet.Publish](t, r)
					if want := fmt.Sprint(next); string(p.Payload) != want {
						t.Fatalf("got message %q, want %q", p.Payload, want)
					}
					next++
					inflight = append(inflight, p.PacketID)
				}
				v5Ping(t, r)
			}
			readN(2)
			for len(inflight) > 0 {
				pid := inflight[0]
				inflight = inflight[1:]
				if qos == 1 {
					r.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: pid})
				} else {
					r.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: pid})
					if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREL || a.PacketID != pid {
						t.Fatalf("got %v %d, want PUBREL %d", a.Kind, a.PacketID, pid)
					}
					v5Ping(t, r) // still in the window until PUBCOMP
					r.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: pid})
				}
				readN(min(1, n-next))
			}
			if next != n {
				t.Errorf("got %d messages, want %d", next, n)
			}
		})
	}
}

func TestV5MaximumPacketSize(t *testing.T) {
	t.Parallel()

	t.Run("to client", func(t *testing.T) {
		t.Parallel()
		s, addr := brokertest.StartServer(t, broker.Options{})
		r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "small", CleanStart: true,
			Properties: v5Props(func(p *packet.Properties) {
				p.MaximumPacketSize = 100
				p.Set(packet.PropMaximumPacketSize)
				p.TopicAliasMaximum = 5
				p.Set(packet.PropTopicAliasMaximum)
			})})
		v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "mps/#", QoS: 1})
		pub := v5ConnectID(t, addr, "pub")
		big := strings.Repeat("b", 200)
		before := s.Stats().PublishDropped
		pub.pub(t, "mps/a", big, 1, false)
		pub.pub(t, "mps/a", "small", 1, false)
		pub.pub(t, "mps/a", "small again", 1, false)
		// [MQTT-3.1.2-25]: the big one is dropped; the alias it would have
		// defined is not used, so the first delivered PUBLISH names the topic.
		p := v5Read[*packet.Publish](t, r)
		if string(p.Payload) != "small" || p.Topic != "mps/a" {
			t.Fatalf("got %q on %q, want %q on %q", p.Payload, p.Topic, "small", "mps/a")
		}
		r.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
		p = v5Read[*packet.Publish](t, r)
		if string(p.Payload) != "small again" || p.Topic != "" {
			t.Errorf("got %q on %q, want %q through its alias", p.Payload, p.Topic, "small again")
		}
		if got := s.Stats().PublishDropped - before; got != 1 {
			t.Errorf("dropped messages: got %d, want 1", got)
		}
	})

	t.Run("resend after reconnect", func(t *testing.T) {
		t.Parallel()
		// A message in flight that is too large for the client's new
		// maximum is dropped as if delivered: it does not hold a slot of
		// the Receive Maximum.
		s, addr := brokertest.StartServer(t, broker.Options{})
		cp := func(clean bool, maxSize uint32) *packet.Connect {
			return &packet.Connect{ClientID: "shrinking-size", CleanStart: clean, Properties: v5Props(func(p *packet.Properties) {
				p.SessionExpiry = 30
				p.Set(packet.PropSessionExpiry)
				p.ReceiveMaximum = 1
				p.Set(packet.PropReceiveMaximum)
				if maxSize > 0 {
					p.MaximumPacketSize = maxSize
					p.Set(packet.PropMaximumPacketSize)
				}
			})}
		}
		r, _ := v5RawConnect(t, addr, cp(true, 0))
		v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "mps/resend", QoS: 1})
		pub := v5ConnectID(t, addr, "pub")
		pub.pub(t, "mps/resend", strings.Repeat("b", 200), 1, false)
		v5Read[*packet.Publish](t, r)
		r.Conn.Close()
		brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 1 }, "subscriber offline")
		r, _ = v5RawConnect(t, addr, cp(false, 100))
		pub.pub(t, "mps/resend", "small", 1, false)
		if p := v5Read[*packet.Publish](t, r); string(p.Payload) != "small" {
			t.Fatalf("got %q, want small", p.Payload)
		}
	})

	t.Run("from client", func(t *testing.T) {
		t.Parallel()
		_, addr := brokertest.StartServer(t, broker.Options{MaxPacketSize: 1024})
		r, ack := v5RawConnect(t, addr, &packet.Connect{ClientID: "big", CleanStart: true})
		if ack.Properties.MaximumPacketSize != 1024 {
			t.Fatalf("CONNACK maximum packet size: got %d, want 1024", ack.Properties.MaximumPacketSize)
		}
		r.Write(&packet.Publish{Topic: "mps/ok", QoS: 1, PacketID: 1, Payload: make([]byte, 900)})
		if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBACK {
			t.Fatalf("got %v, want PUBACK", a.Kind)
		}
		r.Write(&packet.Publish{Topic: "mps/big", QoS: 1, PacketID: 2, Payload: make([]byte, 1100)})
		v5ExpectDisconnect(t, r, packet.PacketTooLarge) // [MQTT-3.2.2-15]
	})
}

// TestV5ReceiveMaximumAfterReconnect: the messages in flight when the client
// left are resent within the Receive Maximum of its new connection, which
// may be smaller [MQTT-3.3.4-9].
func TestV5ReceiveMaximumAfterReconnect(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	cp := func(clean bool, rm uint16) *packet.Connect {
		return &packet.Connect{ClientID: "shrinking", CleanStart: clean, Properties: v5Props(func(p *packet.Properties) {
			p.SessionExpiry = 30
			p.Set(packet.PropSessionExpiry)
			p.ReceiveMaximum = rm
			p.Set(packet.PropReceiveMaximum)
		})}
	}
	r, _ := v5RawConnect(t, addr, cp(true, 5))
	v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "shrink", QoS: 1})
	pub := v5ConnectID(t, addr, "pub")
	for i := range 5 {
		pub.pub(t, "shrink", fmt.Sprint(i), 1, false)
	}
	pids := make(map[string]uint16)
	for range 5 {
		p := v5Read[*packet.Publish](t, r)
		pids[string(p.Payload)] = p.PacketID
	}
	r.Conn.Close()
	brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 1 }, "subscriber offline")
	pub.pub(t, "shrink", "5", 1, false) // queued behind the ones in flight

	r, _ = v5RawConnect(t, addr, cp(false, 2))
	next := 0
	var inflight []uint16
	read := func(k int) {
		t.Helper()
		for range k {
			p := v5Read[*packet.Publish](t, r)
			want := fmt.Sprint(next)
			if string(p.Payload) != want {
				t.Fatalf("got message %q, want %q", p.Payload, want)
			}
			if next < 5 && (!p.Dup || p.PacketID != pids[want]) {
				t.Errorf("message %s: got dup %v id %d, want a resend with dup and id %d", want, p.Dup, p.PacketID, pids[want])
			}
			next++
			inflight = append(inflight, p.PacketID)
		}
		v5Ping(t, r)
	}
	read(2)
	for len(inflight) > 0 {
		r.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: inflight[0]})
		inflight = inflight[1:]
		read(min(1, 6-next))
	}
	if next != 6 {
		t.Errorf("got %d messages, want 6", next)
	}
}

// v5Props returns properties set by f.
func v5Props(f func(*packet.Properties)) packet.Properties {
	var p packet.Properties
	f(&p)
	return p
}

// v5NeverConfirm subscribes an in-process durable subscriber to filter that
// never confirms: every QoS 1/2 publish to it stays unacknowledged.
func v5NeverConfirm(t *testing.T, s *broker.Server, filter string) {
	t.Helper()
	c, err := s.NewClient("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SubscribeDurable(filter, 2, func(*broker.Message, func(error)) {}); err != nil {
		t.Fatal(err)
	}
}
