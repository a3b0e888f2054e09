package topic

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrent runs writers and readers in parallel; run it with -race.
func TestConcurrent(t *testing.T) {
	const workers, loops = 4, 500
	tr := NewTree[int, int]()
	r := NewRetained[int]()
	tr.Subscribe("$share/g/s/+", -1, 0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range loops {
				f := fmt.Sprintf("s/%d", i%10)
				tr.Subscribe(f, w, i)
				tr.Subscribe("$share/g/"+f, w, i)
				r.Set(f, i)
				if i%3 == 0 {
					tr.Unsubscribe(f, w)
					tr.Unsubscribe("$share/g/"+f, w)
					r.Delete(f)
				}
			}
		})
		wg.Go(func() {
			dst := make([]Entry[int, int], 0, 64)
			for i := range loops {
				dst = tr.Match(fmt.Sprintf("s/%d", i%10), dst[:0])
				shared := 0
				for _, e := range dst {
					if e.Group != "" {
						shared++
					}
				}
				if shared == 0 || shared > 2 {
					t.Errorf("shared entries = %d, want 1 or 2", shared)
					return
				}
				r.Match("s/+", func(string, int) bool { return true })
				r.Get("s/1")
				_ = tr.Len() + r.Len()
			}
		})
	}
	wg.Wait()
}
