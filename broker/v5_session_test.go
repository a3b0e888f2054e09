package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// v5WillConnect connects a raw client with a QoS 1 will on "will/<id>".
func v5WillConnect(t *testing.T, addr, id string, clean bool, willDelay, expiry uint32) *brokertest.RawClient {
	t.Helper()
	cp := &packet.Connect{ClientID: id, CleanStart: clean,
		WillFlag: true, WillQoS: 1, WillTopic: "will/" + id, WillPayload: []byte("gone:" + id)}
	cp.WillProperties.ContentType = "text/plain"
	cp.WillProperties.Set(packet.PropContentType)
	cp.WillProperties.User = []packet.UserProperty{{Key: "who", Value: id}}
	if willDelay > 0 {
		cp.WillProperties.WillDelay = willDelay
		cp.WillProperties.Set(packet.PropWillDelay)
	}
	if expiry > 0 {
		cp.Properties.SessionExpiry = expiry
		cp.Properties.Set(packet.PropSessionExpiry)
	}
	r, _ := v5RawConnect(t, addr, cp)
	return r
}

// TestV5WillTimerFiredLate: a will timer that fired as its client came
// back (stopped too late, its callback run after the reconnect) must not
// take the will of the new connection.
func TestV5WillTimerFiredLate(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	watcher := v5ConnectID(t, addr, "watcher")
	watcher.sub(t, "will/#", 1)
	r := v5WillConnect(t, addr, "late", true, 1, 30)
	r.Conn.Close() // the will waits for its delay
	brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 1 }, "will client offline")
	r = v5WillConnect(t, addr, "late", false, 0, 30) // back in time, with a new will
	s.FireStaleWillTimer("late")
	r.Conn.Close() // the new will goes out at once
	watcher.expect(t, "will/late", "gone:late")
	watcher.pub(t, "will/late", "sentinel", 1, false)
	watcher.expect(t, "will/late", "sentinel") // and only it: the first was cancelled
}

func TestV5Will(t *testing.T) {
	t.Parallel()
	const (
		abrupt     = iota // close the socket
		normal            // DISCONNECT 0x00
		withWill          // DISCONNECT 0x04
		reconnect         // close, then come back to the session in time
		cleanAgain        // close, then come back with a clean start
	)
	tests := []struct {
		name      string
		end       int
		willDelay uint32
		expiry    uint32
		wantWill  bool
		minDelay  time.Duration // the will must not come earlier
		maxDelay  time.Duration // nor later
	}{
		{name: "abrupt close", end: abrupt, wantWill: true, maxDelay: 2 * time.Second},
		{name: "normal disconnect", end: normal, wantWill: false},
		{name: "disconnect with will message", end: withWill, wantWill: true, maxDelay: 2 * time.Second},
		{name: "will delay", end: abrupt, willDelay: 1, expiry: 30, wantWill: true, minDelay: time.Second, maxDelay: 3 * time.Second},
		{name: "will delay and session expiry 0", end: abrupt, willDelay: 30, expiry: 0, wantWill: true, maxDelay: 2 * time.Second},
		{name: "session ends before the will delay", end: abrupt, willDelay: 30, expiry: 1, wantWill: true, minDelay: time.Second, maxDelay: 3 * time.Second},
		{name: "reconnect within the will delay", end: reconnect, willDelay: 1, expiry: 30, wantWill: false},
		{name: "clean start within the will delay", end: cleanAgain, willDelay: 30, expiry: 30, wantWill: true, maxDelay: 2 * time.Second},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			id := fmt.Sprint("willer-", i)
			watcher := v5ConnectID(t, addr, "watcher")
			watcher.sub(t, "will/#", 1)
			r := v5WillConnect(t, addr, id, true, tc.willDelay, tc.expiry)
			start := time.Now()
			switch tc.end {
			case abrupt, reconnect, cleanAgain:
				r.Conn.Close()
			case normal:
				r.Write(&packet.Disconnect{ReasonCode: packet.Success}) // [MQTT-3.1.2-10]
			case withWill:
				r.Write(&packet.Disconnect{ReasonCode: packet.DisconnectWithWill})
			}
			if tc.end == normal || tc.end == withWill {
				if got := r.ExpectClosed(v5Wait); len(got) != 0 {
					t.Errorf("got %d packets after DISCONNECT, want none", len(got))
				}
			}
			brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 1 }, "will client offline")
			offline := time.Now() // the will delay runs from about now
			switch tc.end {
			case reconnect:
				_, ack := v5RawConnect(t, addr, &packet.Connect{ClientID: id,
					Properties: v5Props(func(p *packet.Properties) { p.SessionExpiry = 30; p.Set(packet.PropSessionExpiry) })})
				if !ack.SessionPresent {
					t.Errorf("reconnect: got no session present")
				}
			case cleanAgain:
				v5RawConnect(t, addr, &packet.Connect{ClientID: id, CleanStart: true})
			}
			if !tc.wantWill {
				// Past any will delay, and after the session ended when it
				// ends: a sentinel comes first.
				if tc.willDelay > 0 {
					v5SleepUntil(offline.Add(time.Duration(tc.willDelay)*time.Second + 200*time.Millisecond))
				}
				if tc.expiry == 0 {
					brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsTotal == 1 }, "session ended")
				}
				watcher.pub(t, "will/"+id, "sentinel", 1, false)
				watcher.expect(t, "will/"+id, "sentinel")
				return
			}
			m := watcher.expect(t, "will/"+id, "gone:"+id)
			elapsed := time.Since(start)
			if elapsed < tc.minDelay || elapsed > tc.maxDelay {
				t.Errorf("will after %v, want between %v and %v", elapsed, tc.minDelay, tc.maxDelay)
			}
			if m.QoS != 1 || m.Retain {
				t.Errorf("will: got QoS %d retain %v, want QoS 1 retain false", m.QoS, m.Retain)
			}
			if m.Properties.ContentType != "text/plain" || len(m.Properties.User) != 1 || m.Properties.User[0].Value != id {
				t.Errorf("will properties: got content type %q, user %v", m.Properties.ContentType, m.Properties.User)
			}
			if m.Properties.MessageExpiry != nil {
				t.Errorf("will: got message expiry %d, want none", *m.Properties.MessageExpiry)
			}
		})
	}
}

