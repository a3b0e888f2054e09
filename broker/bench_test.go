package broker_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// BenchmarkInprocPublish measures the routing path without the network:
// an in-process publisher and n in-process subscribers.
func BenchmarkInprocPublish(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			s, _ := brokertest.StartServer(b, broker.Options{MaxQueuedMessages: 1 << 20})
			var got atomic.Int64
			for i := range n {
				c, err := s.NewClient(fmt.Sprintf("sub%d", i))
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Subscribe("sensors/+/temp", 0, func(*broker.Message) { got.Add(1) }); err != nil {
					b.Fatal(err)
				}
			}
			pub, err := s.NewClient("pub")
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 64)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := pub.Publish(ctx, "sensors/1/temp", payload, 0, false); err != nil {
					b.Fatal(err)
				}
			}
			want := int64(b.N * n)
			deadline := time.Now().Add(10 * time.Second)
			for got.Load()+int64(s.Stats().PublishDropped) < want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		})
	}
}
