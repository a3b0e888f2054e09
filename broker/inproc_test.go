package broker_test

// The in-process client API: (*broker.Server).NewClient and *broker.Client.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// msgChan returns a Handler that forwards messages to a buffered channel.
func msgChan(n int) (chan *broker.Message, broker.Handler) {
	ch := make(chan *broker.Message, n)
	return ch, func(m *broker.Message) { ch <- m }
}

func recvMsg(t testing.TB, ch <-chan *broker.Message) *broker.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(boundedWait):
		t.Fatalf("no message within %v", boundedWait)
		return nil
	}
}

func newInproc(t testing.TB, s *broker.Server, id string) *broker.Client {
	t.Helper()
	c, err := s.NewClient(id)
	if err != nil {
		t.Fatalf("NewClient(%q): %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func bg() context.Context { return context.Background() }

// TestInprocFromNetwork: messages of network clients reach in-process
// handlers, downgraded to the subscription's QoS, with the publisher's
// client id and MQTT 5 properties.
func TestInprocFromNetwork(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	c := newInproc(t, s, "gateway")
	if c.ID() != "gateway" {
		t.Errorf("ID() = %q", c.ID())
	}
	ch, h := msgChan(16)
	if err := c.Subscribe("sensors/#", 1, h); err != nil {
		t.Fatal(err)
	}
	pub := p3Connect(t, addr, "paho-pub", pv311)
	for q := byte(0); q <= 2; q++ {
		pub.pub(t, fmt.Sprintf("sensors/%d", q), q, false, fmt.Sprintf("v%d", q))
		m := recvMsg(t, ch)
		if m.Topic != fmt.Sprintf("sensors/%d", q) || string(m.Payload) != fmt.Sprintf("v%d", q) ||
			m.QoS != min(q, 1) || m.ClientID != "paho-pub" || m.Retain {
			t.Errorf("QoS %d: got %+v", q, m)
		}
	}
	v5 := rcConnect(t, addr, packet.Version5, "raw5")
	p := &packet.Publish{Topic: "sensors/v5", QoS: 1, PacketID: 1, Payload: []byte("x")}
	p.Properties.User = []packet.UserProperty{{Key: "k", Value: "v"}}
	p.Properties.ContentType = "text/plain"
	p.Properties.Set(packet.PropContentType)
	v5.Write(p)
	rcExpectAck(t, v5, packet.PUBACK, 1)
	m := recvMsg(t, ch)
	if m.Properties == nil || len(m.Properties.User) != 1 || m.Properties.User[0] != (packet.UserProperty{Key: "k", Value: "v"}) ||
		m.Properties.ContentType != "text/plain" || m.ClientID != "raw5" {
		t.Errorf("v5 message: %+v props %+v", m, m.Properties)
	}
}

// TestInprocToNetwork: Publish and PublishMessage reach network and
// in-process subscribers.
func TestInprocToNetwork(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	c := newInproc(t, s, "gateway")
	sub := p3Connect(t, addr, "paho-sub", pv311)
	sub.sub(t, "cmd/#", 2)
	raw5 := rcConnect(t, addr, packet.Version5, "raw5")
	rcSubscribe(t, raw5, 1, "cmd/#", 2)
	other := newInproc(t, s, "other")
	ch, h := msgChan(16)
	if err := other.Subscribe("cmd/+", 2, h); err != nil {
		t.Fatal(err)
	}
	for q := byte(0); q <= 2; q++ {
		if err := c.Publish(bg(), fmt.Sprintf("cmd/%d", q), []byte("go"), q, false); err != nil {
			t.Fatalf("Publish QoS %d: %v", q, err)
		}
	}
	got := sub.in.waitN(t, 3)
	for i, m := range got {
		if m.Topic() != fmt.Sprintf("cmd/%d", i) || m.Qos() != byte(i) || string(m.Payload()) != "go" || m.Retained() {
			t.Errorf("paho got %s", describeMsgs3(got[i:i+1]))
		}
	}
	for q := byte(0); q <= 2; q++ {
		if p := rcExpectPublish(t, raw5); p.Topic != fmt.Sprintf("cmd/%d", q) || p.QoS != q {
			t.Errorf("raw v5 got %+v", p)
		}
		if m := recvMsg(t, ch); m.Topic != fmt.Sprintf("cmd/%d", q) || m.QoS != q || m.ClientID != "gateway" {
			t.Errorf("in-process got %+v", m)
		}
	}

	// PublishMessage with properties; retained.
	props := &packet.Properties{User: []packet.UserProperty{{Key: "origin", Value: "gw"}}, ResponseTopic: "reply/1"}
	props.Set(packet.PropResponseTopic)
	if err := c.PublishMessage(bg(), &broker.Message{Topic: "cmd/props", Payload: []byte("p"), QoS: 1, Retain: true, Properties: props}); err != nil {
		t.Fatal(err)
	}
	p := rcExpectPublish(t, raw5)
	if p.Topic != "cmd/props" || p.Retain || len(p.Properties.User) != 1 || p.Properties.User[0].Key != "origin" || p.Properties.ResponseTopic != "reply/1" {
		t.Errorf("v5 subscriber got %+v", p)
	}
	late := p3Connect(t, addr, "late", pv311)
	late.sub(t, "cmd/props", 1)
	if got := late.in.waitN(t, 1); !got[0].Retained() || string(got[0].Payload()) != "p" {
		t.Errorf("retained from PublishMessage: %s", describeMsgs3(got))
	}
}

// TestInprocRetainedOnSubscribe: Subscribe delivers the matching retained
// messages, at the subscription's QoS.
func TestInprocRetainedOnSubscribe(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pub := p3Connect(t, addr, "pub", pv311)
	pub.pub(t, "cfg/a", 2, true, "A")
	pub.pub(t, "cfg/b/c", 1, true, "C")
	pub.pub(t, "other", 1, true, "no")
	c := newInproc(t, s, "")
	if c.ID() == "" {
		t.Errorf("no client id assigned")
	}
	ch, h := msgChan(16)
	if err := c.Subscribe("cfg/#", 1, h); err != nil {
		t.Fatal(err)
	}
	got := map[string]*broker.Message{}
	for range 2 {
		m := recvMsg(t, ch)
		got[m.Topic] = m
	}
	if m := got["cfg/a"]; m == nil || string(m.Payload) != "A" || !m.Retain {
		t.Errorf("cfg/a: %+v", m)
	}
	if m := got["cfg/b/c"]; m == nil || string(m.Payload) != "C" || !m.Retain {
		t.Errorf("cfg/b/c: %+v", m)
	}
	// Nothing else: a live message is next.
	pub.pub(t, "cfg/live", 0, false, "L")
	if m := recvMsg(t, ch); m.Topic != "cfg/live" {
		t.Errorf("then %+v", m)
	}
	// A retained message published in-process is stored too.
	if err := c.Publish(bg(), "cfg/inproc", []byte("I"), 1, true); err != nil {
		t.Fatal(err)
	}
	if m := recvMsg(t, ch); m.Topic != "cfg/inproc" || m.Retain || m.QoS != 1 {
		// A live delivery has the retain flag clear [MQTT-3.3.1-9].
		t.Errorf("own retained publish, live: %+v", m)
	}
	if n := s.Stats().RetainedMessages; n != 4 {
		t.Errorf("RetainedMessages = %d, want 4", n)
	}
}

// TestInprocInvalid: invalid topic names, filters and QoS are errors, not
// panics or silent drops.
func TestInprocInvalid(t *testing.T) {
	t.Parallel()
	s, _ := brokertest.StartServer(t, broker.Options{})
	c := newInproc(t, s, "x")
	for _, tp := range []string{"", "a/+", "a/#", "#", "+", "a\x00b", "bad\xffutf8"} {
		if err := c.Publish(bg(), tp, []byte("x"), 0, false); err == nil {
			t.Errorf("Publish(%q) succeeded", tp)
		}
	}
	if err := c.Publish(bg(), "ok", nil, 3, false); err == nil {
		t.Errorf("Publish QoS 3 succeeded")
	}
	if err := c.PublishMessage(bg(), &broker.Message{Topic: "a/+"}); err == nil {
		t.Errorf("PublishMessage(a/+) succeeded")
	}
	h := func(*broker.Message) {}
	for _, f := range []string{"", "a/#/b", "a#", "a+/b", "#/a", "$share/g", "$share//a", "$share/g+/a", "a\x00"} {
		if err := c.Subscribe(f, 0, h); err == nil {
			t.Errorf("Subscribe(%q) succeeded", f)
		}
	}
	if err := c.Subscribe("ok", 3, h); err == nil {
		t.Errorf("Subscribe QoS 3 succeeded")
	}
	if err := c.SubscribeDurable("a/#/b", 1, func(*broker.Message, func(error)) {}); err == nil {
		t.Errorf("SubscribeDurable(a/#/b) succeeded")
	}
	if err := c.Unsubscribe("never/subscribed"); err == nil {
		t.Errorf("Unsubscribe of an unknown filter succeeded")
	}
	if n := s.Stats().Subscriptions; n != 0 {
		t.Errorf("Subscriptions = %d after refused subscriptions", n)
	}
}

// TestInprocUnsubscribeAndClose: Unsubscribe and Close stop delivery;
// Close frees the client identifier.
func TestInprocUnsubscribeAndClose(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	c, err := s.NewClient("closing")
	if err != nil {
		t.Fatal(err)
	}
	chA, hA := msgChan(16)
	chB, hB := msgChan(16)
	if err := c.Subscribe("a/#", 1, hA); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe("b/#", 1, hB); err != nil {
		t.Fatal(err)
	}
	witness := newInproc(t, s, "witness")
	chW, hW := msgChan(16)
	if err := witness.Subscribe("#", 1, hW); err != nil {
		t.Fatal(err)
	}
	pub := p3Connect(t, addr, "pub", pv311)

	if err := c.Unsubscribe("a/#"); err != nil {
		t.Fatal(err)
	}
	pub.pub(t, "a/1", 1, false, "x")
	pub.pub(t, "b/1", 1, false, "x")
	if m := recvMsg(t, chB); m.Topic != "b/1" {
		t.Errorf("b: %+v", m)
	}
	if len(chA) != 0 {
		t.Errorf("delivered after Unsubscribe")
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	pub.pub(t, "b/2", 1, false, "x")
	// The witness sees a/1, b/1, b/2 in order: by then b/2 was routed.
	for _, want := range []string{"a/1", "b/1", "b/2"} {
		if m := recvMsg(t, chW); m.Topic != want {
			t.Fatalf("witness: %s, want %s", m.Topic, want)
		}
	}
	if len(chB) != 0 || len(chA) != 0 {
		t.Errorf("delivered after Close")
	}
	if err := c.Publish(bg(), "b/3", nil, 0, false); !errors.Is(err, broker.ErrClientClosed) {
		t.Errorf("Publish after Close: %v, want ErrClientClosed", err)
	}
	if err := c.Subscribe("c", 0, hA); !errors.Is(err, broker.ErrClientClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClientClosed", err)
	}
	if n := s.Stats().Subscriptions; n != 1 {
		t.Errorf("Subscriptions = %d after Close, want 1 (the witness)", n)
	}
	// The identifier is free again, for a network client or a new
	// in-process one.
	rcPing(t, rcConnect(t, addr, packet.Version311, "closing"))
	if _, err := s.NewClient("closing"); !errors.Is(err, broker.ErrClientIDInUse) {
		t.Errorf("NewClient of a connected network client's id: %v, want ErrClientIDInUse", err)
	}
}

// TestInprocClientIDInUse: a network client cannot take over an in-process
// client's identifier (CONNACK refuses), nor a second in-process client.
func TestInprocClientIDInUse(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	c := newInproc(t, s, "gw")
	ch, h := msgChan(4)
	if err := c.Subscribe("gw/#", 0, h); err != nil {
		t.Fatal(err)
	}
	for _, v := range []byte{packet.Version311, packet.Version5, packet.Version31} {
		name := "MQTT"
		if v == packet.Version31 {
			name = "MQIsdp"
		}
		for _, clean := range []bool{true, false} {
			rc := brokertest.Dial(t, addr, v)
			rc.Write(&packet.Connect{ProtocolName: name, ProtocolVersion: v, CleanStart: clean, KeepAlive: 30, ClientID: "gw"})
			got := rcExpectClosed(t, rc, boundedWait)
			want := packet.V3IdentifierRejected
			if v == packet.Version5 {
				want = packet.ClientIDNotValid
			}
			if len(got) != 1 {
				t.Fatalf("v%d clean=%v: got %s", v, clean, describePackets(got))
			}
			if a, ok := got[0].(*packet.Connack); !ok || a.ReasonCode != want {
				t.Errorf("v%d clean=%v: got %s, want CONNACK 0x%02x", v, clean, describePackets(got), byte(want))
			}
		}
	}
	if _, err := s.NewClient("gw"); !errors.Is(err, broker.ErrClientIDInUse) {
		t.Errorf("second NewClient(gw): %v, want ErrClientIDInUse", err)
	}
	// The in-process client still works.
	pub := p3Connect(t, addr, "pub", pv311)
	pub.pub(t, "gw/x", 0, false, "x")
	if m := recvMsg(t, ch); m.Topic != "gw/x" {
		t.Errorf("got %+v", m)
	}
	if n := s.Stats().ClientsConnected; n != 1 {
		t.Errorf("ClientsConnected = %d, want 1 (the publisher)", n)
	}
}

// TestInprocShutdown: Shutdown ends the client's delivery goroutine (it
// waits for it) and the client reports ErrClientClosed afterwards.
func TestInprocShutdown(t *testing.T) {
	t.Parallel()
	s, err := broker.New(broker.Options{Logger: brokertest.TestLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := s.NewClient("c")
	if err != nil {
		t.Fatal(err)
	}
	ch, h := msgChan(4)
	if err := c.Subscribe("t", 1, h); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(bg(), "t", []byte("x"), 1, false); err != nil {
		t.Fatal(err)
	}
	recvMsg(t, ch)
	ctx, cancel := context.WithTimeout(bg(), boundedWait)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v (the client's goroutine did not end?)", err)
	}
	brokertest.Eventually(t, boundedWait, func() bool {
		return errors.Is(c.Publish(bg(), "t", nil, 0, false), broker.ErrClientClosed)
	}, "Publish fails with ErrClientClosed after Shutdown")
	if _, err := s.NewClient("d"); !errors.Is(err, broker.ErrServerClosed) {
		t.Errorf("NewClient after Shutdown: %v, want ErrServerClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after Shutdown: %v", err)
	}
}

// durableCall is one call of a DurableHandler.
type durableCall struct {
	m    *broker.Message
	done func(error)
}

// TestInprocDurable: the PUBACK of a network publisher waits for the
// durable handler's confirmation; a refusal disconnects a 3.1.1 publisher
// and gives 0x97 to a v5 one; acks keep the publish order [MQTT-4.6.0-2].
func TestInprocDurable(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	c := newInproc(t, s, "store")
	calls := make(chan durableCall, 16)
	if err := c.SubscribeDurable("orders/#", 1, func(m *broker.Message, done func(error)) {
		calls <- durableCall{m, done}
	}); err != nil {
		t.Fatal(err)
	}
	next := func() durableCall {
		t.Helper()
		select {
		case dc := <-calls:
			return dc
		case <-time.After(boundedWait):
			t.Fatalf("durable handler not called")
			return durableCall{}
		}
	}

	pub := rcConnect(t, addr, packet.Version311, "pub")
	pub.Write(&packet.Publish{Topic: "orders/1", QoS: 1, PacketID: 1, Payload: []byte("o1")})
	dc := next()
	if dc.m.Topic != "orders/1" || dc.m.QoS != 1 {
		t.Errorf("durable got %+v", dc.m)
	}
	rcPing(t, pub) // PINGRESP first: the PUBACK is withheld
	dc.done(nil)
	rcExpectAck(t, pub, packet.PUBACK, 1)

	// Confirmations out of order, acknowledgements in order.
	pub.Write(&packet.Publish{Topic: "orders/2", QoS: 1, PacketID: 2, Payload: []byte("o2")})
	pub.Write(&packet.Publish{Topic: "orders/3", QoS: 2, PacketID: 3, Payload: []byte("o3")})
	d2, d3 := next(), next()
	d3.done(nil)
	rcPing(t, pub)
	d2.done(nil)
	rcExpectAck(t, pub, packet.PUBACK, 2)
	rcExpectAck(t, pub, packet.PUBREC, 3)
	pub.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 3})
	rcExpectAck(t, pub, packet.PUBCOMP, 3)

	// QoS 0: the handler is called, done is a no-op.
	pub.Write(&packet.Publish{Topic: "orders/q0", Payload: []byte("q0")})
	next().done(nil)

	// Refused: a v5 publisher gets 0x97 and stays connected.
	pub5 := rcConnect(t, addr, packet.Version5, "pub5")
	pub5.Write(&packet.Publish{Topic: "orders/5", QoS: 1, PacketID: 5, Payload: []byte("o5")})
	next().done(fmt.Errorf("disk full: %w", broker.ErrQuotaExceeded))
	if p := rcRead(t, pub5); p.Type() != packet.PUBACK || p.(*packet.Ack).ReasonCode != packet.QuotaExceeded {
		t.Errorf("v5 refused: got %#v, want PUBACK 0x97", p)
	}
	rcPing(t, pub5)

	// Refused: a 3.1.1 publisher cannot be told and is disconnected.
	pub.Write(&packet.Publish{Topic: "orders/6", QoS: 1, PacketID: 6, Payload: []byte("o6")})
	next().done(broker.ErrQuotaExceeded)
	if got := rcExpectClosed(t, pub, boundedWait); len(got) != 0 {
		t.Errorf("3.1.1 refused: got %s before close", describePackets(got))
	}

	// An in-process publisher waits for the confirmation too.
	ip := newInproc(t, s, "ip")
	res := make(chan error, 1)
	go func() { res <- ip.Publish(bg(), "orders/7", []byte("o7"), 1, false) }()
	dc = next()
	select {
	case err := <-res:
		t.Fatalf("Publish returned %v before the confirmation", err)
	default:
	}
	dc.done(errors.New("nope"))
	if err := <-res; !errors.Is(err, broker.ErrQuotaExceeded) {
		t.Errorf("in-process publish refused: %v, want ErrQuotaExceeded", err)
	}
	go func() { res <- ip.Publish(bg(), "orders/8", []byte("o8"), 2, false) }()
	next().done(nil)
	if err := <-res; err != nil {
		t.Errorf("in-process publish: %v", err)
	}
	// A context ends the wait.
	ctx, cancel := context.WithCancel(bg())
	go func() { res <- ip.Publish(ctx, "orders/9", []byte("o9"), 1, false) }()
	dc = next()
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled publish: %v", err)
	}
	dc.done(nil)
}

// TestInprocSlowHandler: a handler that blocks does not block publishers;
// its queue is bounded (QoS 0 dropped first) and counted.
func TestInprocSlowHandler(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{MaxQueuedMessages: 10})
	c := newInproc(t, s, "slow")
	release := make(chan struct{})
	entered := make(chan struct{}, 100)
	got := make(chan *broker.Message, 100)
	if err := c.Subscribe("slow/#", 1, func(m *broker.Message) {
		entered <- struct{}{}
		<-release
		got <- m
	}); err != nil {
		t.Fatal(err)
	}
	pub := rcConnect(t, addr, packet.Version311, "pub")
	// One message blocks the handler; then 30 QoS 0 and 10 QoS 1 fill
	// the queue of 10: the QoS 1 ones push the QoS 0 ones out.
	rcPublish(t, pub, "slow/first", 1, 1, "x")
	select {
	case <-entered:
	case <-time.After(boundedWait):
		t.Fatal("handler not called")
	}
	for i := range 30 {
		rcPublish(t, pub, fmt.Sprintf("slow/q0/%d", i), 0, 0, "x")
	}
	for i := range 10 {
		rcPublish(t, pub, fmt.Sprintf("slow/q1/%d", i), 1, uint16(10+i), "x")
	}
	rcPing(t, pub) // every publish was handled: the publisher was never blocked
	if d := s.Stats().PublishDropped; d < 30 {
		t.Errorf("PublishDropped = %d, want >= 30", d)
	}
	close(release)
	var topics []string
	for len(topics) < 11 {
		topics = append(topics, recvMsg(t, got).Topic)
	}
	// The blocked one, then (once it had been taken off the queue) the
	// ten QoS 1 messages.
	if topics[0] != "slow/first" {
		t.Errorf("first: %s", topics[0])
	}
	q1 := 0
	for _, tp := range topics[1:] {
		var i int
		if _, err := fmt.Sscanf(tp, "slow/q1/%d", &i); err == nil {
			if i != q1 {
				t.Errorf("QoS 1 out of order: %s, want slow/q1/%d", tp, q1)
			}
			q1++
		}
	}
	if q1 != 10 {
		t.Errorf("delivered %d of 10 QoS 1 messages: %q", q1, topics)
	}
}