func TestV5SessionPresent(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	steps := []struct {
		clean       bool
		expiry      uint32
		wantPresent bool
	}{
		{clean: false, expiry: 30, wantPresent: false}, // no session yet
		{clean: false, expiry: 30, wantPresent: true},
		{clean: true, expiry: 30, wantPresent: false}, // [MQTT-3.2.2-2]
		{clean: false, expiry: 0, wantPresent: true},  // [MQTT-3.2.2-3]
		{clean: false, expiry: 0, wantPresent: false}, // ended with expiry 0
	}
	for i, st := range steps {
		pc := v5Connect(t, addr, &paho.Connect{ClientID: "present", CleanStart: st.clean,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: v5U32(st.expiry)}})
		if pc.connack.SessionPresent != st.wantPresent {
			t.Errorf("step %d (clean %v): got session present %v, want %v", i, st.clean, pc.connack.SessionPresent, st.wantPresent)
		}
		if err := pc.Disconnect(&paho.Disconnect{}); err != nil {
			t.Fatal(err)
		}
		brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 0 }, "client offline")
	}
}

func TestV5SessionResume(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	cp := func(clean bool) *paho.Connect {
		return &paho.Connect{ClientID: "resume", CleanStart: clean,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: v5U32(30)}}
	}
	sub := v5Connect(t, addr, cp(true))
	sub.sub(t, "resume/#", 1)
	if err := sub.Disconnect(&paho.Disconnect{}); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected == 0 }, "subscriber offline")
	pub := v5ConnectID(t, addr, "pub")
	for i := range 3 {
		r := pub.publish(t, &paho.Publish{Topic: "resume/q", QoS: 1, Payload: fmt.Appendf(nil, "queued %d", i)})
		if r.ReasonCode != 0 {
			t.Errorf("publish to an offline session: got reason 0x%02x, want 0", r.ReasonCode)
		}
	}
	sub = v5Connect(t, addr, cp(false))
	if !sub.connack.SessionPresent {
		t.Fatalf("got no session present")
	}
	for i := range 3 {
		if m := sub.expect(t, "resume/q", fmt.Sprintf("queued %d", i)); m.QoS != 1 {
			t.Errorf("queued %d: got QoS %d, want 1", i, m.QoS)
		}
	}
	// The subscription is still there.
	pub.pub(t, "resume/live", "live", 1, false)
	sub.expect(t, "resume/live", "live")
}

