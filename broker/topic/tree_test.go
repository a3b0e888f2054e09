package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// subscribed returns the filter e was subscribed with, $share prefix
// included.
func subscribed[K comparable, V any](e Entry[K, V]) string {
	if e.Group != "" {
		return sharePrefix + e.Group + "/" + e.Filter
	}
	return e.Filter
}

// matchFilters returns the sorted subscribed filters of tr's matches.
func matchFilters(t *testing.T, tr *Tree[string, int], topic string) []string {
	t.Helper()
	var got []string
	for _, e := range tr.Match(topic, nil) {
		got = append(got, subscribed(e))
	}
	slices.Sort(got)
	return got
}

func TestTreeMatch(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		topic   string
		want    []string
	}{
		{"exact", []string{"a/b"}, "a/b", []string{"a/b"}},
		{"exact miss", []string{"a/b"}, "a/c", nil},
		{"case sensitive", []string{"a/b"}, "A/b", nil},
		{"shorter filter", []string{"a"}, "a/b", nil},
		{"longer filter", []string{"a/b"}, "a", nil},
		{"plus one level", []string{"a/+"}, "a/b", []string{"a/+"}},
		{"plus not two levels", []string{"a/+"}, "a/b/c", nil},
		{"plus not zero levels", []string{"a/+"}, "a", nil},
		{"plus empty level", []string{"a/+"}, "a/", []string{"a/+"}},
		{"plus first empty level", []string{"+/b"}, "/b", []string{"+/b"}},
		{"plus alone one level", []string{"+"}, "a", []string{"+"}},
		{"plus alone not two levels", []string{"+"}, "/", nil},
		{"plus plus slash", []string{"+/+", "/+"}, "/", []string{"+/+", "/+"}},
		{"plus middle", []string{"a/+/c"}, "a/b/c", []string{"a/+/c"}},
		{"plus middle miss", []string{"a/+/c"}, "a/b/d", nil},
		{"hash children", []string{"sport/#"}, "sport/tennis/player1", []string{"sport/#"}},
		{"hash parent", []string{"sport/#"}, "sport", []string{"sport/#"}},
		{"hash empty child", []string{"sport/#"}, "sport/", []string{"sport/#"}},
		{"hash not prefix", []string{"sport/#"}, "sports", nil},
		{"hash alone", []string{"#"}, "a/b/c", []string{"#"}},
		{"hash alone slash", []string{"#"}, "/", []string{"#"}},
		{"plus hash parent", []string{"+/#"}, "a", []string{"+/#"}},
		{"plus hash not grandparent", []string{"a/+/#"}, "a", nil},
		{"plus hash", []string{"a/+/#"}, "a/b", []string{"a/+/#"}},
		{"slash hash", []string{"/#"}, "/a", []string{"/#"}},
		{"slash hash parent", []string{"/#"}, "/", []string{"/#"}},
		{"dollar hash", []string{"#"}, "$SYS/uptime", nil},
		{"dollar plus", []string{"+/uptime"}, "$SYS/uptime", nil},
		{"dollar plus hash", []string{"+/#"}, "$SYS", nil},
		{"dollar explicit", []string{"$SYS/#"}, "$SYS/uptime", []string{"$SYS/#"}},
		{"dollar explicit parent", []string{"$SYS/#"}, "$SYS", []string{"$SYS/#"}},
		{"dollar explicit plus", []string{"$SYS/+"}, "$SYS/uptime", []string{"$SYS/+"}},
		{"dollar second level", []string{"a/+", "a/#"}, "a/$b", []string{"a/#", "a/+"}},
		{"dollar shared hash", []string{"$share/g/#"}, "$SYS/x", nil},
		{"empty levels", []string{"a//b", "a/+/b", "a/b", "+//+"}, "a//b", []string{"+//+", "a/+/b", "a//b"}},
		{"leading slash", []string{"/a", "+/a", "a"}, "/a", []string{"+/a", "/a"}},
		{"trailing slash", []string{"a/", "a/+", "a"}, "a/", []string{"a/", "a/+"}},
		{"overlapping", []string{"a/b", "a/+", "a/#", "#", "+/b", "+/+", "+/#", "a/b/#", "a/c", "b/#"}, "a/b",
			[]string{"#", "+/#", "+/+", "+/b", "a/#", "a/+", "a/b", "a/b/#"}},
		{"shared", []string{"$share/g/a/+"}, "a/b", []string{"$share/g/a/+"}},
		{"shared and normal", []string{"$share/g/a/+", "$share/h/a/+", "a/+", "$share/g/a/#"}, "a/b",
			[]string{"$share/g/a/#", "$share/g/a/+", "$share/h/a/+", "a/+"}},
		{"shared miss", []string{"$share/g/a/+"}, "a", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTree[string, int]()
			for i, f := range tt.filters {
				if err := ValidFilter(f); err != nil {
					t.Fatalf("bad test filter %q: %v", f, err)
				}
				tr.Subscribe(f, fmt.Sprint("k", i), i)
			}
			got := matchFilters(t, tr, tt.topic)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q) = %q, want %q", tt.topic, got, tt.want)
			}
		})
	}
}

