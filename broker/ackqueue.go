package broker

// ackQueue holds a connection's pending acknowledgements in arrival
// order. A drained queue keeps a small array: a publisher whose
// acknowledgements go out one at a time then allocates nothing for the
// queue, where a slice popped from the front would reallocate every time.
// conn.ackMu guards it.
type ackQueue struct {
	q    []*pendingAck // q[head:] are queued
	head int
}

// maxKeptAcks bounds the array that a queue keeps for reuse: a larger one
// (after a burst for durable subscribers) is let go as the queue drains.
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
	if len(a.q) == cap(a.q) && a.head > 0 && a.head >= cap(a.q)/2 {
		// Full at the back, half free at the front: move down rather
		// than grow. Moving only then keeps a push O(1) amortised.
		a.compact(cap(a.q))
	}
	a.q = append(a.q, p)
}

// pop removes the oldest acknowledgement; the queue is not empty.
func (a *ackQueue) pop() {
	a.q[a.head] = nil
	a.head++
	switch n := a.len(); {
	case n == 0:
		a.head = 0
		a.q = a.q[:0]
		if cap(a.q) > maxKeptAcks {
			a.q = nil
		}
	case cap(a.q) > maxKeptAcks && n < cap(a.q)/4:
		// A burst is draining: move what is left to a smaller array.
		a.compact(max(2*n, maxKeptAcks))
	}
}

// compact moves the queued acknowledgements to the front of an array of
// capacity c (the current one if c is its capacity).
func (a *ackQueue) compact(c int) {
	live := a.q[a.head:]
	if c == cap(a.q) {
		n := copy(a.q, live)
		clear(a.q[n:])
		a.q = a.q[:n]
	} else {
		q := make([]*pendingAck, len(live), c)
		copy(q, live)
		a.q = q
	}
	a.head = 0
}

// release drops the array of an empty queue, for an idle connection.
func (a *ackQueue) release() {
	if a.len() == 0 {
		a.q, a.head = nil, 0
	}
}