func TestV5SessionExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// connect and disconnect session expiry; disconnect nil: unchanged
		connect    uint32
		disconnect *uint32
		minLife    time.Duration
	}{
		{name: "one second", connect: 1, minLife: time.Second},
		{name: "zero", connect: 0},
		{name: "set to zero on DISCONNECT", connect: 30, disconnect: v5U32(0)},
		{name: "shortened on DISCONNECT", connect: 30, disconnect: v5U32(1), minLife: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			pub := v5ConnectID(t, addr, "pub")
			sub := v5Connect(t, addr, &paho.Connect{ClientID: "expiring", CleanStart: true,
				Properties: &paho.ConnectProperties{SessionExpiryInterval: v5U32(tc.connect)}})
			sub.sub(t, "expiring/#", 1)
			start := time.Now()
			d := &paho.Disconnect{}
			if tc.disconnect != nil {
				d.Properties = &paho.DisconnectProperties{SessionExpiryInterval: tc.disconnect}
			}
			if err := sub.Disconnect(d); err != nil {
				t.Fatal(err)
			}
			// [MQTT-3.1.2-23]: the session lives for its interval.
			brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsTotal == 1 }, "session ended")
			if life := time.Since(start); life < tc.minLife {
				t.Errorf("session ended after %v, want at least %v", life, tc.minLife)
			}
			r := pub.publish(t, &paho.Publish{Topic: "expiring/x", QoS: 1, Payload: []byte("x")})
			if r.ReasonCode != byte(packet.NoMatchingSubscribers) {
				t.Errorf("publish after the session ended: got reason 0x%02x, want 0x10", r.ReasonCode)
			}
			sub = v5Connect(t, addr, &paho.Connect{ClientID: "expiring", CleanStart: false})
			if sub.connack.SessionPresent {
				t.Errorf("got session present after it expired")
			}
		})
	}

	t.Run("set on DISCONNECT after zero", func(t *testing.T) {
		t.Parallel()
		_, addr := brokertest.StartServer(t, broker.Options{})
		r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "zero", CleanStart: true})
		r.Write(&packet.Disconnect{Properties: v5Props(func(p *packet.Properties) {
			p.SessionExpiry = 10
			p.Set(packet.PropSessionExpiry)
		})})
		v5ExpectDisconnect(t, r, packet.ProtocolError) // [MQTT-3.14.2-2]
	})
}

func TestV5SessionTakeover(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	watcher := v5ConnectID(t, addr, "watcher")
	watcher.sub(t, "will/#", 1)
	old, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "taken", CleanStart: true,
		WillFlag: true, WillQoS: 1, WillTopic: "will/taken", WillPayload: []byte("taken over"),
		Properties: v5Props(func(p *packet.Properties) { p.SessionExpiry = 30; p.Set(packet.PropSessionExpiry) })})
	v5RawSubscribe(t, old, 1, 0, packet.SubOptions{Filter: "taken/#", QoS: 1})
	nw := v5Connect(t, addr, &paho.Connect{ClientID: "taken", CleanStart: false,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: v5U32(30)}})
	if !nw.connack.SessionPresent {
		t.Errorf("takeover: got no session present")
	}
	v5ExpectDisconnect(t, old, packet.SessionTakenOver) // [MQTT-3.1.4-3]
	// The old connection ended without DISCONNECT: its will (no delay) goes.
	watcher.expect(t, "will/taken", "taken over")
	pub := v5ConnectID(t, addr, "pub")
	pub.pub(t, "taken/x", "to the new one", 1, false)
	nw.expect(t, "taken/x", "to the new one")
}

