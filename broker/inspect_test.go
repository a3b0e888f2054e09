package broker_test

// Tests of the inspection API (inspect.go): Sessions, Disconnect,
// Retained, DeleteRetained and SetPublishObserver, against a real broker
// and real clients.

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/persist"
	"github.com/edgemq/edgemq/broker/topic"
	"github.com/edgemq/edgemq/internal/kv"
)

// inprocClient returns a new in-process client, closed with the test.
func inprocClient(t *testing.T, s *broker.Server, id string) *broker.Client {
	t.Helper()
	c, err := s.NewClient(id)
	if err != nil {
		t.Fatalf("new client %q: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// inprocPub publishes from c and fails the test on error.
func inprocPub(t *testing.T, c *broker.Client, topicName, payload string, qos byte, retain bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), v5Wait)
	defer cancel()
	if err := c.Publish(ctx, topicName, []byte(payload), qos, retain); err != nil {
		t.Fatalf("publish %q: %v", topicName, err)
	}
}

// sessionOf returns the SessionInfo of id, or false.
func sessionOf(s *broker.Server, id string) (broker.SessionInfo, bool) {
	for _, si := range s.Sessions() {
		if si.ClientID == id {
			return si, true
		}
	}
	return broker.SessionInfo{}, false
}

func TestSessions(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	before := time.Now()

	// A connected MQTT 5 client with a username and three kinds of
	// subscription.
	alice, _ := v5RawConnect(t, addr, &packet.Connect{
		ClientID: "alice", CleanStart: true, KeepAlive: 30,
		Username: "alice-user", UsernameFlag: true,
	})
	v5RawSubscribe(t, alice, 1, 0,
		packet.SubOptions{Filter: "cmd/alice/#", QoS: 1, NoLocal: true},
		packet.SubOptions{Filter: "$share/grp/jobs/+", QoS: 2},
		packet.SubOptions{Filter: "state/+", QoS: 0, RetainAsPublished: true, RetainHandling: 2},
	)

	// A persistent MQTT 3.1.1 session that went offline with messages
	// queued for it.
	bob := brokertest.Dial(t, addr, packet.Version311)
	bob.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, ClientID: "bob", KeepAlive: 30})
	if ack := rcRead(t, bob); ack.(*packet.Connack).ReasonCode != 0 {
		t.Fatalf("bob: CONNACK %+v", ack)
	}
	bobAddr := bob.Conn.LocalAddr().String()
	rcSubscribe(t, bob, 1, "q/#", 1)
	bob.Write(&packet.Disconnect{})
	rcClosedByPeer(t, bob.Conn, v5Wait)
	brokertest.Eventually(t, v5Wait, func() bool {
		si, ok := sessionOf(s, "bob")
		return ok && !si.Connected
	}, "bob offline")

	// An in-process client, which also publishes what bob misses.
	gw := inprocClient(t, s, "gw")
	if err := gw.Subscribe("dev/#", 1, func(*broker.Message) {}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		inprocPub(t, gw, "q/1", "x", 1, false)
	}
	after := time.Now()

	got := s.Sessions()
	var ids []string
	for _, si := range got {
		ids = append(ids, si.ClientID)
	}
	if want := []string{"alice", "bob", "gw"}; !slices.Equal(ids, want) {
		t.Fatalf("Sessions: got ids %q, want %q", ids, want)
	}
	want := []broker.SessionInfo{{
		ClientID: "alice", Username: "alice-user", Address: alice.Conn.LocalAddr().String(),
		Protocol: 5, Connected: true, CleanStart: true,
		Subscriptions: []broker.SubscriptionInfo{
			{Filter: "$share/grp/jobs/+", QoS: 2, Shared: "grp"},
			{Filter: "cmd/alice/#", QoS: 1, NoLocal: true},
			{Filter: "state/+", QoS: 0, RetainAsPublished: true, RetainHandling: 2},
		},
	}, {
		ClientID: "bob", Address: bobAddr, Protocol: 4, Connected: false,
		SessionExpiry: broker.SessionNeverExpires,
		Subscriptions: []broker.SubscriptionInfo{{Filter: "q/#", QoS: 1}},
		Queued:        3,
	}, {
		ClientID: "gw", InProcess: true, Connected: true, CleanStart: true,
		Subscriptions: []broker.SubscriptionInfo{{Filter: "dev/#", QoS: 1}},
	}}
	for i, w := range want {
		t.Run(w.ClientID, func(t *testing.T) {
			g := got[i]
			if g.ConnectedAt.Before(before) || g.ConnectedAt.After(after) {
				t.Errorf("ConnectedAt %v, want between %v and %v", g.ConnectedAt, before, after)
			}
			g.ConnectedAt = time.Time{}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got  %+v\nwant %+v", g, w)
			}
		})
	}
}

