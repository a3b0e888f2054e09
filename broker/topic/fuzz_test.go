package topic

import (
	"slices"
	"strings"
	"testing"
)

// matchFilter is the reference matcher: a plain (non-shared) filter against
// a topic name, by splitting both into levels.
func matchFilter(filter, topic string) bool {
	if filter == "" || topic == "" {
		return false
	}
	if topic[0] == '$' && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fl {
		if f == "#" {
			return true
		}
		if i >= len(tl) || (f != "+" && f != tl[i]) {
			return false
		}
	}
	return len(fl) == len(tl)
}

// refSub is a subscription as the reference model keeps it.
type refSub struct {
	filter string // as subscribed, $share prefix included
	key    int
}

// checkTreeMatch compares tr.Match(topic) with the reference model subs
// (subscription -> value).
func checkTreeMatch(t *testing.T, tr *Tree[int, int], subs map[refSub]int, topic string) {
	t.Helper()
	type groupKey struct{ group, filter string }
	want := map[refSub]int{}          // normal subscriptions expected
	groups := map[groupKey][]refSub{} // matching shared groups and members
	for s, v := range subs {
		group, f, shared := ParseShared(s.filter)
		if !matchFilter(f, topic) {
			continue
		}
		if shared {
			g := groupKey{group, f}
			groups[g] = append(groups[g], s)
		} else {
			want[s] = v
		}
	}
	got := tr.Match(topic, nil)
	seenGroups := map[groupKey]bool{}
	for _, e := range got {
		s := refSub{subscribed(e), e.Key}
		if e.Group != "" {
			g := groupKey{e.Group, e.Filter}
			if seenGroups[g] {
				t.Errorf("Match(%q): group %v returned twice", topic, g)
			}
			seenGroups[g] = true
			if !slices.Contains(groups[g], s) {
				t.Errorf("Match(%q): unexpected shared entry %+v", topic, e)
			} else if subs[s] != e.Value {
				t.Errorf("Match(%q): entry %+v, want value %d", topic, e, subs[s])
			}
			continue
		}
		v, ok := want[s]
		switch {
		case !ok:
			t.Errorf("Match(%q): unexpected or repeated entry %+v", topic, e)
		case v != e.Value:
			t.Errorf("Match(%q): entry %+v, want value %d", topic, e, v)
		}
		delete(want, s)
	}
	for s := range want {
		t.Errorf("Match(%q): missing %+v", topic, s)
	}
	for g := range groups {
		if !seenGroups[g] {
			t.Errorf("Match(%q): missing shared group %v", topic, g)
		}
	}
}

// FuzzTreeMatch subscribes a NUL-separated list of filters (invalid ones are
// skipped) and compares Match against the reference matcher, then
// unsubscribes everything and checks that the tree is empty.
func FuzzTreeMatch(f *testing.F) {
	f.Add("a/+\x00a/#\x00#\x00$share/g/a/+", "a/b")
	f.Fuzz(func(t *testing.T, filters, topic string) {
		if ValidName(topic) != nil {
			return
		}
		tr := NewTree[int, int]()
		subs := map[refSub]int{}
		for i, filter := range strings.Split(filters, "\x00") {
			if ValidFilter(filter) != nil {
				continue
			}
			s := refSub{filter, i % 3}
			_, had := subs[s]
			if added := tr.Subscribe(filter, s.key, i); added == had {
				t.Fatalf("Subscribe(%q, %d) = %v, want %v", filter, s.key, added, !had)
			}
			subs[s] = i
		}
		if got := tr.Len(); got != len(subs) {
			t.Fatalf("Len = %d, want %d", got, len(subs))
		}
		checkTreeMatch(t, tr, subs, topic)
		for s := range subs { // remove half, check again
			if s.key != 0 {
				continue
			}
			if !tr.Unsubscribe(s.filter, s.key) {
				t.Fatalf("Unsubscribe(%q, %d) = false", s.filter, s.key)
			}
			delete(subs, s)
		}
		checkTreeMatch(t, tr, subs, topic)
		for s := range subs {
			if !tr.Unsubscribe(s.filter, s.key) {
				t.Fatalf("Unsubscribe(%q, %d) = false", s.filter, s.key)
			}
		}
		if got, nodes := tr.Len(), tr.nodeCount(); got != 0 || nodes != 0 {
			t.Fatalf("after unsubscribing all: Len, nodes = %d, %d, want 0, 0", got, nodes)
		}
	})
}

