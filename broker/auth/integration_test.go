package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

const readTimeout = 3 * time.Second

func ptr[T any](v T) *T { return &v }

var testRoles = []auth.Role{
	{Name: "sensors", Allow: []auth.Rule{{Action: auth.Publish, Filter: "sensors/%c/#"}, {Action: auth.Subscribe, Filter: "cmd/%c/+"}}},
	{Name: "operator",
		Allow: []auth.Rule{{Action: auth.Subscribe, Filter: "#"}, {Action: auth.Both, Filter: "home/%u/#"}},
		Deny:  []auth.Rule{{Action: auth.Subscribe, Filter: "secrets/#"}}},
	{Name: "writer", Allow: []auth.Rule{{Action: auth.Publish, Filter: "#"}}},
}

func newAuthorizer(t *testing.T, roles []auth.Role) *auth.Authorizer {
	t.Helper()
	pw := auth.NewPasswords()
	for u, p := range map[string]string{"alice": "pw-a", "s1": "pw-s", "w": "pw-w"} {
		if err := pw.SetCheap(u, p); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := auth.NewPolicy(roles, map[string][]string{
		"alice": {"operator"}, "s1": {"sensors"}, "w": {"writer"},
	}, []string{"sensors"})
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Authorizer{Passwords: pw, Policy: pol}
}

// start runs a broker whose listener allows anonymous clients or not.
func start(t *testing.T, a broker.Authorizer, anon bool) (*broker.Server, string) {
	return brokertest.StartServer(t, broker.Options{
		Auth:        a,
		Listeners:   []broker.Listener{{Address: "127.0.0.1:0", AllowAnonymous: ptr(anon)}},
		SysInterval: -1,
	})
}

type creds struct{ user, pass string }

// dial connects with creds (nil: anonymous) and returns the client and
// the CONNACK code.
func dial(t *testing.T, addr string, v byte, id string, c *creds) (*brokertest.RawClient, packet.ReasonCode) {
	t.Helper()
	r := brokertest.Dial(t, addr, v)
	p := &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: v, CleanStart: true, KeepAlive: 30, ClientID: id}
	if c != nil {
		p.UsernameFlag, p.Username = true, c.user
		p.PasswordFlag, p.Password = true, []byte(c.pass)
	}
	r.Write(p)
	pk, err := r.Read(10 * time.Second)
	if err != nil {
		t.Fatalf("%s: read CONNACK: %v", id, err)
	}
	ack, ok := pk.(*packet.Connack)
	if !ok {
		t.Fatalf("%s: want CONNACK, got %#v", id, pk)
	}
	return r, ack.ReasonCode
}

func mustDial(t *testing.T, addr string, v byte, id string, c *creds) *brokertest.RawClient {
	t.Helper()
	r, code := dial(t, addr, v, id, c)
	if code != 0 {
		t.Fatalf("%s: CONNACK code %#x", id, code)
	}
	return r
}

func read(t *testing.T, r *brokertest.RawClient) packet.Packet {
	t.Helper()
	p, err := r.Read(readTimeout)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return p
}

func subscribe(t *testing.T, r *brokertest.RawClient, filters ...string) []packet.ReasonCode {
	t.Helper()
	s := &packet.Subscribe{PacketID: 1}
	for _, f := range filters {
		s.Subscriptions = append(s.Subscriptions, packet.SubOptions{Filter: f, QoS: 1})
	}
	r.Write(s)
	ack, ok := read(t, r).(*packet.Suback)
	if !ok {
		t.Fatal("want SUBACK")
	}
	return ack.ReasonCodes
}

// publish sends a QoS 1 PUBLISH and returns the PUBACK code.
func publish(t *testing.T, r *brokertest.RawClient, topic string) packet.ReasonCode {
	t.Helper()
	r.Write(&packet.Publish{QoS: 1, PacketID: 9, Topic: topic, Payload: []byte("x")})
	ack, ok := read(t, r).(*packet.Ack)
	if !ok || ack.Kind != packet.PUBACK {
		t.Fatalf("publish %s: want PUBACK", topic)
	}
	return ack.ReasonCode
}

// nextTopic reads the next PUBLISH (acknowledging it) and returns its topic.
func nextTopic(t *testing.T, r *brokertest.RawClient) string {
	t.Helper()
	p, ok := read(t, r).(*packet.Publish)
	if !ok {
		t.Fatal("want PUBLISH")
	}
	if p.QoS > 0 {
		r.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
	}
	return p.Topic
}