// TestSessionsInflight: a subscriber that does not acknowledge shows its
// unacknowledged messages in Inflight and the rest in Queued.
func TestSessionsInflight(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{MaxInflight: 2})
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "slow", CleanStart: true, KeepAlive: 30})
	v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "t", QoS: 1})
	gw := inprocClient(t, s, "pub")
	for range 5 {
		inprocPub(t, gw, "t", "x", 1, false)
	}
	brokertest.Eventually(t, v5Wait, func() bool {
		si, _ := sessionOf(s, "slow")
		return si.Inflight == 2 && si.Queued == 3
	}, "2 in flight, 3 queued")
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	watcher := inprocClient(t, s, "watcher")
	wills := make(chan *broker.Message, 4)
	if err := watcher.Subscribe("will/#", 1, func(m *broker.Message) { wills <- m }); err != nil {
		t.Fatal(err)
	}

	t.Run("v5_with_will", func(t *testing.T) {
		pc := v5Connect(t, addr, &paho.Connect{
			ClientID: "victim", CleanStart: true, KeepAlive: 30,
			WillMessage: &paho.WillMessage{Topic: "will/victim", Payload: []byte("gone"), QoS: 1},
		})
		if err := s.Disconnect("victim"); err != nil {
			t.Fatalf("Disconnect: %v", err)
		}
		if d := pc.disconnected(t); d.ReasonCode != byte(packet.AdministrativeAction) {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x98", d.ReasonCode)
		}
		select {
		case m := <-wills:
			if m.Topic != "will/victim" || string(m.Payload) != "gone" {
				t.Fatalf("will: got %q on %q", m.Payload, m.Topic)
			}
		case <-time.After(v5Wait):
			t.Fatal("will not published")
		}
		// Clean start, no expiry: the session ends with the connection.
		brokertest.Eventually(t, v5Wait, func() bool {
			_, ok := sessionOf(s, "victim")
			return !ok
		}, "victim's session ended")
	})

	t.Run("v5_session_kept", func(t *testing.T) {
		r, _ := v5RawConnect(t, addr, &packet.Connect{
			ClientID: "keeper", CleanStart: true, KeepAlive: 30,
			Properties: sessionExpiry(3600),
		})
		if err := s.Disconnect("keeper"); err != nil {
			t.Fatalf("Disconnect: %v", err)
		}
		v5ExpectDisconnect(t, r, packet.AdministrativeAction)
		// The session outlives the connection, as its expiry says.
		brokertest.Eventually(t, v5Wait, func() bool {
			si, ok := sessionOf(s, "keeper")
			return ok && !si.Connected && si.SessionExpiry == time.Hour
		}, "keeper's session kept offline")
	})

	t.Run("v311_closed", func(t *testing.T) {
		rc := rcConnect(t, addr, packet.Version311, "old")
		if err := s.Disconnect("old"); err != nil {
			t.Fatalf("Disconnect: %v", err)
		}
		if b := rcClosedByPeer(t, rc.Conn, v5Wait); len(b) != 0 {
			t.Fatalf("got %d bytes before the close, want none", len(b))
		}
	})

	for _, tc := range []struct {
		name, id string
		want     error
	}{
		{"unknown", "nobody", broker.ErrNoSuchClient},
		{"in_process", "watcher", broker.ErrInProcess},
		{"offline", "offline", broker.ErrNoSuchClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.id == "offline" {
				r, _ := v5RawConnect(t, addr, &packet.Connect{
					ClientID: "offline", CleanStart: true, KeepAlive: 30,
					Properties: sessionExpiry(3600),
				})
				r.Write(&packet.Disconnect{})
				brokertest.Eventually(t, v5Wait, func() bool {
					si, ok := sessionOf(s, "offline")
					return ok && !si.Connected
				}, "offline session")
			}
			err := s.Disconnect(tc.id)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Disconnect(%q): got %v, want %v", tc.id, err, tc.want)
			}
		})
	}
}

// sessionExpiry returns CONNECT properties with a session expiry interval.
func sessionExpiry(sec uint32) packet.Properties {
	var p packet.Properties
	p.SessionExpiry = sec
	p.Set(packet.PropSessionExpiry)
	return p
}

