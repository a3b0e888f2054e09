package broker

import (
	"slices"
	"testing"
)

func TestAckQueue(t *testing.T) {
	acks := make([]*pendingAck, 200)
	for i := range acks {
		acks[i] = &pendingAck{pid: uint16(i + 1)}
	}
	pids := func(q *ackQueue) []uint16 {
		var out []uint16
		for _, a := range q.all() {
			out = append(out, a.pid)
		}
		return out
	}
	// Each step pushes push acks (the next ones in order), then pops pop.
	type step struct{ push, pop int }
	tests := []struct {
		name  string
		steps []step
	}{
		{"one at a time", []step{{1, 1}, {1, 1}, {1, 1}}},
		{"burst then drain", []step{{10, 0}, {0, 10}, {3, 3}}},
		{"steady backlog wraps", []step{{8, 4}, {4, 4}, {4, 4}, {4, 4}, {0, 4}}},
		{"large burst", []step{{150, 150}, {2, 1}}},
		{"large burst drained", []step{{150, 0}, {0, 150}}},
		{"large burst down to one", []step{{150, 0}, {0, 149}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q ackQueue
			var want []uint16
			next := 0
			for i, s := range tt.steps {
				for range s.push {
					q.push(acks[next])
					want = append(want, acks[next].pid)
					next++
				}
				for range s.pop {
					if f := q.front(); f == nil || f.pid != want[0] {
						t.Fatalf("step %d: front = %v, want pid %d", i, f, want[0])
					}
					q.pop()
					want = want[1:]
				}
				if got := pids(&q); !slices.Equal(got, want) {
					t.Fatalf("step %d: queue %v, want %v", i, got, want)
				}
				if q.len() != len(want) {
					t.Fatalf("step %d: len %d, want %d", i, q.len(), len(want))
				}
				// Popped and unused slots hold no pointer (the acks can be
				// collected).
				for _, a := range append(q.q[:q.head:q.head], q.q[len(q.q):cap(q.q)]...) {
					if a != nil {
						t.Fatalf("step %d: a free slot still holds pid %d", i, a.pid)
					}
				}
				// A burst's array goes as the burst drains.
				if limit := max(4*q.len(), maxKeptAcks); cap(q.q) > limit {
					t.Fatalf("step %d: %d queued in an array of %d (limit %d)", i, q.len(), cap(q.q), limit)
				}
			}
			if len(want) == 0 && q.front() != nil {
				t.Fatal("front of an empty queue is not nil")
			}
			if q.len() == 0 && cap(q.q) > maxKeptAcks {
				t.Fatalf("drained queue keeps an array of %d", cap(q.q))
			}
			q.release()
			if q.len() == 0 && q.q != nil {
				t.Fatal("release kept the array of an empty queue")
			}
		})
	}
}

// A publisher whose acknowledgements go out one at a time reuses the
// queue's array; a backlog that never drains does not grow it either.
func TestAckQueueReuse(t *testing.T) {
	var q ackQueue
	a := &pendingAck{}
	if n := testing.AllocsPerRun(100, func() { q.push(a); q.pop() }); n != 0 {
		t.Errorf("push+pop: %v allocations, want 0", n)
	}
	for range 4 {
		q.push(a)
	}
	q.push(a) // a fifth: the array grows once
	q.pop()
	capBefore := cap(q.q)
	for range 1000 {
		q.push(a)
		q.pop()
	}
	if cap(q.q) != capBefore || q.len() != 4 {
		t.Errorf("a backlog of 4 grew the array from %d to %d (len %d)", capBefore, cap(q.q), q.len())
	}

	// A backlog one short of a large array: the array stays bounded, and
	// the queue is moved down at most once per half of it.
	var big ackQueue
	for range 1000 {
		big.push(a)
	}
	for range 100000 {
		big.push(a)
		big.pop()
	}
	if big.len() != 1000 || cap(big.q) > 4000 {
		t.Errorf("backlog of 1000: len %d, array %d", big.len(), cap(big.q))
	}
	if n := testing.AllocsPerRun(1000, func() { big.push(a); big.pop() }); n != 0 {
		t.Errorf("push+pop with a steady backlog: %v allocations, want 0", n)
	}
}
