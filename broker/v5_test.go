package broker_test

// MQTT 5.0 conformance tests over real TCP. The well-behaved side is the
// independent client github.com/eclipse/paho.golang; what a well-behaved
// client never sends (or what must be checked on the wire) goes through
// brokertest.RawClient and the broker's own codec.
//
// Negative checks ("nothing else arrives") use a sentinel: a later message
// or a PINGREQ that must be the next thing the client reads, since the
// broker keeps the order of what it sends on one connection.

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// v5Wait bounds every wait for something that should happen.
const v5Wait = 5 * time.Second

func v5U32(v uint32) *uint32 { return &v }
func v5Ptr[T any](v T) *T    { return &v }

// v5Client is a connected paho client whose received messages and server
// DISCONNECT arrive on channels.
type v5Client struct {
	*paho.Client
	connack *paho.Connack
	msgs    chan *paho.Publish
	discs   chan *paho.Disconnect
}

// v5Dial connects a paho client with cp (ProtocolVersion 5 is implied).
func v5Dial(t *testing.T, addr string, cp *paho.Connect) (*v5Client, error) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, v5Wait)
	if err != nil {
		return nil, err
	}
	pc := &v5Client{
		msgs:  make(chan *paho.Publish, 256),
		discs: make(chan *paho.Disconnect, 1),
	}
	pc.Client = paho.NewClient(paho.ClientConfig{
		Conn: nc,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				pc.msgs <- pr.Packet
				return true, nil
			},
		},
		OnServerDisconnect: func(d *paho.Disconnect) { pc.discs <- d },
		PacketTimeout:      v5Wait,
	})
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	ack, err := pc.Connect(ctx, cp)
	pc.connack = ack
	if err != nil {
		nc.Close()
		return pc, err
	}
	t.Cleanup(func() {
		// A no-op when the connection is already gone.
		pc.Disconnect(&paho.Disconnect{})
	})
	return pc, nil
}

// v5Connect is v5Dial that fails the test on error.
func v5Connect(t *testing.T, addr string, cp *paho.Connect) *v5Client {
	t.Helper()
	pc, err := v5Dial(t, addr, cp)
	if err != nil {
		t.Fatalf("paho connect %q: %v", cp.ClientID, err)
	}
	return pc
}

// v5ConnectID connects a paho client with a clean start and no other option.
func v5ConnectID(t *testing.T, addr, id string) *v5Client {
	t.Helper()
	return v5Connect(t, addr, &paho.Connect{ClientID: id, CleanStart: true})
}

func (pc *v5Client) subscribe(t *testing.T, subID int, opts ...paho.SubscribeOptions) {
	t.Helper()
	s := &paho.Subscribe{Subscriptions: opts}
	if subID != 0 {
		s.Properties = &paho.SubscribeProperties{SubscriptionIdentifier: &subID}
	}
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	sa, err := pc.Subscribe(ctx, s)
	if err != nil {
		t.Fatalf("subscribe %v: %v", opts, err)
	}
	for i, r := range sa.Reasons {
		if r != opts[i].QoS {
			t.Fatalf("subscribe %q: got reason 0x%02x, want 0x%02x", opts[i].Topic, r, opts[i].QoS)
		}
	}
}

// sub subscribes to one filter at qos without options.
func (pc *v5Client) sub(t *testing.T, filter string, qos byte) {
	t.Helper()
	pc.subscribe(t, 0, paho.SubscribeOptions{Topic: filter, QoS: qos})
}

// publish publishes p and requires a successful PUBACK/PUBCOMP (or a
// PUBACK 0x10 No matching subscribers).
func (pc *v5Client) publish(t *testing.T, p *paho.Publish) *paho.PublishResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	r, err := pc.Publish(ctx, p)
	if err != nil {
		t.Fatalf("publish %q: %v", p.Topic, err)
	}
	if r.ReasonCode >= 0x80 {
		t.Fatalf("publish %q: got reason 0x%02x", p.Topic, r.ReasonCode)
	}
	return r
}

// pub publishes payload on topic at qos.
func (pc *v5Client) pub(t *testing.T, topic, payload string, qos byte, retain bool) {
	t.Helper()
	pc.publish(t, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: qos, Retain: retain})
}

