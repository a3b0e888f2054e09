package storefwd

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// closed reports whether ch is closed, without waiting.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// drainBatches reads and acknowledges everything with TryNextBatch and
// AckBatch, limit records at a time.
func (f *fixture) drainBatches(limit int) []Record {
	f.t.Helper()
	var out, buf []Record
	for {
		var wait <-chan struct{}
		var err error
		buf, wait, err = f.q.TryNextBatch(buf[:0], limit)
		if err != nil {
			f.t.Fatalf("TryNextBatch: %v", err)
		}
		if len(buf) == 0 {
			if wait == nil {
				f.t.Fatal("TryNextBatch returned neither records nor a channel")
			}
			return out
		}
		if wait != nil {
			f.t.Fatal("TryNextBatch returned records and a channel")
		}
		if len(buf) > limit {
			f.t.Fatalf("TryNextBatch returned %d records, limit %d", len(buf), limit)
		}
		if err := f.q.AckBatch(seqs(buf)); err != nil {
			f.t.Fatalf("AckBatch: %v", err)
		}
		out = append(out, buf...)
	}
}

func TestTryNextBatch(t *testing.T) {
	for _, tt := range []struct {
		name          string
		window, limit int
		block         int
	}{
		{"one at a time", 8, 1, 0},
		{"limit below window", 64, 10, 0},
		{"window below limit", 5, 64, 0},
		{"across blocks", 64, 64, 256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := defaultOpts()
			opts.Window = tt.window
			opts.BlockBytes = tt.block
			f := newFixture(t, opts)
			f.append(0, 150, 20)
			f.append(150, 50, 20)
			got := f.drainBatches(tt.limit)
			if diff := cmp.Diff(names(0, 200), metas(got)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			if st := f.q.Stats(); st.Records != 0 || st.Acked != 200 {
				t.Fatalf("stats after drain: %+v", st)
			}
		})
	}
}

func TestTryNextBatchWindowAndRewind(t *testing.T) {
	opts := defaultOpts()
	opts.Window = 4
	f := newFixture(t, opts)
	recs, wait, err := f.q.TryNextBatch(nil, 10)
	if err != nil || len(recs) != 0 || wait == nil {
		t.Fatalf("empty queue: %d records, wait %v, err %v", len(recs), wait != nil, err)
	}
	f.append(0, 10, 4)
	if !closed(wait) {
		t.Fatal("the wait channel is open after an Append")
	}
	recs, _, _ = f.q.TryNextBatch(nil, 10)
	if diff := cmp.Diff(names(0, 4), metas(recs)); diff != "" {
		t.Fatalf("first window (-want +got):\n%s", diff)
	}
	recs, wait, _ = f.q.TryNextBatch(recs[:0], 10)
	if len(recs) != 0 || wait == nil {
		t.Fatalf("full window: %d records, wait %v", len(recs), wait != nil)
	}
	if err := f.q.AckBatch([]uint64{2, 1}); err != nil { // not the oldest
		t.Fatal(err)
	}
	if closed(wait) {
		t.Fatal("the wait channel closed though the window did not move")
	}
	if err := f.q.AckBatch([]uint64{0}); err != nil {
		t.Fatal(err)
	}
	if !closed(wait) {
		t.Fatal("the wait channel is open after the window moved")
	}
	recs, _, _ = f.q.TryNextBatch(recs[:0], 10)
	if diff := cmp.Diff(names(4, 3), metas(recs)); diff != "" {
		t.Fatalf("second window (-want +got):\n%s", diff)
	}
	f.q.Rewind()
	recs, _, _ = f.q.TryNextBatch(recs[:0], 10)
	if diff := cmp.Diff(names(3, 4), metas(recs)); diff != "" {
		t.Fatalf("after Rewind (-want +got):\n%s", diff)
	}
}

