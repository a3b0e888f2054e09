package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/edgemq/edgemq/bridge/webhook"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

func Example() {
	ctx := context.Background()
	// An endpoint that prints what it receives.
	got := make(chan webhook.Body, 1)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b webhook.Body
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- b
	}))
	defer endpoint.Close()

	// A broker for in-process clients, and the gateway's database.
	srv, err := broker.New(broker.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	dir, err := os.MkdirTemp("", "webhook-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := kv.Open(dir, kv.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(ctx)

	sink, err := webhook.New(srv, db, webhook.Config{
		Name:       "events",
		URL:        endpoint.URL + "/ingest",
		Filters:    []string{"sensors/#"},
		GatewayID:  "gw1",
		Headers:    map[string]string{"Authorization": "Bearer token"},
		BatchDelay: 500 * time.Millisecond,
		Queue:      storefwd.Limits{MaxBytes: 16 << 20},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sink.Close(ctx)

	// A QoS 1 publish returns once the message is on disk in the sink's
	// queue.
	pub, err := srv.NewClient("sensor-1")
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close()
	pub.Publish(ctx, "sensors/t1", []byte("21.5"), 1, false)
	pub.Publish(ctx, "sensors/raw", []byte{0xff, 0x00}, 1, false)

	b := <-got
	fmt.Println("gateway", b.GatewayID, "sink", b.Sink)
	for _, m := range b.Messages {
		if m.Payload != nil {
			fmt.Printf("%d %s text %q\n", m.Seq, m.Topic, *m.Payload)
		} else {
			fmt.Printf("%d %s base64 %s\n", m.Seq, m.Topic, *m.PayloadB64)
		}
	}
	// Output:
	// gateway gw1 sink events
	// 0 sensors/t1 text "21.5"
	// 1 sensors/raw base64 /wA=
}