// next returns the next message received.
func (pc *v5Client) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case m := <-pc.msgs:
		return m
	case <-time.After(v5Wait):
		t.Fatalf("%s: no message within %v", pc.ClientID(), v5Wait)
		return nil
	}
}

// expect requires the next message to be payload on topic.
func (pc *v5Client) expect(t *testing.T, topic, payload string) *paho.Publish {
	t.Helper()
	m := pc.next(t)
	if m.Topic != topic || string(m.Payload) != payload {
		t.Fatalf("%s: got %q on %q, want %q on %q", pc.ClientID(), m.Payload, m.Topic, payload, topic)
	}
	return m
}

// disconnected waits for the server's DISCONNECT.
func (pc *v5Client) disconnected(t *testing.T) *paho.Disconnect {
	t.Helper()
	select {
	case d := <-pc.discs:
		return d
	case <-time.After(v5Wait):
		t.Fatalf("no DISCONNECT from the server within %v", v5Wait)
		return nil
	}
}

// v5RawConnect connects a raw MQTT 5 client with cp (protocol name and
// version filled in) and returns it with the CONNACK, which must succeed.
func v5RawConnect(t *testing.T, addr string, cp *packet.Connect) (*brokertest.RawClient, *packet.Connack) {
	t.Helper()
	r := brokertest.Dial(t, addr, packet.Version5)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", packet.Version5
	r.Write(cp)
	ack := v5Read[*packet.Connack](t, r)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %q: got reason 0x%02x, want success", cp.ClientID, byte(ack.ReasonCode))
	}
	return r, ack
}

// v5Read reads the next packet, which must be a T.
func v5Read[T packet.Packet](t *testing.T, r *brokertest.RawClient) T {
	t.Helper()
	p, err := r.Read(v5Wait)
	if err != nil {
		var zero T
		t.Fatalf("reading %T: %v", zero, err)
	}
	got, ok := p.(T)
	if !ok {
		var zero T
		t.Fatalf("got %s, want %T", v5Describe(p), zero)
	}
	return got
}

// v5Describe summarises a packet for a failure message.
func v5Describe(p packet.Packet) string {
	switch p := p.(type) {
	case *packet.Publish:
		return fmt.Sprintf("PUBLISH %q id %d QoS %d dup %v (%d bytes)", p.Topic, p.PacketID, p.QoS, p.Dup, len(p.Payload))
	case *packet.Ack:
		return fmt.Sprintf("%v id %d reason 0x%02x", p.Kind, p.PacketID, byte(p.ReasonCode))
	case *packet.Disconnect:
		return fmt.Sprintf("DISCONNECT 0x%02x %q", byte(p.ReasonCode), p.Properties.ReasonString)
	default:
		return fmt.Sprintf("%v %+v", p.Type(), p)
	}
}

// v5RawSubscribe subscribes with the given identifier (0: none) and requires
// the granted QoS in SUBACK.
func v5RawSubscribe(t *testing.T, r *brokertest.RawClient, pid uint16, subID uint32, opts ...packet.SubOptions) {
	t.Helper()
	s := &packet.Subscribe{PacketID: pid, Subscriptions: opts}
	if subID != 0 {
		s.Properties.SubscriptionIDs = []uint32{subID}
	}
	r.Write(s)
	sa := v5Read[*packet.Suback](t, r)
	if sa.PacketID != pid || len(sa.ReasonCodes) != len(opts) {
		t.Fatalf("got SUBACK %+v for packet id %d with %d filters", sa, pid, len(opts))
	}
	for i, rc := range sa.ReasonCodes {
		if byte(rc) != opts[i].QoS {
			t.Fatalf("SUBACK %q: got 0x%02x, want 0x%02x", opts[i].Filter, byte(rc), opts[i].QoS)
		}
	}
}

// v5Ping sends PINGREQ and requires PINGRESP as the next packet: whatever
// the broker queued for r before handling the PINGREQ would come first.
func v5Ping(t *testing.T, r *brokertest.RawClient) {
	t.Helper()
	r.Write(&packet.Pingreq{})
	v5Read[*packet.Pingresp](t, r)
}