func TestRetained(t *testing.T) {
	t.Parallel()
	s, _ := brokertest.StartServer(t, broker.Options{})
	pub := inprocClient(t, s, "pub")
	for _, tn := range []string{"b/1", "a/2", "a/b/3", "a/1", "$SYS/edge/test", "gone"} {
		inprocPub(t, pub, tn, "v:"+tn, 1, true)
	}
	inprocPub(t, pub, "gone", "", 1, true) // deleted by an empty retained publish

	for _, tc := range []struct {
		filter string
		limit  int
		want   []string
		total  int
		err    error
	}{
		{filter: "#", want: []string{"a/1", "a/2", "a/b/3", "b/1"}, total: 4},
		{filter: "#", limit: 2, want: []string{"a/1", "a/2"}, total: 4},
		{filter: "#", limit: 10, want: []string{"a/1", "a/2", "a/b/3", "b/1"}, total: 4},
		{filter: "a/+", want: []string{"a/1", "a/2"}, total: 2},
		{filter: "+/1", want: []string{"a/1", "b/1"}, total: 2},
		{filter: "+/#", want: []string{"a/1", "a/2", "a/b/3", "b/1"}, total: 4},
		{filter: "a/b/3", want: []string{"a/b/3"}, total: 1},
		{filter: "$SYS/#", want: []string{"$SYS/edge/test"}, total: 1},
		{filter: "+/edge/test", total: 0},
		{filter: "nothing/#", total: 0},
		{filter: "a/#/b", err: topic.ErrInvalidFilter},
		{filter: "", err: topic.ErrInvalidFilter},
		{filter: "$share/g/#", err: topic.ErrInvalidShare},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			msgs, total, err := s.Retained(tc.filter, tc.limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Retained(%q): error %v, want %v", tc.filter, err, tc.err)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, m.Topic)
				if string(m.Payload) != "v:"+m.Topic || !m.Retain {
					t.Errorf("%s: payload %q retain %v", m.Topic, m.Payload, m.Retain)
				}
			}
			if !slices.Equal(got, tc.want) || total != tc.total {
				t.Fatalf("Retained(%q, %d): got %q total %d, want %q total %d",
					tc.filter, tc.limit, got, total, tc.want, tc.total)
			}
		})
	}
}

func TestDeleteRetained(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	pub := inprocClient(t, s, "pub")
	var mu sync.Mutex
	var live []string
	if err := pub.Subscribe("d/#", 0, func(m *broker.Message) {
		mu.Lock()
		live = append(live, m.Topic+"="+string(m.Payload))
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	inprocPub(t, pub, "d/1", "one", 1, true)
	inprocPub(t, pub, "d/2", "two", 1, true)

	if err := s.DeleteRetained("d/1"); err != nil {
		t.Fatalf("DeleteRetained: %v", err)
	}
	for _, tc := range []struct {
		topic string
		want  error
	}{
		{"d/1", broker.ErrNoRetained},
		{"never", broker.ErrNoRetained},
		{"d/+", topic.ErrInvalidName},
		{"", topic.ErrInvalidName},
	} {
		if err := s.DeleteRetained(tc.topic); !errors.Is(err, tc.want) {
			t.Errorf("DeleteRetained(%q): got %v, want %v", tc.topic, err, tc.want)
		}
	}

	// A new subscriber gets d/2 only.
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "late", CleanStart: true, KeepAlive: 30})
	v5RawSubscribe(t, r, 1, 0, packet.SubOptions{Filter: "d/#", QoS: 1})
	p := v5Read[*packet.Publish](t, r)
	if p.Topic != "d/2" || !p.Retain {
		t.Fatalf("got %s, want retained d/2", v5Describe(p))
	}
	r.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
	v5Ping(t, r)

	// Live subscribers are not sent anything by the deletion.
	inprocPub(t, pub, "d/end", "end", 0, false)
	brokertest.Eventually(t, v5Wait, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(live, "d/end=end")
	}, "sentinel delivered")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"d/1=one", "d/2=two", "d/end=end"}; !slices.Equal(live, want) {
		t.Fatalf("live deliveries %q, want %q", live, want)
	}
}

