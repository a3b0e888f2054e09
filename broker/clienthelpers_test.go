package broker_test

// Helpers shared by the v3 (paho.mqtt.golang), mosquitto, protocol,
// in-process and slow-subscriber tests. Their names (p3*, rc*, msgInbox)
// keep clear of the helpers of the v5_*_test.go files.

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// boundedWait bounds every wait for something that should happen.
const boundedWait = 5 * time.Second

// msgInbox collects the messages a paho client receives on its default
// publish handler.
type msgInbox struct {
	mu   sync.Mutex
	msgs []mqtt.Message
	ch   chan struct{} // signalled (capacity 1) on every message
}

func newMsgInbox() *msgInbox { return &msgInbox{ch: make(chan struct{}, 1)} }

func (b *msgInbox) handle(_ mqtt.Client, m mqtt.Message) {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	select {
	case b.ch <- struct{}{}:
	default:
	}
}

// all returns a copy of what arrived so far.
func (b *msgInbox) all() []mqtt.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mqtt.Message(nil), b.msgs...)
}

func (b *msgInbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// waitUntil waits until cond holds for the messages received so far.
func (b *msgInbox) waitUntil(t testing.TB, timeout time.Duration, what string, cond func([]mqtt.Message) bool) []mqtt.Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		got := b.all()
		if cond(got) {
			return got
		}
		select {
		case <-b.ch:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s; got %d messages: %s", timeout, what, len(got), describeMsgs3(got))
			return nil
		}
	}
}

// waitN waits for at least n messages and returns all of them.
func (b *msgInbox) waitN(t testing.TB, n int) []mqtt.Message {
	t.Helper()
	return b.waitUntil(t, boundedWait, "messages", func(m []mqtt.Message) bool { return len(m) >= n })
}

// waitTopic waits for a message on topicName and returns every message up
// to and including it.
func (b *msgInbox) waitTopic(t testing.TB, topicName string) []mqtt.Message {
	t.Helper()
	got := b.waitUntil(t, boundedWait, "a message on "+topicName, func(ms []mqtt.Message) bool {
		for _, m := range ms {
			if m.Topic() == topicName {
				return true
			}
		}
		return false
	})
	for i, m := range got {
		if m.Topic() == topicName {
			return got[:i+1]
		}
	}
	return got
}

func describeMsgs3(ms []mqtt.Message) string {
	s := ""
	for i, m := range ms {
		if i == 20 {
			return s + " ..."
		}
		s += " [" + m.Topic() + " q" + string('0'+rune(m.Qos())) + " " + truncStr(string(m.Payload()), 20) + "]"
	}
	return s
}

func truncStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// p3Client is a connected paho.mqtt.golang client.
type p3Client struct {
	mqtt.Client
	in             *msgInbox
	sessionPresent bool
	lost           chan error // connection lost (capacity 1)
}

// p3Connect connects a paho v1 client (version 3: MQTT 3.1, 4: 3.1.1)
// with clean session, no automatic reconnection and its messages going to
// the msgInbox; mod may change the options. It disconnects with the test.
func p3Connect(t testing.TB, addr, id string, version uint, mod ...func(*mqtt.ClientOptions)) *p3Client {
	t.Helper()
	pc, err := p3TryConnect(t, addr, id, version, mod...)
	if err != nil {
		t.Fatalf("paho connect %q (v%d): %v", id, version, err)
	}
	return pc
}

