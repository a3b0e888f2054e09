package storefwd

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory benchmark queues this many records; the figure in the
// report uses -storefwd.records=1000000. The default keeps
// `go test -bench . -benchtime 1x` (make test) quick.
var benchRecords = flag.Int("storefwd.records", 20000, "records queued by BenchmarkQueueMemory")

var recordSizes = []struct {
	name string
	size int
}{{"64B", 64}, {"1KB", 1024}}

// BenchmarkQueueAppend measures durable appends of one record per Append
// with 1, 8 and 64 concurrent appenders, without group commit (sync: one
// fsync per Append) and with it.
func BenchmarkQueueAppend(b *testing.B) {
	for _, mode := range []struct {
		name  string
		group int
	}{{"sync", 1}, {"groupcommit", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			for _, rs := range recordSizes {
				b.Run(rs.name, func(b *testing.B) {
					for _, appenders := range []int{1, 8, 64} {
						b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
							benchAppend(b, mode.group, rs.size, appenders)
						})
					}
				})
			}
		})
	}
}

func benchAppend(b *testing.B, group, size, appenders int) {
	opts := Options{Limits: Limits{MaxBytes: 4 << 30}, GroupRequests: group}
	f := newFixture(b, opts)
	data := make([]byte, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for a := range appenders {
		n := b.N / appenders
		if a < b.N%appenders {
			n++
		}
		wg.Go(func() {
			recs := make([]Record, 1)
			for range n {
				recs[0] = Record{Data: data}
				if err := f.q.Append(context.Background(), recs); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	ks := f.db.Stats()
	if ks.SyncRounds > 0 {
		b.ReportMetric(float64(b.N)/float64(ks.SyncRounds), "records/sync")
	}
}

// BenchmarkQueueReadAck measures Next plus Ack of queued records. The
// records are appended in chunks of 10,000 with the timer stopped.
func BenchmarkQueueReadAck(b *testing.B) {
	benchReadAck(b, func(b *testing.B, q *Queue, chunk int) {
		ctx := context.Background()
		for range chunk {
			r, err := q.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := q.Ack(r.Seq); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkQueueReadAckBatch is BenchmarkQueueReadAck with TryNextBatch
// and AckBatch, 64 records at a time (the bridge's way).
func BenchmarkQueueReadAckBatch(b *testing.B) {
	var got []Record
	var acks []uint64
	benchReadAck(b, func(b *testing.B, q *Queue, chunk int) {
		for left := chunk; left > 0; left -= len(got) {
			var err error
			got, _, err = q.TryNextBatch(got[:0], min(64, left))
			if err != nil || len(got) == 0 {
				b.Fatalf("TryNextBatch: %d records, %v", len(got), err)
			}
			acks = acks[:0]
			for _, r := range got {
				acks = append(acks, r.Seq)
			}
			if err := q.AckBatch(acks); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchReadAck runs drain, timed, over the records of each record size,
// which it appends in chunks of 10,000 with the timer stopped; drain must
// read and acknowledge chunk records of q.
func benchReadAck(b *testing.B, drain func(b *testing.B, q *Queue, chunk int)) {
	for _, rs := range recordSizes {
		b.Run(rs.name, func(b *testing.B) {
			opts := Options{Limits: Limits{MaxBytes: 4 << 30}, Window: 256}
			f := newFixture(b, opts)
			recs := make([]Record, 1000)
			data := make([]byte, rs.size)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(rs.size))
			b.ResetTimer()
			var timed time.Duration
			for done := 0; done < b.N; {
				b.StopTimer()
				chunk := min(10000, b.N-done)
				for left := chunk; left > 0; left -= len(recs) {
					batch := recs[:min(left, len(recs))]
					for i := range batch {
						batch[i] = Record{Data: data}
					}
					if err := f.q.Append(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				drain(b, f.q, chunk)
				timed += time.Since(start)
				done += chunk
			}
			b.ReportMetric(float64(b.N)/timed.Seconds(), "records/s")
		})
	}
}

// BenchmarkQueueMemory queues -storefwd.records records and reports the
// process's memory, the bytes written to disk per payload byte queued
// (/proc/self/io write_bytes), the disk used and the time to reopen the
// queue. "batched" appends 100 records per Append from 8 appenders (a
// backlog building up); "single" appends one record per Append from 8
// appenders (group commit only). Run one sub-benchmark per process for
// clean RSS figures, e.g.
//
//	go test -run '^$' -bench 'QueueMemory/batched/64B' -benchtime 1x ./storefwd/ -args -storefwd.records=1000000
func BenchmarkQueueMemory(b *testing.B) {
	for _, mode := range []struct {
		name  string
		batch int
	}{{"batched", 100}, {"single", 1}} {
		b.Run(mode.name, func(b *testing.B) {
			for _, rs := range recordSizes {
				b.Run(rs.name, func(b *testing.B) {
					for range b.N {
						benchMemory(b, *benchRecords, rs.size, mode.batch)
					}
				})
			}
		})
	}
}

func benchMemory(b *testing.B, total, size, batch int) {
	b.StopTimer()
	opts := Options{Limits: Limits{MaxBytes: 8 << 30}}
	f := newFixture(b, opts)
	const appenders = 8
	w0 := procIO(b)["write_bytes"]
	start := time.Now()
	var wg sync.WaitGroup
	// Incompressible payloads (the blocks are S2-compressed): a pool of
	// distinct records larger than a block, cycled.
	pool := makeRecords(0, 1024, size)
	for a := range appenders {
		wg.Go(func() {
			recs := make([]Record, batch)
			for i := a * batch; i < total; i += appenders * batch {
				n := min(batch, total-i)
				for k := range recs[:n] {
					recs[k] = Record{Data: pool[(i+k)%len(pool)].Data}
				}
				if err := f.q.Append(context.Background(), recs[:n]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	appendTime := time.Since(start)
	w1 := procIO(b)["write_bytes"]
	payload := float64(total) * float64(size)
	st := f.q.Stats()
	if st.Records != int64(total) {
		b.Fatalf("queued %d records, want %d", st.Records, total)
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mem := procStatus(b)
	b.ReportMetric(float64(total)/appendTime.Seconds(), "records/s")
	b.ReportMetric(float64(w1-w0)/payload, "write-amp")
	b.ReportMetric(float64(mem["VmRSS"])/1024, "rss-MiB")
	b.ReportMetric(float64(mem["RssAnon"])/1024, "anon-MiB")
	b.ReportMetric(float64(mem["RssFile"])/1024, "file-MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(st.DiskBytes)/(1<<20), "disk-MiB")
	// What the gateway shows in steady state: its database trims the
	// mapped files' pages every 10 s (kv.Options.TrimInterval).
	if _, err := f.db.TrimMappings(); err != nil {
		b.Fatal(err)
	}
	mem = procStatus(b)
	b.ReportMetric(float64(mem["VmRSS"])/1024, "trimmed-rss-MiB")
	t0 := time.Now()
	f.reopen()
	b.ReportMetric(float64(time.Since(t0).Milliseconds()), "reopen-ms")
	if st := f.q.Stats(); st.Records != int64(total) {
		b.Fatalf("after reopen %d records, want %d", st.Records, total)
	}
	runtime.GC()
	debug.FreeOSMemory()
	mem = procStatus(b)
	b.ReportMetric(float64(mem["VmRSS"])/1024, "reopened-rss-MiB")
}

// procIO reads /proc/self/io.
func procIO(b *testing.B) map[string]int64 { return readProcKV(b, "/proc/self/io", "") }

// procStatus reads the kB fields of /proc/self/status.
func procStatus(b *testing.B) map[string]int64 { return readProcKV(b, "/proc/self/status", " kB") }

func readProcKV(b *testing.B, path, suffix string) map[string]int64 {
	file, err := os.Open(path)
	if err != nil {
		b.Skipf("%s: %v", path, err)
	}
	defer file.Close()
	m := make(map[string]int64)
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSuffix(strings.TrimSpace(v), suffix)
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}
