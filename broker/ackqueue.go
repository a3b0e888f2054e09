package broker

// ackQueue holds a connection's pending acknowledgements in arrival
// order. A drained queue keeps its array: a publisher whose
// acknowledgements go out one at a time then allocates nothing for the
// queue, where a slice popped from the front would reallocate every time.
type ackQueue struct {
	q    []*pendingAck // q[head:] are queued
	head int
}

// maxKeptAcks bounds the array that a drained queue keeps for reuse.
const maxKeptAcks = 64

func (a *ackQueue) len() int { return len(a.q) - a.head }

// all returns the queued acknowledgements, oldest first.
func (a *ackQueue) all() []*pendingAck { return a.q[a.head:] }

// front returns the oldest acknowledgement, or nil.
func (a *ackQueue) front() *pendingAck {
	if a.head == len(a.q) {
		return nil
	}
	return a.q[a.head]
}

func (a *ackQueue) push(p *pendingAck) {
	if len(a.q) == cap(a.q) && a.head > 0 {
		// Full at the back, free at the front: move down, don't grow.
		n := copy(a.q, a.q[a.head:])
		clear(a.q[n:])
		a.q = a.q[:n]
		a.head = 0
	}
	a.q = append(a.q, p)
}

// pop removes the oldest acknowledgement; the queue is not empty.
func (a *ackQueue) pop() {
	a.q[a.head] = nil
	a.head++
	if a.head == len(a.q) {
		a.head = 0
		a.q = a.q[:0]
		if cap(a.q) > maxKeptAcks {
			a.q = nil
		}
	}
}
