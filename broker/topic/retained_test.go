package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// retainedMatch returns the sorted topics r.Match(filter) visits.
func retainedMatch(t *testing.T, r *Retained[int], filter string) []string {
	t.Helper()
	var got []string
	r.Match(filter, func(topic string, v int) bool {
		got = append(got, topic)
		return true
	})
	slices.Sort(got)
	return got
}

func TestRetainedMatch(t *testing.T) {
	topics := []string{
		"sport", "sport/tennis", "sport/tennis/player1", "sport/golf", "sports",
		"a//b", "/", "/a", "a/", "$SYS", "$SYS/uptime", "$SYS/a/b", "x/$y",
	}
	r := NewRetained[int]()
	for i, tp := range topics {
		r.Set(tp, i)
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{"sport", []string{"sport"}},
		{"sport/tennis", []string{"sport/tennis"}},
		{"sport/nope", nil},
		{"sport/tennis/player1/x", nil},
		{"sport/#", []string{"sport", "sport/golf", "sport/tennis", "sport/tennis/player1"}},
		{"sport/+", []string{"sport/golf", "sport/tennis"}},
		{"sport/+/#", []string{"sport/golf", "sport/tennis", "sport/tennis/player1"}},
		{"+", []string{"sport", "sports"}},
		{"+/+", []string{"/", "/a", "a/", "sport/golf", "sport/tennis", "x/$y"}},
		{"+/tennis/+", []string{"sport/tennis/player1"}},
		{"a/+/b", []string{"a//b"}},
		{"a/+", []string{"a/"}},
		{"/#", []string{"/", "/a"}},
		{"#", []string{"/", "/a", "a/", "a//b", "sport", "sport/golf", "sport/tennis", "sport/tennis/player1", "sports", "x/$y"}},
		{"+/#", []string{"/", "/a", "a/", "a//b", "sport", "sport/golf", "sport/tennis", "sport/tennis/player1", "sports", "x/$y"}},
		{"$SYS/#", []string{"$SYS", "$SYS/a/b", "$SYS/uptime"}},
		{"$SYS/+", []string{"$SYS/uptime"}},
		{"+/uptime", nil},
		{"x/+", []string{"x/$y"}},
	}
	for _, tt := range tests {
		if got := retainedMatch(t, r, tt.filter); !slices.Equal(got, tt.want) {
			t.Errorf("Match(%q) = %q, want %q", tt.filter, got, tt.want)
		}
	}
}

func TestRetainedMatchStops(t *testing.T) {
	r := NewRetained[int]()
	for i := range 50 {
		r.Set(fmt.Sprintf("a/%d/b", i), i)
	}
	for _, filter := range []string{"#", "a/#", "a/+/b", "+/+/+"} {
		calls := 0
		r.Match(filter, func(string, int) bool {
			calls++
			return calls < 3
		})
		if calls != 3 {
			t.Errorf("Match(%q): fn called %d times after returning false, want 3", filter, calls)
		}
	}
}

func TestRetainedSetGetDelete(t *testing.T) {
	r := NewRetained[int]()
	steps := []struct {
		op    string // set, get, del
		topic string
		v     int
		ok    bool
		count int
	}{
		{"get", "a/b", 0, false, 0},
		{"set", "a/b", 1, true, 1},
		{"get", "a/b", 1, true, 1},
		{"get", "a", 0, false, 1},
		{"get", "a/b/c", 0, false, 1},
		{"set", "a/b", 2, true, 1},
		{"get", "a/b", 2, true, 1},
		{"set", "a", 3, true, 2},
		{"set", "a/b/c", 4, true, 3},
		{"del", "a/b", 0, true, 2},
		{"get", "a/b", 0, false, 2},
		{"get", "a/b/c", 4, true, 2},
		{"del", "a/b", 0, false, 2},
		{"del", "a/x", 0, false, 2},
		{"del", "a/b/c/d", 0, false, 2},
		{"set", "a//", 5, true, 3},
		{"get", "a//", 5, true, 3},
		{"get", "a/", 0, false, 3},
		{"set", "$SYS/x", 6, true, 4},
		{"get", "$SYS/x", 6, true, 4},
		{"del", "a//", 0, true, 3},
		{"del", "a/b/c", 0, true, 2},
		{"del", "a", 0, true, 1},
		{"del", "$SYS/x", 0, true, 0},
		{"get", "a", 0, false, 0},
	}
	for i, s := range steps {
		switch s.op {
		case "set":
			r.Set(s.topic, s.v)
		case "get":
			v, ok := r.Get(s.topic)
			if v != s.v || ok != s.ok {
				t.Errorf("step %d: Get(%q) = %d, %v, want %d, %v", i, s.topic, v, ok, s.v, s.ok)
			}
		case "del":
			if ok := r.Delete(s.topic); ok != s.ok {
				t.Errorf("step %d: Delete(%q) = %v, want %v", i, s.topic, ok, s.ok)
			}
		}
		if got := r.Len(); got != s.count {
			t.Errorf("step %d: Len = %d, want %d", i, got, s.count)
		}
	}
	if got := r.nodeCount(); got != 0 {
		t.Errorf("nodes = %d after deleting everything, want 0", got)
	}
}

func TestRetainedChurnPrunes(t *testing.T) {
	r := NewRetained[int]()
	levels := []string{"a", "b", "", "$x"}
	rnd := rand.New(rand.NewPCG(5, 6))
	live := map[string]bool{}
	for i := range 20000 {
		parts := make([]string, 1+rnd.IntN(4))
		for j := range parts {
			parts[j] = levels[rnd.IntN(len(levels))]
		}
		tp := strings.Join(parts, "/")
		if live[tp] {
			if !r.Delete(tp) {
				t.Fatalf("op %d: Delete(%q) = false", i, tp)
			}
			delete(live, tp)
		} else {
			r.Set(tp, i)
			live[tp] = true
		}
		if got := r.Len(); got != len(live) {
			t.Fatalf("op %d: Len = %d, want %d", i, got, len(live))
		}
	}
	for tp := range live {
		r.Delete(tp)
	}
	if got, nodes := r.Len(), r.nodeCount(); got != 0 || nodes != 0 {
		t.Errorf("after churn: Len, nodes = %d, %d, want 0, 0", got, nodes)
	}
}