func TestV5Redelivery(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pub := v5ConnectID(t, addr, "pub")
	connect := func(t *testing.T, id string, clean bool) (*brokertest.RawClient, *packet.Connack) {
		t.Helper()
		return v5RawConnect(t, addr, &packet.Connect{ClientID: id, CleanStart: clean,
			Properties: v5Props(func(p *packet.Properties) { p.SessionExpiry = 30; p.Set(packet.PropSessionExpiry) })})
	}
	// drop closes r and waits until the broker noticed.
	drop := func(t *testing.T, r *brokertest.RawClient, id string) {
		t.Helper()
		connected := s.Stats().ClientsConnected
		r.Conn.Close()
		brokertest.Eventually(t, v5Wait, func() bool { return s.Stats().ClientsConnected < connected }, id+" offline")
	}
	readPublish := func(t *testing.T, r *brokertest.RawClient, dup bool, pid uint16, payload string) *packet.Publish {
		t.Helper()
		p := v5Read[*packet.Publish](t, r)
		if p.Dup != dup || string(p.Payload) != payload || (pid != 0 && p.PacketID != pid) {
			t.Fatalf("got PUBLISH dup %v id %d %q, want dup %v id %d %q", p.Dup, p.PacketID, p.Payload, dup, pid, payload)
		}
		return p
	}

	t.Run("qos1", func(t *testing.T) {
		// Not parallel: drop counts connected clients.
		r, _ := connect(t, "redeliver1", true)
		v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "rd1/#", QoS: 1})
		pub.pub(t, "rd1/a", "unacked", 1, false)
		p := readPublish(t, r, false, 0, "unacked")
		drop(t, r, "redeliver1")
		r, ack := connect(t, "redeliver1", false)
		if !ack.SessionPresent {
			t.Fatalf("got no session present")
		}
		readPublish(t, r, true, p.PacketID, "unacked") // [MQTT-4.4.0-1]
		r.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
		pub.pub(t, "rd1/a", "next", 1, false)
		readPublish(t, r, false, 0, "next")
	})

	t.Run("qos2", func(t *testing.T) {
		r, _ := connect(t, "redeliver2", true)
		v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "rd2/#", QoS: 2})
		pub.pub(t, "rd2/a", "unrec", 2, false)
		p := readPublish(t, r, false, 0, "unrec")
		drop(t, r, "redeliver2")

		r, _ = connect(t, "redeliver2", false)
		readPublish(t, r, true, p.PacketID, "unrec")
		r.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
		if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREL || a.PacketID != p.PacketID {
			t.Fatalf("got %v %d, want PUBREL %d", a.Kind, a.PacketID, p.PacketID)
		}
		drop(t, r, "redeliver2")

		// [MQTT-4.4.0-1]: PUBREL again, not the PUBLISH.
		r, _ = connect(t, "redeliver2", false)
		if a := v5Read[*packet.Ack](t, r); a.Kind != packet.PUBREL || a.PacketID != p.PacketID {
			t.Fatalf("after reconnect: got %v %d, want PUBREL %d", a.Kind, a.PacketID, p.PacketID)
		}
		r.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p.PacketID})
		pub.pub(t, "rd2/a", "next", 2, false)
		readPublish(t, r, false, 0, "next")
	})
}

func TestV5ServerDisconnect(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	tests := []struct {
		name        string
		problemInfo *byte // Request Problem Information; nil: absent (1)
		send        packet.Packet
		want        packet.ReasonCode
	}{
		{name: "second CONNECT", send: &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 5, ClientID: "again"}, want: packet.ProtocolError},
		{name: "AUTH", send: &packet.Auth{ReasonCode: packet.ReAuthenticate, Properties: v5Props(func(p *packet.Properties) {
			p.AuthMethod = "SCRAM-SHA-1"
			p.Set(packet.PropAuthMethod)
		})}, want: packet.ProtocolError},
		{name: "AUTH without method", send: &packet.Auth{}, want: packet.ProtocolError},
		{name: "no local on a shared subscription", send: &packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{
			{Filter: "$share/g/t", QoS: 1, NoLocal: true}}}, want: packet.ProtocolError}, // [MQTT-3.8.3-4]
		{name: "subscription identifier from a client", send: &packet.Publish{Topic: "t", QoS: 1, PacketID: 1,
			Properties: v5Props(func(p *packet.Properties) { p.SubscriptionIDs = []uint32{1} })}, want: packet.ProtocolError}, // [MQTT-3.3.4-6]
		{name: "second CONNECT without problem information", problemInfo: v5Ptr[byte](0),
			send: &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 5, ClientID: "again"}, want: packet.ProtocolError},
		{name: "AUTH without problem information", problemInfo: v5Ptr[byte](0), send: &packet.Auth{}, want: packet.ProtocolError},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cp := &packet.Connect{ClientID: fmt.Sprint("protocol-", i), CleanStart: true}
			if tc.problemInfo != nil {
				cp.Properties.RequestProblemInfo = *tc.problemInfo
				cp.Properties.Set(packet.PropRequestProblemInfo)
			}
			r, _ := v5RawConnect(t, addr, cp)
			r.Write(tc.send)
			d := v5ExpectDisconnect(t, r, tc.want)
			// [MQTT-3.1.2-29]: the client asked for no reason strings.
			wantReason := tc.problemInfo == nil || *tc.problemInfo == 1
			if got := d.Properties.Has(packet.PropReasonString); got != wantReason {
				t.Errorf("reason string present: got %v (%q), want %v", got, d.Properties.ReasonString, wantReason)
			}
		})
	}
}