func TestTreeSubscribeReplace(t *testing.T) {
	tr := NewTree[string, int]()
	if got := tr.Subscribe("a/+", "c", 1); !got {
		t.Errorf("first Subscribe = %v, want true", got)
	}
	if got := tr.Subscribe("a/+", "c", 2); got {
		t.Errorf("second Subscribe = %v, want false", got)
	}
	if got := tr.Subscribe("$share/g/a/+", "c", 3); !got {
		t.Errorf("shared Subscribe = %v, want true", got)
	}
	if got := tr.Subscribe("$share/g/a/+", "c", 4); got {
		t.Errorf("shared re-Subscribe = %v, want false", got)
	}
	if got := tr.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	got := tr.Match("a/b", nil)
	slices.SortFunc(got, func(a, b Entry[string, int]) int { return a.Value - b.Value })
	want := []Entry[string, int]{
		{Key: "c", Value: 2, Filter: "a/+"},
		{Key: "c", Value: 4, Filter: "a/+", Group: "g"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Match = %+v, want %+v", got, want)
	}
}

func TestTreeOverlappingSameKey(t *testing.T) {
	tr := NewTree[string, int]()
	for i, f := range []string{"a/+", "a/#", "#", "a/b"} {
		tr.Subscribe(f, "c", i)
	}
	got := tr.Match("a/b", nil)
	if len(got) != 4 {
		t.Fatalf("Match = %+v, want one entry per filter", got)
	}
	for _, e := range got {
		if e.Key != "c" {
			t.Errorf("entry key = %q, want c", e.Key)
		}
	}
}

func TestTreeSharedRoundRobin(t *testing.T) {
	tr := NewTree[string, int]()
	members := []string{"m0", "m1", "m2"}
	for i, m := range members {
		tr.Subscribe("$share/g/s/+", m, i)
	}
	tr.Subscribe("$share/other/s/+", "x", 9)

	turns := func(rounds, size int) map[string]int {
		t.Helper()
		count := map[string]int{}
		for r := range rounds {
			seen := map[string]bool{}
			for range size {
				var mine []Entry[string, int]
				for _, e := range tr.Match("s/1", nil) {
					if e.Group == "g" {
						mine = append(mine, e)
					}
				}
				if len(mine) != 1 {
					t.Fatalf("round %d: %d entries for group g, want 1", r, len(mine))
				}
				seen[mine[0].Key] = true
				count[mine[0].Key]++
			}
			if len(seen) != size {
				t.Fatalf("round %d: members %v, want each of %d once", r, seen, size)
			}
		}
		return count
	}
	if got := turns(10, 3); got["m0"] != 10 || got["m1"] != 10 || got["m2"] != 10 {
		t.Errorf("turns = %v, want 10 each", got)
	}
	if !tr.Unsubscribe("$share/g/s/+", "m1") {
		t.Fatal("Unsubscribe m1 = false")
	}
	if got := turns(10, 2); got["m0"] != 10 || got["m2"] != 10 {
		t.Errorf("turns after leave = %v, want 10 each for m0 and m2", got)
	}
}

func TestTreeUnsubscribe(t *testing.T) {
	tr := NewTree[string, int]()
	tr.Subscribe("a/b", "c", 0)
	tr.Subscribe("$share/g/a/b", "c", 0)
	tests := []struct {
		filter, key string
		want        bool
	}{
		{"a/b", "other", false},
		{"a/c", "c", false},
		{"a", "c", false},
		{"a/b/c", "c", false},
		{"a/+", "c", false},
		{"$share/h/a/b", "c", false},
		{"$share/g/a/b", "other", false},
		{"a/b", "c", true},
		{"a/b", "c", false},
		{"$share/g/a/b", "c", true},
		{"$share/g/a/b", "c", false},
	}
	for _, tt := range tests {
		if got := tr.Unsubscribe(tt.filter, tt.key); got != tt.want {
			t.Errorf("Unsubscribe(%q, %q) = %v, want %v", tt.filter, tt.key, got, tt.want)
		}
	}
	if got, nodes := tr.Len(), tr.nodeCount(); got != 0 || nodes != 0 {
		t.Errorf("Len, nodes = %d, %d, want 0, 0", got, nodes)
	}
}

func TestTreeChurnPrunes(t *testing.T) {
	tr := NewTree[string, int]()
	levels := []string{"a", "b", "", "+", "$x"}
	rnd := rand.New(rand.NewPCG(1, 2))
	randFilter := func() string {
		var sb strings.Builder
		for i := range 1 + rnd.IntN(4) {
			if i > 0 {
				sb.WriteByte('/')
			}
			sb.WriteString(levels[rnd.IntN(len(levels))])
		}
		if rnd.IntN(4) == 0 {
			sb.WriteString("/#")
		}
		if rnd.IntN(4) == 0 {
			return fmt.Sprintf("$share/g%d/%s", rnd.IntN(2), sb.String())
		}
		return sb.String()
	}
	type sub struct{ filter, key string }
	live := map[sub]bool{}
	for i := range 20000 {
		s := sub{randFilter(), fmt.Sprint("k", rnd.IntN(40))}
		if live[s] {
			if !tr.Unsubscribe(s.filter, s.key) {
				t.Fatalf("op %d: Unsubscribe(%q, %q) = false", i, s.filter, s.key)
			}
			delete(live, s)
		} else {
			if !tr.Subscribe(s.filter, s.key, i) {
				t.Fatalf("op %d: Subscribe(%q, %q) = false", i, s.filter, s.key)
			}
			live[s] = true
		}
		if got := tr.Len(); got != len(live) {
			t.Fatalf("op %d: Len = %d, want %d", i, got, len(live))
		}
	}
	for s := range live {
		if !tr.Unsubscribe(s.filter, s.key) {
			t.Fatalf("Unsubscribe(%q, %q) = false", s.filter, s.key)
		}
	}
	if got, nodes := tr.Len(), tr.nodeCount(); got != 0 || nodes != 0 {
		t.Errorf("after churn: Len, nodes = %d, %d, want 0, 0", got, nodes)
	}
	if tr.root.kids.len() != 0 || tr.root.plus != nil || tr.root.hash != nil {
		t.Errorf("root not empty after churn: %+v", tr.root)
	}
}

// TestTreeManySubscribers exercises the keyed index of large sub lists.
func TestTreeManySubscribers(t *testing.T) {
	tr := NewTree[int, int]()
	const n = 200
	for _, f := range []string{"a/+", "$share/g/a/+"} {
		for k := range n {
			tr.Subscribe(f, k, k)
		}
		for k := range n {
			if tr.Subscribe(f, k, -k) {
				t.Fatalf("re-Subscribe(%q, %d) = true", f, k)
			}
		}
	}
	if got := len(tr.Match("a/b", nil)); got != n+1 {
		t.Errorf("Match entries = %d, want %d", got, n+1)
	}
	for _, e := range tr.Match("a/b", nil) {
		if e.Value != -e.Key {
			t.Errorf("entry %+v: value not replaced", e)
		}
	}
	for _, k := range rand.New(rand.NewPCG(3, 4)).Perm(n) {
		for _, f := range []string{"a/+", "$share/g/a/+"} {
			if !tr.Unsubscribe(f, k) {
				t.Fatalf("Unsubscribe(%q, %d) = false", f, k)
			}
			if tr.Unsubscribe(f, k) {
				t.Fatalf("second Unsubscribe(%q, %d) = true", f, k)
			}
		}
		for _, e := range tr.Match("a/b", nil) {
			if e.Key == k {
				t.Fatalf("key %d still matched after Unsubscribe", k)
			}
		}
	}
	if got, nodes := tr.Len(), tr.nodeCount(); got != 0 || nodes != 0 {
		t.Errorf("Len, nodes = %d, %d, want 0, 0", got, nodes)
	}
}

func TestTreeMatchNoAlloc(t *testing.T) {
	tr := NewTree[string, int]()
	for i, f := range []string{"a/b/c", "a/+/c", "a/#", "#", "$share/g/a/+/c", "$share/g/+/+/+"} {
		tr.Subscribe(f, fmt.Sprint("k", i), i)
	}
	dst := make([]Entry[string, int], 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		dst = tr.Match("a/b/c", dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Match allocs = %v, want 0", allocs)
	}
	if len(dst) != 6 {
		t.Errorf("Match entries = %d, want 6", len(dst))
	}
}