func p3TryConnect(t testing.TB, addr, id string, version uint, mod ...func(*mqtt.ClientOptions)) (*p3Client, error) {
	t.Helper()
	pc := &p3Client{in: newMsgInbox(), lost: make(chan error, 1)}
	o := mqtt.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetClientID(id).
		SetProtocolVersion(version).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetConnectTimeout(boundedWait).
		SetKeepAlive(30 * time.Second).
		SetDefaultPublishHandler(pc.in.handle).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			select {
			case pc.lost <- err:
			default:
			}
		})
	for _, f := range mod {
		f(o)
	}
	pc.Client = mqtt.NewClient(o)
	tok := pc.Connect()
	if !tok.WaitTimeout(boundedWait) {
		return nil, errors.New("CONNECT timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	pc.sessionPresent = tok.(*mqtt.ConnectToken).SessionPresent()
	t.Cleanup(func() { pc.Disconnect(0) })
	return pc, nil
}

// p3Wait waits for tok and fails the test on error or timeout.
func p3Wait(t testing.TB, tok mqtt.Token, what string) {
	t.Helper()
	if !tok.WaitTimeout(boundedWait) {
		t.Fatalf("%s: timed out", what)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// sub subscribes to filter (messages go to the msgInbox) and checks the
// granted QoS.
func (pc *p3Client) sub(t testing.TB, filter string, qos byte) {
	t.Helper()
	tok := pc.Subscribe(filter, qos, nil)
	p3Wait(t, tok, "subscribe "+filter)
	// paho keys the result by the filter without any $share/{group}/.
	res := tok.(*mqtt.SubscribeToken).Result()
	for _, g := range res {
		if g != qos {
			t.Fatalf("subscribe %s: granted %d, want %d", filter, g, qos)
		}
	}
	if len(res) != 1 {
		t.Fatalf("subscribe %s: result %v", filter, res)
	}
}

// pub publishes and waits for the handshake of its QoS to complete.
func (pc *p3Client) pub(t testing.TB, topicName string, qos byte, retain bool, payload string) {
	t.Helper()
	p3Wait(t, pc.Publish(topicName, qos, retain, payload), "publish "+topicName)
}

// rcConnect dials addr and connects a raw client with clientID.
func rcConnect(t testing.TB, addr string, version byte, clientID string) *brokertest.RawClient {
	t.Helper()
	rc := brokertest.Dial(t, addr, version)
	rc.Connect(clientID)
	return rc
}

// rcRead reads the next packet or fails the test.
func rcRead(t testing.TB, rc *brokertest.RawClient) packet.Packet {
	t.Helper()
	p, err := rc.Read(boundedWait)
	if err != nil {
		t.Fatalf("raw read: %v", err)
	}
	return p
}

// rcSubscribe subscribes and requires a SUBACK granting qos.
func rcSubscribe(t testing.TB, rc *brokertest.RawClient, pid uint16, filter string, qos byte) {
	t.Helper()
	rc.Write(&packet.Subscribe{PacketID: pid, Subscriptions: []packet.SubOptions{{Filter: filter, QoS: qos}}})
	p := rcRead(t, rc)
	sa, ok := p.(*packet.Suback)
	if !ok || sa.PacketID != pid || len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0] != packet.ReasonCode(qos) {
		t.Fatalf("subscribe %s: want SUBACK %d granting %d, got %#v", filter, pid, qos, p)
	}
}

// rcPublish sends a PUBLISH and, for QoS 1 and 2, completes its
// handshake, expecting nothing else in between.
func rcPublish(t testing.TB, rc *brokertest.RawClient, topicName string, qos byte, pid uint16, payload string) {
	t.Helper()
	rc.Write(&packet.Publish{Topic: topicName, QoS: qos, PacketID: pid, Payload: []byte(payload)})
	switch qos {
	case 1:
		rcExpectAck(t, rc, packet.PUBACK, pid)
	case 2:
		rcExpectAck(t, rc, packet.PUBREC, pid)
		rc.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: pid})
		rcExpectAck(t, rc, packet.PUBCOMP, pid)
	}
}

func rcExpectAck(t testing.TB, rc *brokertest.RawClient, kind packet.Type, pid uint16) {
	t.Helper()
	p := rcRead(t, rc)
	a, ok := p.(*packet.Ack)
	if !ok || a.Kind != kind || a.PacketID != pid || a.ReasonCode.IsError() {
		t.Fatalf("want %v %d, got %#v", kind, pid, p)
	}
}

// rcExpectPublish reads packets until a PUBLISH and acknowledges it (QoS
// 1: PUBACK; QoS 2: PUBREC). A PUBREL met on the way, for an earlier QoS 2
// delivery, is answered with PUBCOMP; any other packet fails the test.
func rcExpectPublish(t testing.TB, rc *brokertest.RawClient) *packet.Publish {
	t.Helper()
	for {
		p := rcRead(t, rc)
		if a, ok := p.(*packet.Ack); ok && a.Kind == packet.PUBREL {
			rc.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: a.PacketID})
			continue
		}
		pub, ok := p.(*packet.Publish)
		if !ok {
			t.Fatalf("want PUBLISH, got %#v", p)
		}
		switch pub.QoS {
		case 1:
			rc.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: pub.PacketID})
		case 2:
			rc.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: pub.PacketID})
		}
		return pub
	}
}

// rcPing sends PINGREQ and requires PINGRESP as the next packet: nothing
// was queued for the client before it.
func rcPing(t testing.TB, rc *brokertest.RawClient) {
	t.Helper()
	rc.Write(&packet.Pingreq{})
	if p := rcRead(t, rc); p.Type() != packet.PINGRESP {
		t.Fatalf("want PINGRESP, got %#v", p)
	}
}

// rcClosedByPeer reads from c until the peer closes it (EOF or reset) and
// returns what was read; it fails on timeout.
func rcClosedByPeer(t testing.TB, c net.Conn, timeout time.Duration) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(timeout))
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v (read %d bytes)", timeout, len(got))
			}
			return got
		}
	}
}