// v5ExpectDisconnect requires the broker to send DISCONNECT with code and to
// close the connection; it returns the DISCONNECT.
func v5ExpectDisconnect(t *testing.T, r *brokertest.RawClient, code packet.ReasonCode) *packet.Disconnect {
	t.Helper()
	got := r.ExpectClosed(v5Wait)
	if len(got) == 0 {
		t.Fatalf("connection closed without DISCONNECT, want reason 0x%02x", byte(code))
	}
	d, ok := got[len(got)-1].(*packet.Disconnect)
	if !ok {
		t.Fatalf("last packet before close: got %T, want DISCONNECT 0x%02x", got[len(got)-1], byte(code))
	}
	if d.ReasonCode != code {
		t.Fatalf("DISCONNECT: got reason 0x%02x (%q), want 0x%02x", byte(d.ReasonCode), d.Properties.ReasonString, byte(code))
	}
	return d
}

// v5Within runs f, which must not block for long, and fails the test if
// it has not returned within v5Wait.
func v5Within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(v5Wait):
		t.Fatalf("%s: still running after %v", what, v5Wait)
	}
}

// v5SleepUntil waits for a wall-clock deadline (message or session expiry,
// will delay): there is nothing to poll while time passes.
func v5SleepUntil(deadline time.Time) {
	time.Sleep(time.Until(deadline))
}

func TestV5ConnackProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      broker.Options
		clientID  string
		keepAlive uint16
		// wantServerKA is the Server Keep Alive, 0 for none.
		wantServerKA uint16
		wantAssigned bool
	}{
		{name: "limits", opts: broker.Options{ReceiveMaximum: 7, MaxPacketSize: 4096, TopicAliasMaximum: 3}, clientID: "c1", keepAlive: 30},
		{name: "assigned client id", clientID: "", keepAlive: 30, wantAssigned: true},
		{name: "keep alive above the maximum", opts: broker.Options{MaxKeepAlive: 10 * time.Second}, clientID: "c2", keepAlive: 60, wantServerKA: 10},
		{name: "keep alive 0 with a maximum", opts: broker.Options{MaxKeepAlive: 10 * time.Second}, clientID: "c3", keepAlive: 0, wantServerKA: 10},
		{name: "keep alive within the maximum", opts: broker.Options{MaxKeepAlive: 10 * time.Second}, clientID: "c4", keepAlive: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, addr := brokertest.StartServer(t, tc.opts)
			pc := v5Connect(t, addr, &paho.Connect{ClientID: tc.clientID, CleanStart: true, KeepAlive: tc.keepAlive})
			p := pc.connack.Properties
			def := broker.DefaultOptions()
			wantRM := uint16(v5Or(tc.opts.ReceiveMaximum, def.ReceiveMaximum))
			wantMPS := uint32(v5Or(tc.opts.MaxPacketSize, def.MaxPacketSize))
			wantTAM := uint16(v5Or(tc.opts.TopicAliasMaximum, def.TopicAliasMaximum))
			if p.ReceiveMaximum == nil || *p.ReceiveMaximum != wantRM {
				t.Errorf("receive maximum: got %v, want %d", v5Deref(p.ReceiveMaximum), wantRM)
			}
			if p.MaximumPacketSize == nil || *p.MaximumPacketSize != wantMPS {
				t.Errorf("maximum packet size: got %v, want %d", v5Deref(p.MaximumPacketSize), wantMPS)
			}
			if p.TopicAliasMaximum == nil || *p.TopicAliasMaximum != wantTAM {
				t.Errorf("topic alias maximum: got %v, want %d", v5Deref(p.TopicAliasMaximum), wantTAM)
			}
			switch {
			case tc.wantServerKA == 0 && p.ServerKeepAlive != nil:
				t.Errorf("server keep alive: got %d, want none", *p.ServerKeepAlive)
			case tc.wantServerKA != 0 && (p.ServerKeepAlive == nil || *p.ServerKeepAlive != tc.wantServerKA):
				t.Errorf("server keep alive: got %v, want %d", v5Deref(p.ServerKeepAlive), tc.wantServerKA)
			}
			if got := p.AssignedClientID != ""; got != tc.wantAssigned {
				t.Errorf("assigned client id: got %q, want one: %v", p.AssignedClientID, tc.wantAssigned)
			}
			if pc.connack.SessionPresent {
				t.Errorf("session present: got true on a clean start")
			}
			if tc.wantAssigned {
				// The assigned identifier is the client's: a second client
				// taking it over ends the first [MQTT-3.2.2-16].
				v5ConnectID(t, addr, p.AssignedClientID)
				if d := pc.disconnected(t); d.ReasonCode != byte(packet.SessionTakenOver) {
					t.Errorf("takeover of the assigned id: got reason 0x%02x, want 0x8e", d.ReasonCode)
				}
			}
		})
	}
}

