package persist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// TestBatchOrder checks that buffered changes are applied in call order,
// including a session deletion (a prefix scan) between writes of the same
// keys.
func TestBatchOrder(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	st := openStore(t, db, nil)
	defer st.Close()
	plain := &broker.Message{Topic: "x", Payload: []byte("1")}
	must(t, st.SaveSession(&broker.StoredSession{ClientID: "c", Expiry: 60}))
	for seq := uint64(1); seq <= 3; seq++ {
		must(t, st.SetQueued("c", &broker.StoredQueued{Seq: seq, Message: plain, QoS: 1}))
	}
	// Deleted with the session, then written again: only seq 5 remains.
	must(t, st.DeleteSession("c"))
	must(t, st.SaveSession(&broker.StoredSession{ClientID: "c", Expiry: 60}))
	must(t, st.SetQueued("c", &broker.StoredQueued{Seq: 4, Message: plain, QoS: 1}))
	must(t, st.DeleteQueued("c", 4))
	must(t, st.SetQueued("c", &broker.StoredQueued{Seq: 5, Message: plain, QoS: 1}))
	must(t, st.Flush())
	if st.Uncommitted() {
		t.Error("Uncommitted after Flush")
	}
	var seqs []uint64
	must(t, st.LoadSessions(func(ss *broker.StoredSession) {
		for _, q := range ss.Queued {
			seqs = append(seqs, q.Seq)
		}
	}))
	if fmt.Sprint(seqs) != "[5]" {
		t.Errorf("queued after delete and rewrite: %v, want [5]", seqs)
	}
}