func TestTryNextBatchRefill(t *testing.T) {
	smallFront(t)
	opts := defaultOpts()
	opts.Window = 16
	f := newFixture(t, opts)
	for i := range 100 {
		f.append(i, 1, 20) // one block each
	}
	f.reopen() // loads 8 of 100 descriptors
	got := f.drainBatches(16)
	if diff := cmp.Diff(names(0, 100), metas(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestAckBatch(t *testing.T) {
	f := newFixture(t, defaultOpts())
	f.append(0, 8, 8)
	if got := f.next(6); len(got) != 6 {
		t.Fatalf("got %d records", len(got))
	}
	// Out of order, twice, and one not delivered: the others count.
	err := f.q.AckBatch([]uint64{3, 1, 0, 3, 7, 2})
	if !errors.Is(err, ErrNotDelivered) {
		t.Fatalf("AckBatch with an undelivered record: %v", err)
	}
	f.q.mu.Lock()
	head := f.q.head
	f.q.mu.Unlock()
	if head != 4 {
		t.Fatalf("head = %d, want 4", head)
	}
	if st := f.q.Stats(); st.Records != 4 || st.Acked != 4 {
		t.Fatalf("stats: %+v", st)
	}
	if err := f.q.AckBatch(nil); err != nil {
		t.Fatalf("AckBatch(nil): %v", err)
	}
	f.reopen()
	if got := f.next(10); len(got) == 0 || got[0].Seq != 4 {
		t.Fatalf("after reopen got %v, want 4 first", seqs(got))
	}
}

func TestAppended(t *testing.T) {
	f := newFixture(t, defaultOpts())
	ch := f.q.Appended()
	f.append(0, 2, 4)
	if !closed(ch) {
		t.Fatal("open after Append")
	}
	ch = f.q.Appended()
	f.next(2)
	f.ack(0, 1)
	if closed(ch) {
		t.Fatal("closed by Ack")
	}
	f.q.Rewind()
	if !closed(ch) {
		t.Fatal("open after Rewind")
	}
	ch = f.q.Appended()
	if err := f.q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !closed(ch) {
		t.Fatal("open after Close")
	}
	if _, _, err := f.q.TryNextBatch(nil, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("TryNextBatch after Close: %v", err)
	}
	if err := f.q.AckBatch([]uint64{0}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AckBatch after Close: %v", err)
	}
}

// TestTailBlock: a reader that has caught up gets the block just committed
// from memory, the same records as stored; one that is behind reads from
// the database.
func TestTailBlock(t *testing.T) {
	f := newFixture(t, defaultOpts())
	want := f.append(0, 50, 30)
	f.q.mu.Lock()
	tail := f.q.tail
	f.q.mu.Unlock()
	if tail == nil {
		t.Fatal("no block kept for a reader that has caught up")
	}
	fromMem, err := decodeRecords(tail.desc, tail.time, tail.plain)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.q.readBlock(tail.desc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stored, fromMem); diff != "" {
		t.Fatalf("block from memory (-stored +memory):\n%s", diff)
	}
	got := f.drain()
	if diff := cmp.Diff(metas(want), metas(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	for i := range got {
		if !got[i].Time.Equal(want[i].Time) || got[i].Seq != want[i].Seq {
			t.Fatalf("record %d: seq %d time %v, Append said %d %v", i, got[i].Seq, got[i].Time, want[i].Seq, want[i].Time)
		}
	}
	f.q.mu.Lock()
	tail = f.q.tail
	f.q.mu.Unlock()
	if tail != nil {
		t.Fatal("the block is still kept after it was read")
	}
	// Behind: the second block is not kept.
	f.append(50, 5, 30)
	f.append(55, 5, 30)
	f.q.mu.Lock()
	tail = f.q.tail
	f.q.mu.Unlock()
	if tail == nil || tail.desc.first != 50 {
		t.Fatalf("kept %+v, want the block at 50", tail)
	}
	if diff := cmp.Diff(names(50, 10), metas(f.drain())); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