func TestV5Shutdown(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pc := v5ConnectID(t, addr, "paho")
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "raw", CleanStart: true})
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	v5ExpectDisconnect(t, r, packet.ServerShuttingDown)
	if d := pc.disconnected(t); d.ReasonCode != byte(packet.ServerShuttingDown) {
		t.Errorf("paho: got DISCONNECT 0x%02x, want 0x8b", d.ReasonCode)
	}
}

// TestV5WillMessageExpiry: the will's message expiry interval runs from the
// will's publication, not from the CONNECT that carried it (3.1.3.2.4).
func TestV5WillMessageExpiry(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	watcher := v5ConnectID(t, addr, "watcher")
	watcher.sub(t, "will/#", 1)
	cp := &packet.Connect{ClientID: "expiring-will", CleanStart: true,
		WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: "will/expiring", WillPayload: []byte("bye")}
	cp.WillProperties.MessageExpiry = 1
	cp.WillProperties.Set(packet.PropMessageExpiry)
	r, _ := v5RawConnect(t, addr, cp)
	connected := time.Now()
	// Connected for longer than the will's expiry interval.
	v5SleepUntil(connected.Add(1100 * time.Millisecond))
	r.Conn.Close()
	m := watcher.expect(t, "will/expiring", "bye")
	if e := m.Properties.MessageExpiry; e == nil || *e != 1 {
		t.Errorf("will message expiry: got %v, want 1", v5Deref(e))
	}
	// Still retained right after its publication.
	late := v5ConnectID(t, addr, "late")
	late.sub(t, "will/expiring", 1)
	if m := late.expect(t, "will/expiring", "bye"); !m.Retain {
		t.Errorf("retained will: got retain false")
	}
}

// TestV5DisconnectWhileWriting: a server DISCONNECT to a client whose
// output is still being written goes after that output, it is not lost.
func TestV5DisconnectWhileWriting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(t *testing.T, s *broker.Server, addr string, r *brokertest.RawClient)
		want packet.ReasonCode
	}{
		{"protocol error", func(t *testing.T, _ *broker.Server, _ string, r *brokertest.RawClient) {
			r.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: 5, ClientID: "again"})
		}, packet.ProtocolError},
		{"takeover", func(t *testing.T, _ *broker.Server, addr string, _ *brokertest.RawClient) {
			v5RawConnect(t, addr, &packet.Connect{ClientID: "busy", CleanStart: true})
		}, packet.SessionTakenOver},
		{"shutdown", func(t *testing.T, s *broker.Server, _ string, _ *brokertest.RawClient) {
			// In the background: Shutdown waits for the output that r has
			// yet to read.
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
				defer cancel()
				done <- s.Shutdown(ctx)
			}()
			t.Cleanup(func() {
				if err := <-done; err != nil {
					t.Errorf("shutdown: %v", err)
				}
			})
		}, packet.ServerShuttingDown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "busy", CleanStart: true})
			v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "flood", QoS: 0})
			pub := v5ConnectID(t, addr, "flooder")
			payload := make([]byte, 4096)
			// r does not read: the broker's writes back up.
			for range 1000 {
				pub.publish(t, &paho.Publish{Topic: "flood", Payload: payload})
			}
			// Shutdown would wait for the paho publisher's connection too;
			// nothing else is published from now on.
			tc.end(t, s, addr, r)
			got := r.ExpectClosed(v5Wait)
			if len(got) == 0 {
				t.Fatalf("connection closed without any packet, want messages then DISCONNECT 0x%02x", byte(tc.want))
			}
			switch d := got[len(got)-1].(type) {
			case *packet.Disconnect:
				if d.ReasonCode != tc.want {
					t.Fatalf("DISCONNECT after %d packets: got reason 0x%02x, want 0x%02x", len(got)-1, byte(d.ReasonCode), byte(tc.want))
				}
			default:
				t.Fatalf("last of %d packets: got %v, want DISCONNECT 0x%02x", len(got), d.Type(), byte(tc.want))
			}
		})
	}
}

// TestV5ShutdownStuckClient: Shutdown does not wait long for a client that
// stopped reading while the broker was writing to it.
func TestV5ShutdownStuckClient(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "stuck", CleanStart: true})
	v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "flood", QoS: 0})
	pub := v5ConnectID(t, addr, "flooder")
	payload := make([]byte, 16<<10)
	for range 1000 { // far more than the socket buffers hold
		pub.publish(t, &paho.Publish{Topic: "flood", Payload: payload})
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a client that does not read: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v, want about a second at most", d)
	}
}