// TestCommitSharesSyncs checks group commit: many concurrent writers and
// commits need far fewer batches than changes, and every Commit's done
// runs after its change is readable.
func TestCommitSharesSyncs(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	st := openStore(t, db, nil)
	defer st.Close()
	const writers, each = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				topic := fmt.Sprintf("t/%d/%d", w, i)
				if err := st.SetRetained(&broker.Message{Topic: topic, Payload: []byte("v")}); err != nil {
					errs <- err
					return
				}
				done := make(chan error, 1)
				st.Commit(func(err error) { done <- err })
				if err := <-done; err != nil {
					errs <- err
					return
				}
				err := db.View(func(txn *badger.Txn) error {
					_, err := txn.Get([]byte(string(prefixRetained) + topic))
					return err
				})
				if err != nil {
					errs <- fmt.Errorf("%s committed but not readable: %w", topic, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	batches, failed := st.Batches()
	t.Logf("%d changes in %d batches", writers*each, batches)
	if failed != 0 || batches == 0 || batches >= writers*each {
		t.Errorf("batches %d (failed %d) for %d changes: no group commit", batches, failed, writers*each)
	}
}

// TestBufferBound fills the buffer past its bound with a writer that
// cannot keep up and checks that nothing is lost.
func TestBufferBound(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	st := openStore(t, db, nil)
	n := 3 * maxPendingOps
	for i := range n {
		must(t, st.SetRetained(&broker.Message{Topic: fmt.Sprintf("t/%d", i), Payload: []byte("v")}))
	}
	must(t, st.Close())
	if err := st.SetRetained(&broker.Message{Topic: "late", Payload: []byte("v")}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
	done := make(chan error, 1)
	st.Commit(func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Errorf("Commit after Close with everything written: %v", err)
	}
	st2 := openStore(t, db, nil)
	defer st2.Close()
	count := 0
	must(t, st2.LoadRetained(func(*broker.Message) { count++ }))
	if count != n {
		t.Errorf("%d retained messages after reopening, want %d", count, n)
	}
}

// holdingStore is a Store whose commits wait for the test, or fail.
type holdingStore struct {
	*Store
	mu      sync.Mutex
	fail    error
	release chan struct{}
}

func (h *holdingStore) Commit(done func(error)) {
	h.mu.Lock()
	fail, release := h.fail, h.release
	h.mu.Unlock()
	h.Store.Commit(func(err error) {
		go func() {
			if release != nil {
				<-release
			}
			if err == nil {
				err = fail
			}
			done(err)
		}()
	})
}

// TestAckWaitsForCommit checks over TCP that the PUBACK of a QoS 1
// message queued for an offline persistent session leaves only once the
// store has committed it, and that a failed commit fails the publish: v5
// gets "quota exceeded", 3.1.1 is disconnected (it cannot be told, and
// must resend).
func TestAckWaitsForCommit(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	hs := &holdingStore{Store: openStore(t, db, brokertest.TestLogger(t))}
	defer hs.Close()
	_, addr := brokertest.StartServer(t, broker.Options{Store: hs, Logger: brokertest.TestLogger(t)})

	sub := brokertest.Dial(t, addr, packet.Version311)
	sub.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, KeepAlive: 30, ClientID: "durable"})
	sub.Read(5 * time.Second)
	sub.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "d/#", QoS: 1}}})
	sub.Read(5 * time.Second)
	sub.Write(&packet.Disconnect{})
	sub.ExpectClosed(5 * time.Second)

	hs.mu.Lock()
	hs.release = make(chan struct{})
	hs.mu.Unlock()
	pub := brokertest.Dial(t, addr, packet.Version5)
	pub.Connect("pub5")
	pub.Write(&packet.Publish{Topic: "d/1", Payload: []byte("a"), QoS: 1, PacketID: 7})
	if p, err := pub.Read(300 * time.Millisecond); err == nil {
		t.Fatalf("got %v before the commit finished", p)
	}
	close(hs.release)
	p, err := pub.Read(5 * time.Second)
	if ack, ok := p.(*packet.Ack); err != nil || !ok || ack.Kind != packet.PUBACK || ack.PacketID != 7 || ack.ReasonCode != packet.Success {
		t.Fatalf("after the commit: %v %v, want PUBACK 7 success", p, err)
	}

	hs.mu.Lock()
	hs.release, hs.fail = nil, errors.New("disk full")
	hs.mu.Unlock()
	pub.Write(&packet.Publish{Topic: "d/1", Payload: []byte("b"), QoS: 1, PacketID: 8})
	p, err = pub.Read(5 * time.Second)
	if ack, ok := p.(*packet.Ack); err != nil || !ok || ack.Kind != packet.PUBACK || ack.PacketID != 8 || ack.ReasonCode != packet.QuotaExceeded {
		t.Fatalf("failed commit, v5: %v %v, want PUBACK 8 quota exceeded", p, err)
	}
	pub3 := brokertest.Dial(t, addr, packet.Version311)
	pub3.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, KeepAlive: 30, ClientID: "pub3", CleanStart: true})
	pub3.Read(5 * time.Second)
	pub3.Write(&packet.Publish{Topic: "d/1", Payload: []byte("c"), QoS: 1, PacketID: 9})
	for _, p := range pub3.ExpectClosed(5 * time.Second) {
		if ack, ok := p.(*packet.Ack); ok && ack.Kind == packet.PUBACK {
			t.Errorf("3.1.1 publisher got %v for a failed commit, want a disconnect", p)
		}
	}
}

// TestSysNotStored: the broker's own $SYS retained messages stay in
// memory (they are published again at start); a client's retained
// message is stored.
func TestSysNotStored(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close(context.Background())
	st := openStore(t, db, nil)
	defer st.Close()
	srv, _ := brokertest.StartServer(t, broker.Options{Store: st, SysInterval: 20 * time.Millisecond, Logger: brokertest.TestLogger(t)})
	c, err := srv.NewClient("c")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), "kept/x", []byte("v"), 1, true); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	if err := c.Subscribe("$SYS/broker/uptime", 0, func(m *broker.Message) {
		select {
		case got <- m.Topic:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no $SYS/broker/uptime")
	}
	var topics []string
	must(t, st.LoadRetained(func(m *broker.Message) { topics = append(topics, m.Topic) }))
	if fmt.Sprint(topics) != "[kept/x]" {
		t.Errorf("stored retained topics %v, want [kept/x]", topics)
	}
}