// FuzzValidFilter checks that validation never panics and that every valid
// filter can be subscribed and matches like the reference matcher.
func FuzzValidFilter(f *testing.F) {
	f.Add("a/+/#", "a/b/c")
	f.Fuzz(func(t *testing.T, filter, topic string) {
		errName, errFilter := ValidName(topic), ValidFilter(filter)
		group, plain, shared := ParseShared(filter)
		if !shared && plain != filter {
			t.Fatalf("ParseShared(%q) = %q, %q, false", filter, group, plain)
		}
		if shared && sharePrefix+group+"/"+plain != filter && plain != "" {
			t.Fatalf("ParseShared(%q) = %q, %q, true: does not rebuild the filter", filter, group, plain)
		}
		if errName == nil && ValidFilter(topic) != nil && !strings.HasPrefix(topic, sharePrefix) {
			t.Fatalf("valid name %q rejected as a filter: %v", topic, ValidFilter(topic))
		}
		if errFilter != nil {
			return
		}
		if strings.ContainsRune(filter, 0) || (shared && (group == "" || plain == "")) {
			t.Fatalf("ValidFilter(%q) accepted it", filter)
		}
		tr := NewTree[int, int]()
		if !tr.Subscribe(filter, 1, 1) {
			t.Fatalf("Subscribe(%q) = false on an empty tree", filter)
		}
		if errName == nil {
			checkTreeMatch(t, tr, map[refSub]int{{filter, 1}: 1}, topic)
		}
		if !tr.Unsubscribe(filter, 1) || tr.Len() != 0 || tr.nodeCount() != 0 {
			t.Fatalf("Unsubscribe(%q) did not empty the tree", filter)
		}
	})
}

// FuzzRetainedMatch stores a NUL-separated list of topics (invalid names are
// skipped) and compares Match against the reference matcher, then deletes
// everything and checks that the index is empty.
func FuzzRetainedMatch(f *testing.F) {
	f.Add("a/b\x00a\x00$SYS/x\x00a//b", "a/#")
	f.Fuzz(func(t *testing.T, topics, filter string) {
		if ValidFilter(filter) != nil {
			return
		}
		_, filter, _ = ParseShared(filter)
		r := NewRetained[int]()
		want := map[string]int{}
		for i, topic := range strings.Split(topics, "\x00") {
			if ValidName(topic) != nil {
				continue
			}
			r.Set(topic, i)
			want[topic] = i
		}
		if got := r.Len(); got != len(want) {
			t.Fatalf("Len = %d, want %d", got, len(want))
		}
		for topic, v := range want {
			if got, ok := r.Get(topic); !ok || got != v {
				t.Fatalf("Get(%q) = %d, %v, want %d, true", topic, got, ok, v)
			}
			if !matchFilter(filter, topic) {
				delete(want, topic)
			}
		}
		calls := 0
		r.Match(filter, func(topic string, v int) bool {
			calls++
			if w, ok := want[topic]; !ok || w != v {
				t.Errorf("Match(%q): unexpected or repeated %q=%d", filter, topic, v)
			}
			delete(want, topic)
			return true
		})
		for topic := range want {
			t.Errorf("Match(%q): missing %q", filter, topic)
		}
		if calls > 0 {
			stopped := 0
			r.Match(filter, func(string, int) bool { stopped++; return false })
			if stopped != 1 {
				t.Errorf("Match(%q) called fn %d times after it returned false", filter, stopped)
			}
		}
		for _, topic := range strings.Split(topics, "\x00") {
			r.Delete(topic)
		}
		if got, nodes := r.Len(), r.nodeCount(); got != 0 || nodes != 0 {
			t.Fatalf("after deleting all: Len, nodes = %d, %d, want 0, 0", got, nodes)
		}
	})
}