func v5Or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func v5Deref[T any](p *T) any {
	if p == nil {
		return "none"
	}
	return *p
}

func TestV5QoSMatrix(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	for pubQoS := byte(0); pubQoS <= 2; pubQoS++ {
		for subQoS := byte(0); subQoS <= 2; subQoS++ {
			t.Run(fmt.Sprintf("pub%d_sub%d", pubQoS, subQoS), func(t *testing.T) {
				t.Parallel()
				topic := fmt.Sprintf("qos/%d/%d", pubQoS, subQoS)
				sub := v5ConnectID(t, addr, "sub-"+topic)
				sub.sub(t, topic, subQoS)
				pub := v5ConnectID(t, addr, "pub-"+topic)
				for i := range 3 {
					r := pub.publish(t, &paho.Publish{Topic: topic, QoS: pubQoS, Payload: fmt.Appendf(nil, "m%d", i)})
					if pubQoS > 0 && r.ReasonCode != 0 {
						t.Errorf("publish: got reason 0x%02x, want 0", r.ReasonCode)
					}
				}
				want := min(pubQoS, subQoS) // [MQTT-3.8.4-8]
				for i := range 3 {
					m := sub.expect(t, topic, fmt.Sprintf("m%d", i))
					if m.QoS != want {
						t.Errorf("message %d: got QoS %d, want %d", i, m.QoS, want)
					}
					if m.Retain {
						t.Errorf("message %d: got retain set", i)
					}
				}
			})
		}
	}
}

func TestV5QoS2ExactlyOnce(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	sub := v5ConnectID(t, addr, "sub")
	sub.sub(t, "once/#", 2)
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "pub", CleanStart: true})
	pub := &packet.Publish{Topic: "once/a", QoS: 2, PacketID: 9, Payload: []byte("once")}
	r.Write(pub)
	if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREC || a.PacketID != 9 {
		t.Fatalf("got %v %d, want PUBREC 9", a.Kind, a.PacketID)
	}
	// A resend before PUBREL is acknowledged again, not routed again
	// [MQTT-4.3.3-10].
	pub.Dup = true
	r.Write(pub)
	if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREC || a.PacketID != 9 {
		t.Fatalf("resend: got %v %d, want PUBREC 9", a.Kind, a.PacketID)
	}
	r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 9})
	if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBCOMP || a.PacketID != 9 || a.ReasonCode != packet.Success {
		t.Fatalf("got %v %d 0x%02x, want PUBCOMP 9 success", a.Kind, a.PacketID, byte(a.ReasonCode))
	}
	// The identifier is free: the same id is a new message now.
	r.Write(&packet.Publish{Topic: "once/a", QoS: 2, PacketID: 9, Payload: []byte("twice")})
	v5Read[*packet.Ack](t, r)
	r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 9})
	v5Read[*packet.Ack](t, r)
	// A PUBREL for an unknown identifier gets PUBCOMP 0x92 [MQTT-3.6.4-1].
	r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 9})
	if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBCOMP || a.ReasonCode != packet.PacketIDNotFound {
		t.Fatalf("got %v 0x%02x, want PUBCOMP 0x92", a.Kind, byte(a.ReasonCode))
	}
	sub.expect(t, "once/a", "once")
	sub.expect(t, "once/a", "twice")
}

