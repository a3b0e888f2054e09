package persist

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkRetainedPublish measures in-process retained publishes (QoS 0,
// 64-byte payload, 1,000 topics) with the Badger store and, for
// comparison, the in-memory one.
func BenchmarkRetainedPublish(b *testing.B) {
	for _, persisted := range []bool{false, true} {
		b.Run(fmt.Sprintf("persist=%v", persisted), func(b *testing.B) {
			opts := broker.Options{Logger: quiet}
			if persisted {
				db := openDB(b, b.TempDir())
				b.Cleanup(func() { db.Close(context.Background()) })
				opts.Store = openStore(b, db, quiet)
			}
			s, _ := brokertest.StartServer(b, opts)
			pub, err := s.NewClient("pub")
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 64)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := pub.Publish(ctx, fmt.Sprintf("sensors/%d/temp", i%1000), payload, 0, true); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}

// BenchmarkQueueForOfflineSession measures QoS 1 publishes queued for one
// offline persistent session: each is written to the store and its
// publisher waits until it is synced (acknowledged means on disk), so
// concurrent publishers share syncs. syncs/msg is the batches written per
// message.
func BenchmarkQueueForOfflineSession(b *testing.B) {
	for _, persisted := range []bool{false, true} {
		for _, pubs := range []int{1, 32} {
			b.Run(fmt.Sprintf("persist=%v/publishers=%d", persisted, pubs), func(b *testing.B) {
				opts := broker.Options{Logger: quiet, MaxQueuedMessages: 1 << 22}
				var st *Store
				if persisted {
					db := openDB(b, b.TempDir())
					b.Cleanup(func() { db.Close(context.Background()) })
					st = openStore(b, db, quiet)
					opts.Store = st
				}
				s, addr := brokertest.StartServer(b, opts)
				c := brokertest.Dial(b, addr, packet.Version311)
				c.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, KeepAlive: 30, ClientID: "offline"})
				c.Read(5 * time.Second)
				c.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "d/#", QoS: 1}}})
				c.Read(5 * time.Second)
				c.Write(&packet.Disconnect{})
				c.Read(5 * time.Second) // EOF
				time.Sleep(50 * time.Millisecond)
				payload := make([]byte, 64)
				ctx := context.Background()
				var before uint64
				if st != nil {
					before, _ = st.Batches()
				}
				b.ReportAllocs()
				b.SetParallelism((pubs + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				var id atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					pub, err := s.NewClient(fmt.Sprintf("pub-%d", id.Add(1)))
					if err != nil {
						b.Error(err)
						return
					}
					defer pub.Close()
					for pb.Next() {
						if err := pub.Publish(ctx, "d/1", payload, 1, false); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
				if st != nil {
					after, _ := st.Batches()
					b.ReportMetric(float64(after-before)/float64(b.N), "syncs/msg")
				}
			})
		}
	}
}

// BenchmarkRestore measures broker.New on a database with 10,000 retained
// messages and 1,000 persistent sessions (2 subscriptions and 5 queued
// messages each).
func BenchmarkRestore(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close(context.Background())
	st := openStore(b, db, quiet)
	defer st.Close()
	payload := make([]byte, 64)
	for batch := range 10 {
		err := db.Update(func(txn *badger.Txn) error {
			for i := batch * 1000; i < (batch+1)*1000; i++ {
				m := &broker.Message{Topic: fmt.Sprintf("sensors/%d/temp", i), Payload: payload, Retain: true, Created: time.Now()}
				if err := txn.Set([]byte(string(prefixRetained)+m.Topic), appendMessage([]byte{version}, m)); err != nil {
					return err
				}
			}
			return nil
		})
		must(b, err)
	}
	for i := range 1000 {
		id := fmt.Sprintf("client-%d", i)
		ss := &broker.StoredSession{ClientID: id, Expiry: 3600, Deadline: time.Now().Add(time.Hour),
			Subscriptions: []broker.StoredSubscription{{Filter: "sensors/+/temp", QoS: 1}, {Filter: id + "/cmd/#", QoS: 2}}}
		must(b, st.SaveSession(ss))
		err := db.Update(func(txn *badger.Txn) error {
			for seq := uint64(1); seq <= 5; seq++ {
				q := &broker.StoredQueued{Seq: seq, QoS: 1, Message: &broker.Message{Topic: "sensors/1/temp", Payload: payload, QoS: 1}}
				if err := txn.Set(queuedKey(id, seq), encodeQueued(q)); err != nil {
					return err
				}
			}
			return nil
		})
		must(b, err)
	}
	b.ResetTimer()
	for range b.N {
		s, err := broker.New(broker.Options{Store: st, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Shutdown(context.Background())
		b.StartTimer()
	}
}