func TestConnectCodes(t *testing.T) {
	t.Parallel()
	_, addr := start(t, newAuthorizer(t, testRoles), false)
	for _, v := range []byte{packet.Version311, packet.Version5} {
		if _, code := dial(t, addr, v, "ok", &creds{"alice", "pw-a"}); code != 0 {
			t.Errorf("v%d good password: code %#x", v, code)
		}
		want := packet.NotAuthorized
		if v != packet.Version5 {
			want = packet.V3NotAuthorized
		}
		if _, code := dial(t, addr, v, "anon", nil); code != want {
			t.Errorf("v%d anonymous on a closed listener: code %#x, want %#x", v, code, want)
		}
	}
}

func TestBadPasswordAndBackoff(t *testing.T) {
	t.Parallel()
	_, addr := start(t, newAuthorizer(t, testRoles), false)
	_, code := dial(t, addr, packet.Version5, "x", &creds{"alice", "wrong"})
	if code != packet.BadUsernameOrPassword {
		t.Fatalf("v5 bad password: code %#x", code)
	}
	t0 := time.Now()
	_, code = dial(t, addr, packet.Version311, "y", &creds{"nobody", "pw-a"})
	if code != packet.V3BadUsernamePassword {
		t.Fatalf("v3 unknown user: code %#x", code)
	}
	if d := time.Since(t0); d < 900*time.Millisecond {
		t.Errorf("second attempt after a failure answered in %v, want a back-off of about 1s", d)
	}
}

func TestPublishSubscribe(t *testing.T) {
	t.Parallel()
	for _, v := range []byte{packet.Version311, packet.Version5} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			t.Parallel()
			// A broker each: alice's "#" would see the other version's
			// allowed publishes.
			_, addr := start(t, newAuthorizer(t, testRoles), true)
			deny := packet.NotAuthorized
			if v != packet.Version5 {
				deny = packet.Success // 3.1.1: acknowledged, dropped
			}
			subDeny := packet.NotAuthorized
			if v != packet.Version5 {
				subDeny = packet.V3SubackFailure
			}
			sfx := fmt.Sprint(v)
			alice := mustDial(t, addr, v, "alice"+sfx, &creds{"alice", "pw-a"})
			s1 := mustDial(t, addr, v, "dev"+sfx, &creds{"s1", "pw-s"})
			w := mustDial(t, addr, v, "w"+sfx, &creds{"w", "pw-w"})
			anon := mustDial(t, addr, v, "anon"+sfx, nil)
			alice2 := mustDial(t, addr, v, "alice2"+sfx, &creds{"alice", "pw-a"})

			got := subscribe(t, alice, "#", "secrets/#", "$share/g/secrets/+", "sensors/+/temp")
			want := []packet.ReasonCode{1, subDeny, subDeny, 1}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("alice SUBACK %v, want %v", got, want)
			}
			got = subscribe(t, s1, "cmd/dev"+sfx+"/+", "cmd/#", "cmd/other/+")
			want = []packet.ReasonCode{1, subDeny, subDeny}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("s1 SUBACK %v, want %v", got, want)
			}

			pubs := []struct {
				who   *brokertest.RawClient
				name  string
				topic string
				ok    bool
			}{
				{s1, "s1", "sensors/dev" + sfx + "/temp", true},   // %c
				{s1, "s1", "sensors/other/temp", false},           // another %c
				{s1, "s1", "home/s1/x", false},                    // no such role
				{alice2, "alice", "home/alice/lamp", true},        // %u
				{alice2, "alice", "home/bob/lamp", false},         // another %u
				{anon, "anon", "sensors/anon" + sfx + "/t", true}, // anonymous_roles
				{anon, "anon", "sensors/x/t", false},
				{w, "w", "secrets/" + sfx, true},
				{w, "w", "cmd/dev" + sfx + "/reboot", true},
			}
			for _, p := range pubs {
				code := publish(t, p.who, p.topic)
				if wantCode := map[bool]packet.ReasonCode{true: 0, false: deny}[p.ok]; code != wantCode {
					t.Errorf("%s publish %s: PUBACK %#x, want %#x", p.name, p.topic, code, wantCode)
				}
			}
			// alice's "#" never carries secrets/..., nor denied publishes.
			var topics []string
			for range 4 {
				topics = append(topics, nextTopic(t, alice))
			}
			wantTopics := fmt.Sprint([]string{"sensors/dev" + sfx + "/temp", "home/alice/lamp", "sensors/anon" + sfx + "/t", "cmd/dev" + sfx + "/reboot"})
			if fmt.Sprint(topics) != wantTopics {
				t.Errorf("alice received %v, want %v", topics, wantTopics)
			}
			if tp := nextTopic(t, s1); tp != "cmd/dev"+sfx+"/reboot" {
				t.Errorf("s1 received %s", tp)
			}
		})
	}
}

