package persist

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/kv"
)

func openDB(t testing.TB, dir string) *kv.DB {
	t.Helper()
	db, err := kv.Open(dir, kv.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openStore(t testing.TB, db *kv.DB, log *slog.Logger) *Store {
	t.Helper()
	st, err := New(db, log)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testMessage() *broker.Message {
	p := &packet.Properties{
		PayloadFormat: 1, ContentType: "text/plain", ResponseTopic: "r/t",
		CorrelationData: []byte{1, 2}, User: []packet.UserProperty{{Key: "k", Value: "v"}},
	}
	p.Set(packet.PropPayloadFormat)
	p.Set(packet.PropContentType)
	p.Set(packet.PropResponseTopic)
	p.Set(packet.PropCorrelationData)
	m := &broker.Message{
		Topic: "a/b", Payload: []byte("hello"), QoS: 2, Retain: true, Properties: p,
		ClientID: "pub", Created: time.Unix(0, 1700000000123456789),
	}
	m.SetExpires(time.Unix(0, 1800000000000000000))
	return m
}

func sameMessage(t *testing.T, got, want *broker.Message) {
	t.Helper()
	if !got.Expires().Equal(want.Expires()) || !got.Created.Equal(want.Created) {
		t.Errorf("times: got %v %v, want %v %v", got.Created, got.Expires(), want.Created, want.Expires())
	}
	g, w := *got, *want
	g.Created, w.Created = time.Time{}, time.Time{}
	g.SetExpires(time.Time{})
	w.SetExpires(time.Time{})
	if !reflect.DeepEqual(g, w) {
		t.Errorf("message: got %+v (props %+v), want %+v (props %+v)", g, g.Properties, w, w.Properties)
	}
}

// TestRoundTrip writes every record kind, closes and reopens the database
// and reads them back.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	st := openStore(t, db, nil)
	m := testMessage()
	plain := &broker.Message{Topic: "x", Payload: []byte{0}, ClientID: "c"}
	for _, rm := range []*broker.Message{m, plain, {Topic: "gone", Payload: []byte("1")}} {
		if err := st.SetRetained(rm); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteRetained("gone"); err != nil {
		t.Fatal(err)
	}
	sess := &broker.StoredSession{
		ClientID: "c1", Expiry: 300, Deadline: time.Unix(0, 1700000001000000000),
		Subscriptions: []broker.StoredSubscription{
			{Filter: "a/#", QoS: 1, NoLocal: true, RetainAsPublished: true, RetainHandling: 2, ID: 7},
			{Filter: "$share/g/b", QoS: 2},
		},
		Client: &broker.ClientInfo{Username: "alice"},
	}
	must(t, st.SaveSession(sess))
	must(t, st.SaveSession(&broker.StoredSession{ClientID: "c2", Expiry: 0xFFFFFFFF}))
	must(t, st.SaveSession(&broker.StoredSession{ClientID: "gone", Expiry: 10}))
	q1 := broker.StoredQueued{Seq: 1, Message: m, QoS: 2, Retain: true, SubIDs: []uint32{7, 9}, PacketID: 42, Sent: true, Released: true}
	q2 := broker.StoredQueued{Seq: 2, Message: plain, QoS: 1}
	q3 := broker.StoredQueued{Seq: 3, Message: plain, QoS: 1}
	for _, q := range []broker.StoredQueued{q1, q2, q3} {
		must(t, st.SetQueued("c1", &q))
	}
	must(t, st.DeleteQueued("c1", 3))
	must(t, st.SetInbound("c1", 9))
	must(t, st.SetInbound("c1", 10))
	must(t, st.DeleteInbound("c1", 10))
	must(t, st.SetInbound("gone", 1))
	must(t, st.SetQueued("gone", &q2))
	must(t, st.DeleteSession("gone"))
	must(t, st.SetWill("c1", &broker.StoredWill{Message: m, Delay: 30}))
	must(t, st.SetWill("c3", &broker.StoredWill{Message: plain}))
	must(t, st.SetWill("gone", &broker.StoredWill{Message: plain}))
	must(t, st.DeleteWill("gone"))
	must(t, st.Close())
	must(t, db.Close(context.Background()))

	db = openDB(t, dir)
	defer db.Close(context.Background())
	st = openStore(t, db, nil)
	defer st.Close()
	got := map[string]*broker.Message{}
	must(t, st.LoadRetained(func(m *broker.Message) { got[m.Topic] = m }))
	if len(got) != 2 {
		t.Fatalf("retained: %v", got)
	}
	sameMessage(t, got["a/b"], m)
	sameMessage(t, got["x"], plain)

	var sessions []*broker.StoredSession
	must(t, st.LoadSessions(func(s *broker.StoredSession) { sessions = append(sessions, s) }))
	if len(sessions) != 2 || sessions[0].ClientID != "c1" || sessions[1].ClientID != "c2" {
		t.Fatalf("sessions: %+v", sessions)
	}
	s1 := sessions[0]
	if s1.Expiry != 300 || !s1.Deadline.Equal(sess.Deadline) || !reflect.DeepEqual(s1.Subscriptions, sess.Subscriptions) ||
		!reflect.DeepEqual(s1.Client, sess.Client) {
		t.Errorf("session: got %+v, want %+v", s1, sess)
	}
	if fmt.Sprint(s1.Inbound) != "[9]" {
		t.Errorf("inbound QoS 2 ids %v, want [9]", s1.Inbound)
	}
	if len(s1.Queued) != 2 {
		t.Fatalf("queued: %+v", s1.Queued)
	}
	for i, want := range []broker.StoredQueued{q1, q2} {
		g := s1.Queued[i]
		sameMessage(t, g.Message, want.Message)
		g.Message, want.Message = nil, nil
		if !reflect.DeepEqual(g, want) {
			t.Errorf("queued %d: got %+v, want %+v", i, g, want)
		}
	}
	if s2 := sessions[1]; s2.Expiry != 0xFFFFFFFF || !s2.Deadline.IsZero() || len(s2.Queued) != 0 || s2.Client != nil {
		t.Errorf("session c2: %+v", s2)
	}

	wills := map[string]*broker.StoredWill{}
	must(t, st.LoadWills(func(id string, w *broker.StoredWill) { wills[id] = w }))
	if len(wills) != 2 || wills["c1"] == nil || wills["c3"] == nil {
		t.Fatalf("wills: %v", wills)
	}
	sameMessage(t, wills["c1"].Message, m)
	sameMessage(t, wills["c3"].Message, plain)
	if wills["c1"].Delay != 30 || wills["c3"].Delay != 0 {
		t.Errorf("will delays %d and %d, want 30 and 0", wills["c1"].Delay, wills["c3"].Delay)
	}
}

// TestBadRecordsSkipped checks that records that do not decode are logged
// and skipped, and that the good ones still load.
func TestBadRecordsSkipped(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	var logBuf bytes.Buffer
	st := openStore(t, db, slog.New(slog.NewTextHandler(&logBuf, nil)))
	defer st.Close()
	good := &broker.Message{Topic: "ok", Payload: []byte("p")}
	must(t, st.SetRetained(good))
	must(t, st.SaveSession(&broker.StoredSession{ClientID: "c", Expiry: 5}))
	must(t, st.SetQueued("c", &broker.StoredQueued{Seq: 1, Message: good, QoS: 1}))
	must(t, st.SetWill("c", &broker.StoredWill{Message: good}))
	full := appendMessage([]byte{version}, testMessage())
	will := encodeWill(&broker.StoredWill{Message: good, Delay: 5})
	bad := map[string][]byte{
		string(prefixRetained) + "empty":     nil,
		string(prefixRetained) + "version":   append([]byte{9}, full[1:]...),
		string(prefixRetained) + "truncated": full[:len(full)-3],
		string(prefixRetained) + "trailing":  append(append([]byte{}, full...), 0),
		string(prefixSession) + "s1":         {version, 0, 0},
		string(queuedKey("c", 2)):            {version, 7},
		string(prefixQueued) + "nokey":       encodeQueued(&broker.StoredQueued{Message: good, QoS: 1}),
		string(prefixWill) + "truncated":     will[:len(will)-2],
		string(prefixWill) + "delay":         append(binary.AppendUvarint([]byte{version}, 1<<33), will[2:]...),
	}
	must(t, db.Update(func(txn *badger.Txn) error {
		for k, v := range bad {
			if err := txn.Set([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	}))
	var topics []string
	must(t, st.LoadRetained(func(m *broker.Message) { topics = append(topics, m.Topic) }))
	if !reflect.DeepEqual(topics, []string{"ok"}) {
		t.Errorf("retained: %v", topics)
	}
	var sessions []*broker.StoredSession
	must(t, st.LoadSessions(func(s *broker.StoredSession) { sessions = append(sessions, s) }))
	if len(sessions) != 1 || sessions[0].ClientID != "c" || len(sessions[0].Queued) != 1 {
		t.Errorf("sessions: %+v", sessions)
	}
	var wills []string
	must(t, st.LoadWills(func(id string, _ *broker.StoredWill) { wills = append(wills, id) }))
	if !reflect.DeepEqual(wills, []string{"c"}) {
		t.Errorf("wills: %v", wills)
	}
	if n := bytes.Count(logBuf.Bytes(), []byte("skipping bad")); n != 9 {
		t.Errorf("%d records logged as bad, want 9:\n%s", n, logBuf.String())
	}
}

// TestClaim checks that the prefix cannot be claimed twice.
func TestClaim(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	st := openStore(t, db, nil)
	if _, err := New(db, nil); err == nil {
		t.Fatal("second New succeeded")
	}
	st.Close()
	openStore(t, db, nil).Close()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