func TestV5NoMatchingSubscribers(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	pub := v5ConnectID(t, addr, "pub")
	for _, qos := range []byte{1, 2} {
		r := pub.publish(t, &paho.Publish{Topic: "nobody/here", QoS: qos, Payload: []byte("x")})
		if qos == 1 && r.ReasonCode != byte(packet.NoMatchingSubscribers) {
			t.Errorf("QoS 1: got PUBACK 0x%02x, want 0x10", r.ReasonCode)
		}
	}
}

func TestV5Retained(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	pub := v5ConnectID(t, addr, "pub")

	t.Run("set replace delete", func(t *testing.T) {
		t.Parallel()
		pub.pub(t, "ret/a", "one", 1, true)
		sub := v5ConnectID(t, addr, "srd-1")
		sub.sub(t, "ret/a", 1)
		if m := sub.expect(t, "ret/a", "one"); !m.Retain || m.QoS != 1 {
			t.Errorf("got retain %v QoS %d, want retain true QoS 1", m.Retain, m.QoS)
		}

		pub.pub(t, "ret/a", "two", 0, true)
		if m := sub.expect(t, "ret/a", "two"); m.Retain {
			t.Errorf("live retained message: got retain set without retain as published")
		}
		sub2 := v5ConnectID(t, addr, "srd-2")
		sub2.sub(t, "ret/a", 2)
		if m := sub2.expect(t, "ret/a", "two"); !m.Retain || m.QoS != 0 {
			t.Errorf("replaced: got retain %v QoS %d, want retain true QoS 0", m.Retain, m.QoS)
		}

		pub.pub(t, "ret/a", "", 1, true) // [MQTT-3.3.1-10]
		// The empty retained message still goes to current subscribers.
		sub.expect(t, "ret/a", "")
		sub3 := v5ConnectID(t, addr, "srd-3")
		sub3.sub(t, "ret/a", 1)
		pub.pub(t, "ret/a", "live", 1, false)
		if m := sub3.expect(t, "ret/a", "live"); m.Retain {
			t.Errorf("deleted: got retain set on the live message")
		}
	})

	t.Run("retain handling", func(t *testing.T) {
		t.Parallel()
		// [MQTT-3.3.1-9], [MQTT-3.3.1-10], [MQTT-3.3.1-11].
		tests := []struct {
			handling        byte
			first, resubscr bool // retained message expected
		}{
			{handling: 0, first: true, resubscr: true},
			{handling: 1, first: true, resubscr: false},
			{handling: 2, first: false, resubscr: false},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("rh%d", tc.handling), func(t *testing.T) {
				t.Parallel()
				topic := fmt.Sprintf("rh/%d", tc.handling)
				pub.pub(t, topic, "kept", 1, true)
				sub := v5ConnectID(t, addr, "rh-"+topic)
				for i, want := range []bool{tc.first, tc.resubscr} {
					sub.subscribe(t, 0, paho.SubscribeOptions{Topic: topic, QoS: 1, RetainHandling: tc.handling})
					pub.pub(t, topic, fmt.Sprintf("live%d", i), 1, false)
					if want {
						if m := sub.expect(t, topic, "kept"); !m.Retain {
							t.Errorf("subscribe %d: retained message without retain flag", i)
						}
					}
					sub.expect(t, topic, fmt.Sprintf("live%d", i))
				}
			})
		}
	})

	t.Run("retain as published", func(t *testing.T) {
		t.Parallel()
		// [MQTT-3.3.1-12], [MQTT-3.3.1-13].
		for _, rap := range []bool{false, true} {
			t.Run(fmt.Sprint(rap), func(t *testing.T) {
				t.Parallel()
				topic := fmt.Sprintf("rap/%v", rap)
				sub := v5ConnectID(t, addr, "rap-"+topic)
				sub.subscribe(t, 0, paho.SubscribeOptions{Topic: topic, QoS: 1, RetainAsPublished: rap})
				pub.pub(t, topic, "r", 1, true)
				pub.pub(t, topic, "n", 1, false)
				if m := sub.expect(t, topic, "r"); m.Retain != rap {
					t.Errorf("retained publish: got retain %v, want %v", m.Retain, rap)
				}
				if m := sub.expect(t, topic, "n"); m.Retain {
					t.Errorf("normal publish: got retain true")
				}
			})
		}
	})

	t.Run("subscription identifier", func(t *testing.T) {
		t.Parallel()
		pub.pub(t, "rsid/a", "kept", 1, true)
		sub := v5ConnectID(t, addr, "rsid")
		sub.subscribe(t, 42, paho.SubscribeOptions{Topic: "rsid/+", QoS: 1})
		m := sub.expect(t, "rsid/a", "kept")
		if id := m.Properties.SubscriptionIdentifier; id == nil || *id != 42 {
			t.Errorf("retained message subscription identifier: got %v, want 42", v5Deref(id))
		}
	})

	t.Run("expiry", func(t *testing.T) {
		t.Parallel()
		pub.publish(t, &paho.Publish{Topic: "rexp/a", QoS: 1, Retain: true, Payload: []byte("short"),
			Properties: &paho.PublishProperties{MessageExpiry: v5U32(1)}})
		published := time.Now() // after the broker received it
		sub := v5ConnectID(t, addr, "rexp-1")
		sub.sub(t, "rexp/a", 1)
		m := sub.expect(t, "rexp/a", "short")
		if e := m.Properties.MessageExpiry; e == nil || *e == 0 || *e > 1 {
			t.Errorf("retained message expiry: got %v, want 1", v5Deref(e))
		}
		v5SleepUntil(published.Add(1050 * time.Millisecond))
		// [MQTT-3.3.2-5]: an expired retained message is not sent.
		sub2 := v5ConnectID(t, addr, "rexp-2")
		sub2.sub(t, "rexp/a", 1)
		pub.pub(t, "rexp/a", "live", 1, false)
		sub2.expect(t, "rexp/a", "live")
	})
}

