package auth

import (
	"strings"
	"testing"

	"github.com/edgemq/edgemq/broker/topic"
)

// fuzzFilter turns bytes into a filter of at most 3 levels over a small
// alphabet, or "" if the bytes give an invalid one.
func fuzzFilter(b []byte) string {
	levels := []string{"a", "b", "+", "#", "", "$a"}
	var parts []string
	for i, c := range b {
		if i == 3 {
			break
		}
		parts = append(parts, levels[int(c)%len(levels)])
	}
	if len(parts) == 0 {
		return ""
	}
	f := strings.Join(parts, "/")
	if topic.ValidFilter(f) != nil {
		return ""
	}
	return f
}

// smallTopics are every topic name of up to 4 levels over "a", "b", ""
// and "$a": enough to tell filters of up to 3 levels over the same
// levels apart.
func smallTopics() []string {
	out := []string{}
	var rec func(prefix []string)
	rec = func(prefix []string) {
		if len(prefix) > 0 {
			out = append(out, strings.Join(prefix, "/"))
		}
		if len(prefix) == 4 {
			return
		}
		for _, l := range []string{"a", "b", "", "$a"} {
			rec(append(prefix[:len(prefix):len(prefix)], l))
		}
	}
	rec(nil)
	return out
}

// FuzzCovers compares Covers with the brute-force definition: every
// topic b matches, a matches. It also checks Match against the broker's
// topic tree.
func FuzzCovers(f *testing.F) {
	f.Add([]byte{0, 3}, []byte{0, 2, 1})
	f.Add([]byte{2, 1}, []byte{0, 3})
	f.Add([]byte{3}, []byte{5, 3})
	topics := smallTopics()
	f.Fuzz(func(t *testing.T, ab, bb []byte) {
		a, b := fuzzFilter(ab), fuzzFilter(bb)
		if a == "" || b == "" {
			return
		}
		want := true
		tree := topic.NewTree[int, struct{}]()
		tree.Subscribe(a, 1, struct{}{})
		for _, tp := range topics {
			ma := Match(a, tp)
			if got := len(tree.Match(tp, nil)) == 1; got != ma {
				t.Fatalf("Match(%q, %q) = %v, topic tree says %v", a, tp, ma, got)
			}
			if Match(b, tp) && !ma {
				want = false
			}
		}
		if got := Covers(a, b); got != want {
			t.Fatalf("Covers(%q, %q) = %v, brute force says %v", a, b, got, want)
		}
	})
}