func TestWillNotAuthorized(t *testing.T) {
	t.Parallel()
	_, addr := start(t, newAuthorizer(t, testRoles), false)
	r := brokertest.Dial(t, addr, packet.Version5)
	r.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version5, CleanStart: true, ClientID: "dev1",
		UsernameFlag: true, Username: "s1", PasswordFlag: true, Password: []byte("pw-s"),
		WillFlag: true, WillTopic: "cmd/all", WillPayload: []byte("gone")})
	if ack, ok := read(t, r).(*packet.Connack); !ok || ack.ReasonCode != packet.NotAuthorized {
		t.Fatalf("will on a forbidden topic: want CONNACK 0x87")
	}
}

func TestRetainedFiltered(t *testing.T) {
	t.Parallel()
	_, addr := start(t, newAuthorizer(t, testRoles), false)
	w := mustDial(t, addr, packet.Version5, "w", &creds{"w", "pw-w"})
	for _, tp := range []string{"secrets/r", "open/r"} {
		w.Write(&packet.Publish{QoS: 1, PacketID: 7, Retain: true, Topic: tp, Payload: []byte("x")})
		read(t, w)
	}
	alice := mustDial(t, addr, packet.Version5, "alice", &creds{"alice", "pw-a"})
	subscribe(t, alice, "#")
	if tp := nextTopic(t, alice); tp != "open/r" {
		t.Errorf("retained: got %s, want only open/r", tp)
	}
	if p, err := alice.Read(200 * time.Millisecond); err == nil {
		t.Errorf("retained: unexpected %#v", p)
	}
}

// TestReload swaps the Authorizer: the connection stays, and the
// subscription stops receiving what the new roles deny.
func TestReload(t *testing.T) {
	t.Parallel()
	srv, addr := start(t, newAuthorizer(t, testRoles), false)
	alice := mustDial(t, addr, packet.Version5, "alice", &creds{"alice", "pw-a"})
	w := mustDial(t, addr, packet.Version311, "w", &creds{"w", "pw-w"})
	subscribe(t, alice, "#")
	publish(t, w, "plant/1")
	if tp := nextTopic(t, alice); tp != "plant/1" {
		t.Fatalf("before reload: got %s", tp)
	}
	roles := append([]auth.Role(nil), testRoles...)
	roles[1].Deny = append(roles[1].Deny[:len(roles[1].Deny):len(roles[1].Deny)], auth.Rule{Action: auth.Subscribe, Filter: "plant/#"})
	srv.SetAuthorizer(newAuthorizer(t, roles))
	publish(t, w, "plant/2")
	publish(t, w, "other/1")
	if tp := nextTopic(t, alice); tp != "other/1" {
		t.Errorf("after reload: got %s, want other/1 (plant/2 denied)", tp)
	}
	alice.Write(&packet.Pingreq{})
	if _, ok := read(t, alice).(*packet.Pingresp); !ok {
		t.Error("connection did not survive the reload")
	}
}

// TestDeniedQoS2: v5 ends the exchange with PUBREC 0x87; a 3.1.1 client
// gets PUBREC and PUBCOMP as if the message had been taken.
func TestDeniedQoS2(t *testing.T) {
	t.Parallel()
	_, addr := start(t, newAuthorizer(t, testRoles), false)
	for _, v := range []byte{packet.Version311, packet.Version5} {
		r := mustDial(t, addr, v, fmt.Sprint("q2-", v), &creds{"s1", "pw-s"})
		r.Write(&packet.Publish{QoS: 2, PacketID: 5, Topic: "forbidden", Payload: []byte("x")})
		rec, ok := read(t, r).(*packet.Ack)
		if !ok || rec.Kind != packet.PUBREC {
			t.Fatalf("v%d: want PUBREC", v)
		}
		if v == packet.Version5 {
			if rec.ReasonCode != packet.NotAuthorized {
				t.Errorf("v5 PUBREC code %#x, want 0x87", rec.ReasonCode)
			}
			continue
		}
		r.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 5})
		if comp, ok := read(t, r).(*packet.Ack); !ok || comp.Kind != packet.PUBCOMP {
			t.Errorf("v3: want PUBCOMP after PUBREL")
		}
	}
}