func TestV5OverlappingSubscriptions(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "overlap", CleanStart: true})
	v5RawSubscribe(t, r, 1, 11, packet.SubOptions{Filter: "ov/#", QoS: 1})
	v5RawSubscribe(t, r, 2, 22, packet.SubOptions{Filter: "ov/+/c", QoS: 2})
	v5RawSubscribe(t, r, 3, 0, packet.SubOptions{Filter: "ov/b/c", QoS: 0})
	pub := v5ConnectID(t, addr, "pub")
	pub.pub(t, "ov/b/c", "all three", 2, false)
	pub.pub(t, "ov/end", "one", 0, false)

	// [MQTT-3.3.4-2]: one copy at the highest QoS; [MQTT-3.3.4-3]: with
	// every matching subscription identifier.
	p := v5Read[*packet.Publish](t, r)
	if p.Topic != "ov/b/c" || string(p.Payload) != "all three" {
		t.Fatalf("got %q on %q, want %q on %q", p.Payload, p.Topic, "all three", "ov/b/c")
	}
	if p.QoS != 2 {
		t.Errorf("got QoS %d, want 2", p.QoS)
	}
	ids := slices.Sorted(slices.Values(p.Properties.SubscriptionIDs))
	if !slices.Equal(ids, []uint32{11, 22}) {
		t.Errorf("subscription identifiers: got %v, want [11 22]", ids)
	}
	pid := p.PacketID
	p = v5Read[*packet.Publish](t, r)
	if p.Topic != "ov/end" {
		t.Fatalf("got a second copy on %q (payload %q), want the sentinel on ov/end", p.Topic, p.Payload)
	}
	if !slices.Equal(p.Properties.SubscriptionIDs, []uint32{11}) {
		t.Errorf("sentinel subscription identifiers: got %v, want [11]", p.Properties.SubscriptionIDs)
	}
	r.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: pid})
	if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREL || a.PacketID != pid {
		t.Errorf("got %v %d, want PUBREL %d", a.Kind, a.PacketID, pid)
	}
	r.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: pid})
	v5Ping(t, r)

	// paho, which keeps one identifier, sees one copy too.
	sub := v5ConnectID(t, addr, "overlap-paho")
	sub.subscribe(t, 5, paho.SubscribeOptions{Topic: "ov/#", QoS: 0})
	sub.subscribe(t, 6, paho.SubscribeOptions{Topic: "ov/b/#", QoS: 1})
	pub.pub(t, "ov/b/x", "once", 1, false)
	pub.pub(t, "ov/end", "end", 1, false)
	if m := sub.expect(t, "ov/b/x", "once"); m.QoS != 1 {
		t.Errorf("paho: got QoS %d, want 1", m.QoS)
	}
	sub.expect(t, "ov/end", "end")
}

