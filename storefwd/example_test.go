package storefwd_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

func Example() {
	dir, err := os.MkdirTemp("", "storefwd-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := kv.Open(dir, kv.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(ctx)
	q, err := storefwd.Open(db, "cloud", storefwd.Options{
		Limits: storefwd.Limits{MaxBytes: 64 << 20, WhenFull: storefwd.DropOldest},
		Window: 16,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close(ctx)

	// Append returns once the records are on disk.
	recs := []storefwd.Record{
		{Meta: []byte("sensors/t1"), Data: []byte("21.5")},
		{Meta: []byte("sensors/t2"), Data: []byte("19.0")},
	}
	if err := q.Append(ctx, recs); err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended", recs[0].Seq, recs[1].Seq)

	// Read in order; acknowledge when the uplink has the record.
	for range 2 {
		rec, err := q.Next(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %s %s\n", rec.Seq, rec.Meta, rec.Data)
		if err := q.Ack(rec.Seq); err != nil {
			log.Fatal(err)
		}
	}
	st := q.Stats()
	fmt.Println("depth", st.Records, "appended", st.Appended, "acked", st.Acked)
	// Output:
	// appended 0 1
	// 0 sensors/t1 21.5
	// 1 sensors/t2 19.0
	// depth 0 appended 2 acked 2
}
