package storefwd

import (
	"context"
	"encoding/binary"
	"flag"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sizeFlag is a byte count with an optional KiB/MiB/GiB suffix.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSuffix(v, u.suffix), u.n
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return err
	}
	*s = sizeFlag(n * mult)
	return nil
}

// lifeBytes is how much TestQueueLifetime appends over the queue's life.
// The default passes 2 GiB (past every 32-bit signed offset); -short uses
// 256 MiB; scripts/test-arm.sh runs the default under qemu.
var lifeBytes = sizeFlag(2<<30 + 256<<20)

func init() {
	flag.Var(&lifeBytes, "storefwd.lifebytes", "bytes TestQueueLifetime appends (suffix KiB, MiB, GiB)")
}

// TestQueueLifetime appends and acknowledges 256 KiB records in a loop
// until more than 2 GiB went through the queue, reopening it on the way,
// and checks that every record comes back intact and in order, that the
// counters do not wrap at 32 bits and that the directory stays small.
func TestQueueLifetime(t *testing.T) {
	total := int64(lifeBytes)
	if testing.Short() {
		total = min(total, 256<<20)
	}
	const recSize = 256 << 10
	const batch = 8 // 2 MiB per Append
	f := newFixture(t, Options{Limits: Limits{MaxBytes: 256 << 20}, Window: 64})
	f.kvOpts.GCInterval = 100 * time.Millisecond
	f.kvOpts.ReclaimInterval = 200 * time.Millisecond
	f.reopen()
	ctx := context.Background()
	recs := make([]Record, batch)
	bufs := make([][]byte, batch)
	for i := range bufs {
		bufs[i] = make([]byte, recSize)
	}
	var (
		appended, read int64  // records
		appendedBytes  uint64 // over the queue's life
		sinceOpen      uint64 // since the last reopen
		maxDisk        int64
		reopened       bool
		start          = time.Now()
	)
	for appendedBytes < uint64(total) {
		for i := range recs {
			binary.BigEndian.PutUint64(bufs[i], uint64(appended)+uint64(i))
			recs[i] = Record{Data: bufs[i]}
		}
		if err := f.q.Append(ctx, recs); err != nil {
			t.Fatalf("after %d MiB: %v", appendedBytes>>20, err)
		}
		if recs[0].Seq != uint64(appended) {
			t.Fatalf("seq %d, want %d", recs[0].Seq, appended)
		}
		appended += batch
		appendedBytes += batch * recSize
		sinceOpen += batch * recSize
		for read < appended {
			r, ok, err := f.q.TryNext()
			if err != nil || !ok {
				t.Fatalf("TryNext after %d records: %v %v", read, ok, err)
			}
			if got := binary.BigEndian.Uint64(r.Data); got != uint64(read) || len(r.Data) != recSize {
				t.Fatalf("record %d holds %d (%d bytes)", read, got, len(r.Data))
			}
			if err := f.q.Ack(r.Seq); err != nil {
				t.Fatal(err)
			}
			read++
		}
		if appended%(batch*64) == 0 { // every 128 MiB
			n, err := f.db.DiskUsage()
			if err != nil {
				t.Fatal(err)
			}
			maxDisk = max(maxDisk, n)
			if n > 640<<20 {
				t.Fatalf("after %d MiB through the queue the directory uses %d MiB", appendedBytes>>20, n>>20)
			}
			if st := f.q.Stats(); st.AppendedBytes != sinceOpen || st.Acked != uint64(sinceOpen/recSize) {
				t.Fatalf("after %d MiB: stats %+v, want %d bytes", appendedBytes>>20, st, sinceOpen)
			}
			if !reopened { // once, early: the counters then pass 2 GiB in one run
				f.reopen()
				reopened, sinceOpen = true, 0
			}
		}
	}
	st := f.q.Stats()
	if st.AppendedBytes != sinceOpen || st.Records != 0 || st.Bytes != 0 {
		t.Fatalf("stats %+v, want %d bytes appended since the reopen", st, sinceOpen)
	}
	if err := f.db.Reclaim(ctx); err != nil {
		t.Fatal(err)
	}
	end, _ := f.db.DiskUsage()
	t.Logf("%d MiB (%d records, last seq %d) through the queue in %v (%d MiB since the reopen); directory at most %d MiB, %d KiB at the end",
		appendedBytes>>20, appended, appended-1, time.Since(start).Round(time.Millisecond), sinceOpen>>20, maxDisk>>20, end>>10)
	if end > 64<<20 {
		t.Fatalf("directory uses %d MiB after draining", end>>20)
	}
	if total > math.MaxInt32 && sinceOpen <= math.MaxInt32 {
		t.Fatalf("the run did not pass 2 GiB since the reopen (%d bytes)", sinceOpen)
	}
}