func TestV5SharedSubscriptions(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	pub := v5ConnectID(t, addr, "pub")

	t.Run("round robin", func(t *testing.T) {
		t.Parallel()
		const members, perMember = 3, 4
		var subs []*v5Client
		for i := range members {
			s := v5ConnectID(t, addr, fmt.Sprintf("member-%d", i))
			s.sub(t, "$share/g/shared/+", 1)
			s.sub(t, "shared-end", 0) // sentinel, not shared
			subs = append(subs, s)
		}
		normal := v5ConnectID(t, addr, "normal")
		normal.sub(t, "shared/+", 1)
		for i := range members * perMember {
			pub.pub(t, "shared/x", fmt.Sprint(i), 1, false)
		}
		pub.pub(t, "shared-end", "end", 0, false)

		seen := make(map[string]int)
		for i, s := range subs {
			var got []int
			for {
				m := s.next(t)
				if m.Topic == "shared-end" {
					break
				}
				var n int
				fmt.Sscan(string(m.Payload), &n)
				got = append(got, n)
				seen[string(m.Payload)]++
			}
			// Round robin: every members-th message, in order.
			if len(got) != perMember {
				t.Errorf("member %d: got messages %v, want %d of them", i, got, perMember)
				continue
			}
			for j := 1; j < len(got); j++ {
				if got[j] != got[j-1]+members {
					t.Errorf("member %d: got messages %v, want every %d-th", i, got, members)
					break
				}
			}
		}
		for i := range members * perMember {
			if n := seen[fmt.Sprint(i)]; n != 1 {
				t.Errorf("message %d: delivered %d times to the group, want once", i, n)
			}
		}
		// A normal subscription still gets every message.
		for i := range members * perMember {
			normal.expect(t, "shared/x", fmt.Sprint(i))
		}
	})

	t.Run("no retained messages", func(t *testing.T) {
		t.Parallel()
		pub.pub(t, "shret/a", "retained", 1, true)
		s := v5ConnectID(t, addr, "shret")
		s.sub(t, "$share/g2/shret/#", 1)
		pub.pub(t, "shret/a", "live", 1, false)
		if m := s.expect(t, "shret/a", "live"); m.Retain {
			t.Errorf("got retain set on a live message")
		}
	})
}

func TestV5NoLocal(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	self := v5ConnectID(t, addr, "self")
	self.subscribe(t, 0, paho.SubscribeOptions{Topic: "nl/t", QoS: 1, NoLocal: true})
	other := v5ConnectID(t, addr, "other")
	other.sub(t, "nl/t", 1)
	self.pub(t, "nl/t", "from self", 1, false)
	other.pub(t, "nl/t", "from other", 1, false)
	// [MQTT-3.8.3-3]: self gets only the other's message.
	self.expect(t, "nl/t", "from other")
	other.expect(t, "nl/t", "from self")
	other.expect(t, "nl/t", "from other")
}

