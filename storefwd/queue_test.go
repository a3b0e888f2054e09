package storefwd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	stdcmp "cmp"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/edgemq/edgemq/internal/kv"
)

func defaultOpts() Options {
	return Options{Limits: Limits{MaxBytes: 256 << 20}, Window: 1024}
}

func TestAppendReadAck(t *testing.T) {
	tests := []struct {
		name    string
		batches []int // records per Append
		size    int
		block   int
	}{
		{"one record", []int{1}, 10, 0},
		{"empty data", []int{3}, 0, 0},
		{"many small", []int{100, 1, 50}, 64, 0},
		{"blocks split", []int{200}, 100, 1024},
		{"record larger than a block", []int{2, 1}, 5000, 1024},
		{"large values", []int{4}, 300 << 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := defaultOpts()
			opts.BlockBytes = tt.block
			f := newFixture(t, opts)
			var want []Record
			for _, n := range tt.batches {
				want = append(want, f.append(len(want), n, tt.size)...)
			}
			for i, r := range want {
				if r.Seq != uint64(i) {
					t.Fatalf("Append set Seq %d for record %d", r.Seq, i)
				}
			}
			got := f.drain()
			if diff := cmp.Diff(metas(want), metas(got)); diff != "" {
				t.Fatalf("records (-want +got):\n%s", diff)
			}
			for i := range got {
				if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("record %d: got seq %d data %d bytes, want seq %d %d bytes", i, got[i].Seq, len(got[i].Data), want[i].Seq, len(want[i].Data))
				}
				if got[i].Time.IsZero() || !got[i].Time.Equal(want[i].Time) {
					t.Fatalf("record %d: time %v, Append said %v", i, got[i].Time, want[i].Time)
				}
			}
			st := f.q.Stats()
			if st.Records != 0 || st.Bytes != 0 || st.Appended != uint64(len(want)) || st.Acked != uint64(len(want)) {
				t.Fatalf("stats after drain: %+v", st)
			}
			f.reopen()
			if got := f.next(10); len(got) != 0 {
				t.Fatalf("after reopen got %v, want nothing", metas(got))
			}
			// Sequence numbers continue after a reopen of an empty queue.
			r := f.append(0, 1, 1)
			if r[0].Seq != uint64(len(want)) {
				t.Fatalf("first seq after reopen = %d, want %d", r[0].Seq, len(want))
			}
		})
	}
}

func TestOutOfOrderAcks(t *testing.T) {
	f := newFixture(t, defaultOpts())
	f.append(0, 6, 8)
	got := f.next(6)
	if len(got) != 6 {
		t.Fatalf("got %d records", len(got))
	}
	f.ack(3, 1, 5)
	if st := f.q.Stats(); st.Records != 3 || st.Acked != 3 {
		t.Fatalf("after acking 3,1,5: %+v", st)
	}
	f.ack(0)    // head moves past 0 and 1
	f.ack(1, 3) // twice: no-op
	f.ack(2)    // head moves past 2 and 3
	f.q.mu.Lock()
	head := f.q.head
	f.q.mu.Unlock()
	if head != 4 {
		t.Fatalf("head = %d, want 4", head)
	}
	if st := f.q.Stats(); st.Records != 1 || st.Acked != 5 {
		t.Fatalf("after acking 0,2: %+v", st)
	}
	f.reopen()
	// 4 comes back; 5 was acknowledged above the head and may come back.
	rest := f.next(10)
	if len(rest) == 0 || rest[0].Seq != 4 {
		t.Fatalf("after reopen got %v, want 4 first", seqs(rest))
	}
}

func TestRestartRedeliversWindowInOrder(t *testing.T) {
	opts := defaultOpts()
	opts.Window = 8
	f := newFixture(t, opts)
	f.append(0, 20, 16)
	out := f.next(100)
	if diff := cmp.Diff(names(0, 8), metas(out)); diff != "" {
		t.Fatalf("first window (-want +got):\n%s", diff)
	}
	f.ack(0, 1, 2) // contiguous: persisted
	f.ack(5)       // above the head
	f.reopen()
	var got []Record
	for {
		r := f.next(1)
		if len(r) == 0 {
			break
		}
		got = append(got, r[0])
		f.ack(r[0].Seq)
	}
	want := names(3, 17) // 3..19 in order, including the unacknowledged window
	if diff := cmp.Diff(want, metas(got)); diff != "" {
		t.Fatalf("after restart (-want +got):\n%s", diff)
	}
}

