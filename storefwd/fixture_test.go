package storefwd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edgemq/edgemq/internal/kv"
)

// fixture owns a database in t.TempDir() and one queue in it, and closes
// both at the end of the test.
type fixture struct {
	t      testing.TB
	dir    string
	kvOpts kv.Options
	opts   Options
	db     *kv.DB
	q      *Queue
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), kvOpts: testKVOptions(), opts: opts}
	f.open()
	t.Cleanup(f.close)
	return f
}

func testKVOptions() kv.Options {
	o := kv.DefaultOptions()
	o.GCInterval = time.Hour // tests call Reclaim when they want it
	o.ReclaimInterval = time.Hour
	return o
}

func (f *fixture) open() {
	f.t.Helper()
	db, err := kv.Open(f.dir, f.kvOpts)
	if err != nil {
		f.t.Fatalf("kv.Open: %v", err)
	}
	q, err := Open(db, "test", f.opts)
	if err != nil {
		_ = db.Close(context.Background())
		f.t.Fatalf("Open: %v", err)
	}
	f.db, f.q = db, q
}

func (f *fixture) close() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if f.q != nil {
		if err := f.q.Close(ctx); err != nil {
			f.t.Errorf("Queue.Close: %v", err)
		}
		f.q = nil
	}
	if f.db != nil {
		if err := f.db.Close(ctx); err != nil {
			f.t.Errorf("DB.Close: %v", err)
		}
		f.db = nil
	}
}

func (f *fixture) reopen() {
	f.t.Helper()
	f.close()
	f.open()
}

// append appends records made by rec(i) for i in [from, from+n) in one
// call and returns them.
func (f *fixture) append(from, n int, size int) []Record {
	f.t.Helper()
	recs := makeRecords(from, n, size)
	if err := f.q.Append(context.Background(), recs); err != nil {
		f.t.Fatalf("Append(%d records from %d): %v", n, from, err)
	}
	return recs
}

// makeRecords makes records whose Meta names their index i and whose Data
// is size bytes derived from i.
func makeRecords(from, n, size int) []Record {
	recs := make([]Record, n)
	for k := range recs {
		i := from + k
		// Pseudo-random, so that block compression does not shrink it:
		// sizes in the tests stay what they say.
		data := make([]byte, size)
		x := uint64(i)*0x9E3779B97F4A7C15 + 1
		for j := range data {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			data[j] = byte(x)
		}
		recs[k] = Record{Meta: []byte(fmt.Sprintf("r%d", i)), Data: data}
	}
	return recs
}

// next reads up to n records without waiting.
func (f *fixture) next(n int) []Record {
	f.t.Helper()
	var out []Record
	for len(out) < n {
		r, ok, err := f.q.TryNext()
		if err != nil {
			f.t.Fatalf("TryNext: %v", err)
		}
		if !ok {
			break
		}
		out = append(out, r)
	}
	return out
}

func (f *fixture) ack(seqs ...uint64) {
	f.t.Helper()
	for _, s := range seqs {
		if err := f.q.Ack(s); err != nil {
			f.t.Fatalf("Ack(%d): %v", s, err)
		}
	}
}

// drain reads and acknowledges everything.
func (f *fixture) drain() []Record {
	f.t.Helper()
	var out []Record
	for {
		got := f.next(1 << 30)
		if len(got) == 0 {
			return out
		}
		for _, r := range got {
			f.ack(r.Seq)
		}
		out = append(out, got...)
	}
}

func metas(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Meta)
	}
	return out
}

func seqs(recs []Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func names(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("r%d", from+i)
	}
	return out
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