func TestV5PropertiesPassThrough(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	pub := v5ConnectID(t, addr, "pub")
	props := func() *paho.PublishProperties {
		return &paho.PublishProperties{
			ResponseTopic:   "reply/to/me",
			CorrelationData: []byte{0, 1, 2, 0xff},
			ContentType:     "application/json",
			PayloadFormat:   v5Ptr[byte](1),
			User: paho.UserProperties{
				{Key: "k", Value: "v1"}, {Key: "a", Value: "b"}, {Key: "k", Value: "v2"},
			},
		}
	}
	check := func(t *testing.T, got *paho.PublishProperties) {
		t.Helper()
		want := props()
		if got.ResponseTopic != want.ResponseTopic {
			t.Errorf("response topic: got %q, want %q", got.ResponseTopic, want.ResponseTopic)
		}
		if string(got.CorrelationData) != string(want.CorrelationData) {
			t.Errorf("correlation data: got %x, want %x", got.CorrelationData, want.CorrelationData)
		}
		if got.ContentType != want.ContentType {
			t.Errorf("content type: got %q, want %q", got.ContentType, want.ContentType)
		}
		if got.PayloadFormat == nil || *got.PayloadFormat != 1 {
			t.Errorf("payload format: got %v, want 1", v5Deref(got.PayloadFormat))
		}
		// [MQTT-3.3.2-18]: user properties in order, duplicates kept.
		if !slices.Equal(got.User, want.User) {
			t.Errorf("user properties: got %v, want %v", got.User, want.User)
		}
	}
	for _, qos := range []byte{0, 1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			t.Parallel()
			topic := fmt.Sprintf("pt/%d", qos)
			sub := v5ConnectID(t, addr, "sub-"+topic)
			sub.sub(t, topic, 2)
			pub.publish(t, &paho.Publish{Topic: topic, QoS: qos, Payload: []byte(`{}`), Properties: props()})
			check(t, sub.expect(t, topic, `{}`).Properties)
		})
	}
	t.Run("retained", func(t *testing.T) {
		t.Parallel()
		pub.publish(t, &paho.Publish{Topic: "pt/ret", QoS: 1, Retain: true, Payload: []byte(`{}`), Properties: props()})
		sub := v5ConnectID(t, addr, "sub-ret")
		sub.sub(t, "pt/ret", 1)
		check(t, sub.expect(t, "pt/ret", `{}`).Properties)
	})
}

// TestV5AutopahoSession runs autopaho, which reconnects by itself, against a
// broker that drops its connection: its persistent session keeps the
// subscription and the QoS 1 messages published meanwhile.
func TestV5AutopahoSession(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	u, err := url.Parse("mqtt://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *paho.Publish, 16)
	ups := make(chan *paho.Connack, 4)
	downs := make(chan struct{}, 4)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         60,
		ReconnectBackoff:              func(int) time.Duration { return 20 * time.Millisecond },
		ConnectTimeout:                v5Wait,
		OnConnectionUp:                func(_ *autopaho.ConnectionManager, ca *paho.Connack) { ups <- ca },
		OnConnectionDown:              func() bool { downs <- struct{}{}; return true },
		ClientConfig: paho.ClientConfig{
			ClientID: "auto",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) { msgs <- pr.Packet; return true, nil },
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), v5Wait)
		defer dcancel()
		cm.Disconnect(dctx)
	})
	recv := func(what string) *paho.Connack {
		t.Helper()
		select {
		case ca := <-ups:
			return ca
		case <-time.After(v5Wait):
			t.Fatalf("autopaho: no %s within %v", what, v5Wait)
			return nil
		}
	}
	if ca := recv("connection"); ca.SessionPresent {
		t.Errorf("first connection: got session present")
	}
	sctx, scancel := context.WithTimeout(context.Background(), v5Wait)
	defer scancel()
	if _, err := cm.Subscribe(sctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "auto/#", QoS: 1}}}); err != nil {
		t.Fatalf("autopaho subscribe: %v", err)
	}
	pub := v5ConnectID(t, addr, "auto-pub")
	pub.pub(t, "auto/1", "before", 1, false)

	// Drop the connection under autopaho: it reconnects to the same
	// session without clean start.
	cm.TerminateConnectionForTest()
	select {
	case <-downs:
	case <-time.After(v5Wait):
		t.Fatalf("autopaho: connection not reported down")
	}
	pub.pub(t, "auto/2", "while away", 1, false)
	if ca := recv("reconnection"); !ca.SessionPresent {
		t.Errorf("reconnection: got no session present")
	}
	pub.pub(t, "auto/3", "after", 1, false)
	var got []string
	for len(got) < 3 {
		select {
		case m := <-msgs:
			if !slices.Contains(got, string(m.Payload)) { // "before" may come twice (QoS 1)
				got = append(got, string(m.Payload))
			}
		case <-time.After(v5Wait):
			t.Fatalf("autopaho: got %v, want before, while away, after", got)
		}
	}
	if want := []string{"before", "while away", "after"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
