package storefwd

import (
	"errors"
	"testing"
	"time"
)

// FuzzDecodeBlock feeds arbitrary values (and key figures) to the block
// decoder: it must return records that agree with the key, or errBlock,
// and never panic or allocate without bound.
func FuzzDecodeBlock(f *testing.F) {
	for _, recs := range [][]Record{
		makeRecords(0, 3, 40),
		{{Meta: []byte("m"), Data: []byte("site-7/sensors/a|1")}, {Data: []byte("site-7/sensors/a|2")}, {Data: []byte("site-7/sensors/a|3")}},
	} {
		var b blockBuilder
		b.reset(time.Unix(1, 0), 0)
		for i := range recs {
			b.add(&recs[i])
		}
		f.Add(b.finish(), uint32(b.count), uint32(b.bytes))
	}
	f.Fuzz(func(t *testing.T, v []byte, count, bytes uint32) {
		if count == 0 {
			count = 1
		}
		d := blockDesc{first: 1, count: count, bytes: bytes}
		recs, err := decodeBlock(d, v)
		if err != nil {
			if !errors.Is(err, errBlock) {
				t.Fatalf("error %v is not errBlock", err)
			}
			return
		}
		total := 0
		for _, r := range recs {
			total += len(r.Meta) + len(r.Data)
		}
		if len(recs) != int(count) || total != int(bytes) {
			t.Fatalf("%d records, %d bytes; key says %d, %d", len(recs), total, count, bytes)
		}
	})
}