func TestRewind(t *testing.T) {
	f := newFixture(t, defaultOpts())
	f.append(0, 5, 4)
	f.next(5)
	f.ack(1, 3)
	f.q.Rewind()
	got := f.next(10)
	if diff := cmp.Diff([]string{"r0", "r2", "r4"}, metas(got)); diff != "" {
		t.Fatalf("after Rewind (-want +got):\n%s", diff)
	}
}

func TestWindow(t *testing.T) {
	opts := defaultOpts()
	opts.Window = 3
	f := newFixture(t, opts)
	f.append(0, 10, 4)
	if got := f.next(10); len(got) != 3 {
		t.Fatalf("got %d records with window 3", len(got))
	}
	f.ack(1) // not the oldest: the window does not move
	if got := f.next(10); len(got) != 0 {
		t.Fatalf("got %v past a full window", metas(got))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.q.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with full window: %v", err)
	}
	done := make(chan Record)
	go func() {
		r, err := f.q.Next(context.Background())
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		done <- r
	}()
	time.Sleep(10 * time.Millisecond)
	f.ack(0)
	if r := <-done; r.Seq != 3 {
		t.Fatalf("Next after ack returned %d, want 3", r.Seq)
	}
}

func TestNextWaitsForAppend(t *testing.T) {
	f := newFixture(t, defaultOpts())
	done := make(chan Record)
	go func() {
		r, err := f.q.Next(context.Background())
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		done <- r
	}()
	time.Sleep(10 * time.Millisecond)
	f.append(0, 1, 1)
	select {
	case r := <-done:
		if r.Seq != 0 {
			t.Fatalf("got seq %d", r.Seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Append")
	}
}

func TestErrors(t *testing.T) {
	opts := defaultOpts()
	opts.MaxRecordBytes = 100
	opts.MaxRecords = 10
	f := newFixture(t, opts)
	ctx := context.Background()
	if err := f.q.Append(ctx, makeRecords(0, 1, 101)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("record above MaxRecordBytes: %v", err)
	}
	if err := f.q.Append(ctx, makeRecords(0, 11, 1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("batch above MaxRecords: %v", err)
	}
	if err := f.q.Append(ctx, nil); err != nil {
		t.Errorf("empty Append: %v", err)
	}
	f.append(0, 2, 1)
	if err := f.q.Ack(0); !errors.Is(err, ErrNotDelivered) {
		t.Errorf("Ack before Next: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.q.Next(canceled); err != nil {
		t.Errorf("Next with a record ready and a canceled ctx: %v", err)
	}
	if err := f.q.Ack(7); !errors.Is(err, ErrNotDelivered) {
		t.Errorf("Ack of an unknown seq: %v", err)
	}
	if err := f.q.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.q.Append(ctx, makeRecords(0, 1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := f.q.Next(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	if err := f.q.Ack(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Ack after Close: %v", err)
	}
	if err := f.q.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenValidation(t *testing.T) {
	f := newFixture(t, defaultOpts())
	tests := []struct {
		name string
		qn   string
		opts Options
		want error
	}{
		{"no MaxBytes", "a", Options{}, ErrInvalid},
		{"empty name", "", defaultOpts(), ErrInvalid},
		{"NUL in name", "a\x00b", defaultOpts(), ErrInvalid},
		{"bad policy", "a", Options{Limits: Limits{MaxBytes: 1, WhenFull: 7}}, ErrInvalid},
		{"huge window", "a", Options{Limits: Limits{MaxBytes: 1}, Window: 1 << 20}, ErrInvalid},
		{"same queue twice", "test", defaultOpts(), kv.ErrClaimed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Open(f.db, tt.qn, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if q != nil {
				t.Fatal("Open returned a queue with an error")
			}
		})
	}
	for _, tt := range []struct {
		in   string
		want Policy
		err  bool
	}{{"", DropOldest, false}, {"drop_oldest", DropOldest, false}, {"reject_new", RejectNew, false}, {"drop_newest", 0, true}} {
		got, err := ParsePolicy(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParsePolicy(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil && got.String() != tt.in && tt.in != "" {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestQueuesAreIndependent(t *testing.T) {
	f := newFixture(t, defaultOpts())
	a := f.q
	b, err := Open(f.db, "te", defaultOpts()) // a prefix of "test" as a string
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	ctx := context.Background()
	if err := a.Append(ctx, makeRecords(0, 3, 5)); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, makeRecords(100, 2, 5)); err != nil {
		t.Fatal(err)
	}
	rb, _, _ := b.TryNext()
	if string(rb.Meta) != "r100" || rb.Seq != 0 {
		t.Fatalf("queue b read %q seq %d", rb.Meta, rb.Seq)
	}
	if st := a.Stats(); st.Records != 3 {
		t.Fatalf("queue a depth %d", st.Records)
	}
	if st := b.Stats(); st.Records != 2 {
		t.Fatalf("queue b depth %d", st.Records)
	}
}

func TestLimits(t *testing.T) {
	const size = 100 // payload per record: 100 data + len("rNN") meta
	tests := []struct {
		name       string
		limits     Limits
		block      int
		appends    int // single-record Appends
		wantFirst  string
		wantN      int
		wantDrops  Drops
		wantErrors int
	}{
		{
			name:      "drop_oldest at bytes",
			limits:    Limits{MaxBytes: 10 * (size + 3)}, // ten records of 103 bytes
			appends:   30,
			wantFirst: "r30", wantN: 10,
			wantDrops: Drops{Bytes: 20},
		},
		{
			name:      "reject_new at bytes",
			limits:    Limits{MaxBytes: 10 * (size + 3), WhenFull: RejectNew},
			appends:   30,
			wantFirst: "r10", wantN: 10,
			wantDrops:  Drops{Rejected: 20},
			wantErrors: 20,
		},
		{
			name:      "drop_oldest at count",
			limits:    Limits{MaxBytes: 1 << 20, MaxRecords: 5},
			appends:   12,
			wantFirst: "r17", wantN: 5,
			wantDrops: Drops{Count: 7},
		},
		{
			name:      "reject_new at count",
			limits:    Limits{MaxBytes: 1 << 20, MaxRecords: 5, WhenFull: RejectNew},
			appends:   12,
			wantFirst: "r10", wantN: 5,
			wantDrops:  Drops{Rejected: 7},
			wantErrors: 7,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := defaultOpts()
			opts.Limits = tt.limits
			f := newFixture(t, opts)
			ctx := context.Background()
			var errs int
			for i := range tt.appends {
				err := f.q.Append(ctx, makeRecords(i+10, 1, size)[:1])
				if errors.Is(err, ErrFull) {
					errs++
				} else if err != nil {
					t.Fatal(err)
				}
				st := f.q.Stats()
				if st.Bytes > tt.limits.MaxBytes || (tt.limits.MaxRecords > 0 && st.Records > tt.limits.MaxRecords) {
					t.Fatalf("after append %d: %+v exceeds %+v", i, st, tt.limits)
				}
			}
			if errs != tt.wantErrors {
				t.Errorf("%d Appends failed with ErrFull, want %d", errs, tt.wantErrors)
			}
			st := f.q.Stats()
			if diff := cmp.Diff(tt.wantDrops, st.Dropped); diff != "" {
				t.Errorf("drops (-want +got):\n%s", diff)
			}
			// Survivors are the newest (drop_oldest) or oldest (reject_new).
			check := func(when string) {
				t.Helper()
				got := f.next(1000)
				want := names(atoi(t, tt.wantFirst[1:]), tt.wantN)
				if diff := cmp.Diff(want, metas(got)); diff != "" {
					t.Fatalf("%s: survivors (-want +got):\n%s", when, diff)
				}
				if !slices.IsSortedFunc(got, func(a, b Record) int { return stdcmp.Compare(a.Seq, b.Seq) }) {
					t.Fatalf("%s: out of order: %v", when, seqs(got))
				}
				f.q.Rewind()
			}
			check("before reopen")
			f.reopen()
			check("after reopen")
		})
	}
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("bad number %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestMaxAge(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	opts := defaultOpts()
	opts.MaxAge = time.Minute
	opts.Now = clock
	f := newFixture(t, opts)
	f.append(0, 3, 10)
	advance(40 * time.Second)
	f.append(3, 2, 10)
	if st := f.q.Stats(); st.OldestAge != 40*time.Second {
		t.Fatalf("OldestAge = %v, want 40s", st.OldestAge)
	}
	advance(30 * time.Second) // the first three are 70 s old
	waitFor(t, 5*time.Second, "age drops", func() bool { return f.q.Stats().Dropped.Age == 3 })
	got := f.next(10)
	if diff := cmp.Diff([]string{"r3", "r4"}, metas(got)); diff != "" {
		t.Fatalf("survivors (-want +got):\n%s", diff)
	}
	advance(time.Hour)
	waitFor(t, 5*time.Second, "age drops", func() bool { return f.q.Stats().Dropped.Age == 5 })
	if st := f.q.Stats(); st.Records != 0 || st.Bytes != 0 || st.OldestAge != 0 {
		t.Fatalf("after all expired: %+v", st)
	}
	// Acking a dropped record is a no-op.
	f.ack(got[0].Seq)
}

func TestDropOldestDropsDeliveredRecords(t *testing.T) {
	opts := defaultOpts()
	opts.MaxRecords = 4
	f := newFixture(t, opts)
	f.append(0, 2, 1)
	f.append(2, 2, 1)
	out := f.next(10)
	f.ack(out[1].Seq) // depth 3: r1 no longer counts
	f.append(4, 2, 1) // drops the block r0,r1: only r0 counts as dropped
	st := f.q.Stats()
	if st.Dropped.Count != 1 || st.Records != 4 {
		t.Fatalf("stats %+v", st)
	}
	f.ack(out[0].Seq) // dropped: no-op
	got := f.next(10)
	if diff := cmp.Diff([]string{"r4", "r5"}, metas(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestCorruptBlockIsSkipped(t *testing.T) {
	f := newFixture(t, defaultOpts())
	f.append(0, 2, 10)
	f.append(2, 3, 10)
	f.append(5, 1, 10)
	// Damage the second block's value behind the queue's back.
	f.q.mu.Lock()
	d := *f.q.front.at(1)
	f.q.mu.Unlock()
	key := blockKey(f.q.prefix, d)
	err := f.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		v[len(v)/2] ^= 0xff
		return txn.Set(key, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.drain()
	if diff := cmp.Diff([]string{"r0", "r1", "r5"}, metas(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if st := f.q.Stats(); st.Dropped.Corrupt != 3 || st.Records != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestConcurrentAppendersShareSyncs(t *testing.T) {
	f := newFixture(t, defaultOpts())
	const appenders, each = 8, 200
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Go(func() {
			for i := range each {
				recs := makeRecords(a*each+i, 1, 32)
				if err := f.q.Append(context.Background(), recs); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := f.drain()
	if len(got) != appenders*each {
		t.Fatalf("read %d records, want %d", len(got), appenders*each)
	}
	// Every record once; each appender's records in its order.
	last := make(map[int]int)
	seen := make(map[string]bool)
	for _, r := range got {
		if seen[string(r.Meta)] {
			t.Fatalf("%s twice", r.Meta)
		}
		seen[string(r.Meta)] = true
		i := atoi(t, string(r.Meta[1:]))
		a := i / each
		if prev, ok := last[a]; ok && i <= prev {
			t.Fatalf("appender %d: %d after %d", a, i, prev)
		}
		last[a] = i
	}
	ks := f.db.Stats()
	t.Logf("%d appends, %d sync calls, %d sync rounds", appenders*each, ks.SyncCalls, ks.SyncRounds)
	if ks.SyncRounds >= appenders*each {
		t.Errorf("%d sync rounds for %d appends: no group commit", ks.SyncRounds, appenders*each)
	}
}

func TestAppendCanceledWhileQueued(t *testing.T) {
	f := newFixture(t, defaultOpts())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := f.q.Append(ctx, makeRecords(0, 1, 1))
	// Either refused before it was queued, or committed if the committer
	// was quicker; never both stored and reported as failed silently.
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with canceled ctx: %v", err)
	}
	st := f.q.Stats()
	if (err == nil) != (st.Appended == 1) {
		t.Fatalf("err %v but appended %d", err, st.Appended)
	}
}

func TestSequenceNumbersBeyond32Bits(t *testing.T) {
	f := newFixture(t, defaultOpts())
	// Start the queue just below 2^32 by writing its state.
	start := uint64(1)<<32 - 3
	f.close()
	db, err := kv.Open(f.dir, f.kvOpts)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		return txn.Set(stateKey(queuePrefix("test")), encodeState(start, start))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.open()
	recs := f.append(0, 6, 10)
	if recs[0].Seq != start || recs[5].Seq != start+5 {
		t.Fatalf("seqs %d..%d, want %d..", recs[0].Seq, recs[5].Seq, start)
	}
	got := f.next(3)
	f.ack(seqs(got)...)
	f.reopen()
	rest := f.drain()
	if diff := cmp.Diff([]uint64{start + 3, start + 4, start + 5}, seqs(rest)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// smallFront makes the in-memory front of block descriptors small (8) for
// the test, so that a short queue needs refills from disk.
func smallFront(t *testing.T) {
	old := minFrontCapacity
	minFrontCapacity = 8
	t.Cleanup(func() { minFrontCapacity = old })
}

func TestFrontRefill(t *testing.T) {
	smallFront(t)
	opts := defaultOpts()
	opts.Window = 2
	opts.MaxRecords = 150
	f := newFixture(t, opts)
	for i := range 100 {
		f.append(i, 1, 20) // one block each
	}
	f.reopen() // loads 8 of 100 descriptors
	got := f.drain()
	if diff := cmp.Diff(names(0, 100), metas(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	// Drops past the loaded descriptors.
	for i := range 200 {
		f.append(100+i, 1, 20)
	}
	f.reopen()
	for i := range 10 {
		f.append(300+i, 1, 20)
	}
	st := f.q.Stats()
	if st.Records != 150 || st.Dropped.Count != 10 { // counters count since Open
		t.Fatalf("stats %+v", st)
	}
	got = f.drain()
	if diff := cmp.Diff(names(160, 150), metas(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestDiskShrinksAfterDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 96 MiB")
	}
	f := newFixture(t, defaultOpts())
	base, err := f.db.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 384 { // 96 MiB in 256 KiB records
		if err := f.q.Append(ctx, makeRecords(i, 1, 256<<10)); err != nil {
			t.Fatal(err)
		}
	}
	full, _ := f.db.DiskUsage()
	f.drain()
	waitFor(t, 5*time.Second, "deletions", func() bool {
		f.q.mu.Lock()
		defer f.q.mu.Unlock()
		return len(f.q.toDelete) == 0
	})
	if err := f.db.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := f.db.DiskUsage()
	t.Logf("disk: empty %d KiB, with 96 MiB queued %d KiB, after drain and reclaim %d KiB", base>>10, full>>10, after>>10)
	if full < 96<<20 {
		t.Fatalf("disk use %d with 96 MiB queued", full)
	}
	if after > 48<<20 {
		t.Fatalf("disk use %d KiB after drain and reclaim, want < 48 MiB", after>>10)
	}
}

// TestCompressedBlocks: records that repeat themselves (a bridge's topics)
// are stored compressed, read back intact, and a compressed block whose
// length lies is refused as corrupt rather than decompressed.
func TestCompressedBlocks(t *testing.T) {
	var b blockBuilder
	now := time.Unix(1700000000, 0)
	b.reset(now, 0)
	var want []Record
	for i := range 200 {
		r := Record{Meta: []byte("m"), Data: fmt.Appendf(nil, "site-7/sensors/kitchen/temperature|21.%d", i%10)}
		b.add(&r)
		want = append(want, r)
	}
	v := b.finish()
	d := blockDesc{first: 10, count: uint32(b.count), bytes: uint32(b.bytes)}
	if v[0] != blockVersionS2 || len(v) > b.bytes/3 {
		t.Fatalf("block version %d, %d bytes for %d payload bytes: not compressed", v[0], len(v), b.bytes)
	}
	recs, err := decodeBlock(d, v)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Seq != 10+uint64(i) || string(r.Data) != string(want[i].Data) || string(r.Meta) != "m" || !r.Time.Equal(now) {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	// The key promises fewer bytes than the block decompresses to.
	small := d
	small.bytes = 10
	if _, err := decodeBlock(small, v); !errors.Is(err, errBlock) {
		t.Errorf("length beyond the key's: %v, want errBlock", err)
	}
	// Incompressible records stay version 1.
	b.reset(now, 0)
	r := makeRecords(0, 1, 4096)[0]
	b.add(&r)
	if v := b.finish(); v[0] != blockVersion {
		t.Errorf("random data: block version %d, want %d", v[0], blockVersion)
	}
}