// TestDeleteRetainedRestart: the deletion is in the Store, committed when
// DeleteRetained returns, and holds after a restart.
func TestDeleteRetainedRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func() (*broker.Server, *persist.Store, func()) {
		db, err := kv.Open(dir, kv.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		st, err := persist.New(db, brokertest.TestLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := brokertest.StartServer(t, broker.Options{Store: st})
		return s, st, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Error(err)
			}
			if err := st.Close(); err != nil {
				t.Error(err)
			}
			if err := db.Close(ctx); err != nil {
				t.Error(err)
			}
		}
	}
	topics := func(s *broker.Server) []string {
		msgs, _, err := s.Retained("#", 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.Topic)
		}
		return out
	}

	s, st, stop := open()
	pub := inprocClient(t, s, "pub")
	inprocPub(t, pub, "r/keep", "k", 1, true)
	inprocPub(t, pub, "r/del", "d", 1, true)
	if err := s.DeleteRetained("r/del"); err != nil {
		t.Fatalf("DeleteRetained: %v", err)
	}
	if st.Uncommitted() {
		t.Error("DeleteRetained returned before its deletion was committed")
	}
	if got, want := topics(s), []string{"r/keep"}; !slices.Equal(got, want) {
		t.Fatalf("before restart: %q, want %q", got, want)
	}
	stop()

	s, _, stop = open()
	defer stop()
	if got, want := topics(s), []string{"r/keep"}; !slices.Equal(got, want) {
		t.Fatalf("after restart: %q, want %q", got, want)
	}
}

// denyAuthz allows everything but publishing under "denied/".
type denyAuthz struct{}

func (denyAuthz) Authenticate(broker.ClientInfo, []byte, bool) error { return nil }
func (denyAuthz) CanPublish(_ broker.ClientInfo, t string) bool {
	return !strings.HasPrefix(t, "denied/")
}
func (denyAuthz) CanSubscribe(broker.ClientInfo, string) bool { return true }
func (denyAuthz) CanRead(broker.ClientInfo, string) bool      { return true }

func TestPublishObserver(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{Auth: denyAuthz{}})
	var mu sync.Mutex
	var seen []string
	s.SetPublishObserver(func(m *broker.Message) {
		mu.Lock()
		seen = append(seen, m.ClientID+":"+m.Topic+"="+string(m.Payload))
		mu.Unlock()
	})
	seenNow := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}

	gw := inprocClient(t, s, "gw")
	got := make(chan string, 16)
	if err := gw.Subscribe("#", 0, func(m *broker.Message) { got <- m.Topic }); err != nil {
		t.Fatal(err)
	}
	r, _ := v5RawConnect(t, addr, &packet.Connect{ClientID: "net", CleanStart: true, KeepAlive: 30})
	r.Write(&packet.Publish{Topic: "o/qos0", Payload: []byte("a")})
	r.Write(&packet.Publish{Topic: "denied/x", Payload: []byte("no"), QoS: 1, PacketID: 1})
	if a := v5Read[*packet.Ack](t, r); a.ReasonCode != packet.NotAuthorized {
		t.Fatalf("denied publish: got %s", v5Describe(a))
	}
	r.Write(&packet.Publish{Topic: "o/qos1", Payload: []byte("b"), QoS: 1, PacketID: 2})
	v5Read[*packet.Ack](t, r)
	inprocPub(t, gw, "o/inproc", "c", 1, false)
	inprocPub(t, gw, "$SYS/edge/x", "d", 0, true) // $SYS too, and no subscriber matches

	want := []string{"net:o/qos0=a", "net:o/qos1=b", "gw:o/inproc=c", "gw:$SYS/edge/x=d"}
	if got := seenNow(); !slices.Equal(got, want) {
		t.Fatalf("observed %q, want %q", got, want)
	}

	s.SetPublishObserver(nil)
	inprocPub(t, gw, "o/after", "e", 0, false)
	r.Write(&packet.Publish{Topic: "o/after-net", Payload: []byte("f")})
	v5Ping(t, r)
	for _, want := range []string{"o/qos0", "o/qos1", "o/inproc", "o/after", "o/after-net"} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("subscriber got %q, want %q", g, want)
			}
		case <-time.After(v5Wait):
			t.Fatalf("subscriber did not get %q", want)
		}
	}
	if got := seenNow(); !slices.Equal(got, want) {
		t.Fatalf("after SetPublishObserver(nil): observed %q, want %q", got, want)
	}
}

// TestPublishObserverConcurrent sets and clears the observer while clients
// publish, for the race detector.
func TestPublishObserverConcurrent(t *testing.T) {
	t.Parallel()
	s, _ := brokertest.StartServer(t, broker.Options{})
	pub := inprocClient(t, s, "pub")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			if i%2 == 0 {
				s.SetPublishObserver(func(*broker.Message) {})
			} else {
				s.SetPublishObserver(nil)
			}
		}
	}()
	for range 200 {
		inprocPub(t, pub, "c", "x", 0, false)
		_ = s.Sessions()
	}
	wg.Wait()
}
