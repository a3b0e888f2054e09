package topic

import (
	"fmt"
	"runtime"
	"testing"
)

// benchTree builds a tree of 10,000 subscriptions with client-ID keys:
//
//	6000 exact   "exact/{0..59}/{0..99}/state"
//	2000 plus    "plus/+/{0..1999}/state"
//	1000 hash    "hash/{0..998}/#" and "hash/#"
//	1000 shared  "$share/g{0..9}/shared/+/state", 100 members per group
func benchTree(b *testing.B) *Tree[string, byte] {
	b.Helper()
	tr := NewTree[string, byte]()
	sub := func(filter string, i int) {
		tr.Subscribe(filter, fmt.Sprintf("client-%05d", i), byte(i%3))
	}
	i := 0
	for ; i < 6000; i++ {
		sub(fmt.Sprintf("exact/%d/%d/state", i/100, i%100), i)
	}
	for j := range 2000 {
		sub(fmt.Sprintf("plus/+/%d/state", j), i)
		i++
	}
	for j := range 999 {
		sub(fmt.Sprintf("hash/%d/#", j), i)
		i++
	}
	sub("hash/#", i)
	i++
	for j := range 1000 {
		sub(fmt.Sprintf("$share/g%d/shared/+/state", j%10), i)
		i++
	}
	if tr.Len() != 10000 {
		b.Fatalf("Len = %d, want 10000", tr.Len())
	}
	return tr
}

func BenchmarkTopicMatch(b *testing.B) {
	tr := benchTree(b)
	for _, bc := range []struct {
		name, topic string
		want        int
	}{
		{"exact", "exact/42/7/state", 1},
		{"plus", "plus/device-9/1234/state", 1},
		{"hash", "hash/7/a/b/c", 2},
		{"shared", "shared/device-9/state", 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]Entry[string, byte], 0, 16)
			for b.Loop() {
				dst = tr.Match(bc.topic, dst[:0])
			}
			if len(dst) != bc.want {
				b.Fatalf("Match(%q) = %d entries, want %d", bc.topic, len(dst), bc.want)
			}
		})
	}
}

func BenchmarkRetainedMatch(b *testing.B) {
	r := NewRetained[int]()
	for i := range 10000 {
		r.Set(fmt.Sprintf("dev/%d/%d/state", i/100, i%100), i)
	}
	for _, bc := range []struct {
		name, filter string
		want         int
	}{
		{"exact", "dev/42/7/state", 1},
		{"plus", "dev/+/7/state", 100},
		{"hash", "dev/42/#", 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			count := func(string, int) bool { n++; return true }
			for b.Loop() {
				n = 0
				r.Match(bc.filter, count)
			}
			if n != bc.want {
				b.Fatalf("Match(%q) visited %d, want %d", bc.filter, n, bc.want)
			}
		})
	}
}

// BenchmarkSubscribe measures the cost of a subscription. B/op includes
// garbage from map and slice growth; heap-B/sub is the live heap per
// subscription after a GC, i.e. the memory a subscription keeps.
func BenchmarkSubscribe(b *testing.B) {
	for _, bc := range []struct {
		name   string
		filter func(i int) string
	}{
		// A unique filter per client, below shared prefixes: the common
		// IoT case ("devices/{id}/cmd").
		{"unique", func(i int) string { return fmt.Sprintf("site/%d/dev%d/cmd", i/1000, i) }},
		// Every client on the same filter: cost of one member.
		{"same", func(int) string { return "site/+/alarm" }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			filters := make([]string, b.N)
			keys := make([]string, b.N)
			for i := range b.N {
				filters[i] = bc.filter(i)
				keys[i] = fmt.Sprintf("client-%08d", i)
			}
			tr := NewTree[string, byte]()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				tr.Subscribe(filters[i], keys[i], 1)
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			b.ReportMetric(float64(live)/float64(b.N), "heap-B/sub")
			runtime.KeepAlive(tr)
		})
	}
}
