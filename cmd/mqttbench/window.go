package main

import (
	"sync/atomic"
	"time"
)

// Flat-out QoS 0 publishing with no flow control measures the broker's
// drop policy and the Go scheduler rather than the broker's cost: 50 hot
// publisher goroutines starve the subscriber's goroutine, the subscriber
// falls behind, and Mosquitto drops everything beyond max_queued_messages
// (1000). The QoS 0 loads therefore bound the messages in flight between
// publishers and subscribers to a window (--window, default 1000): the
// pipeline stays saturated, but no broker needs to drop. QoS 1 publishers
// are already bounded by waiting for each PUBACK.
//
// A message a broker drops anyway never returns its credit; the gap it
// leaves in its publisher's sequence numbers does, when the next message
// of that publisher arrives (see seqTracker.record). A publisher that
// finds no credit for stallTimeout publishes anyway, so that a lost last
// message cannot block it for good.

// stallTimeout is how long a publisher waits for window credit before it
// publishes without. It is long enough not to fire when a busy machine
// merely keeps the subscriber off the CPU for a while; tests shorten it.
var stallTimeout = time.Second

// window is a credit semaphore shared by many publishers and released by
// the subscriber on each received message. A nil *window never blocks.
type window struct {
	ch     chan struct{}
	stalls atomic.Int64
}

func newWindow(n int) *window {
	if n <= 0 {
		return nil
	}
	return &window{ch: make(chan struct{}, n)}
}

// acquire takes one credit, waiting while the window is full, at most
// stallTimeout (then it counts a stall and goes on without credit).
func (w *window) acquire() {
	if w == nil {
		return
	}
	select {
	case w.ch <- struct{}{}:
		return
	default:
	}
	t := time.NewTimer(stallTimeout)
	defer t.Stop()
	select {
	case w.ch <- struct{}{}:
	case <-t.C:
		w.stalls.Add(1)
	}
}

// release returns n credits; releases beyond those taken are ignored.
func (w *window) release(n int) {
	if w == nil {
		return
	}
	for range n {
		select {
		case <-w.ch:
		default:
			return
		}
	}
}

func (w *window) stallCount() int64 {
	if w == nil {
		return 0
	}
	return w.stalls.Load()
}

// fanoutWindow bounds how far one publisher may run ahead of the slowest
// of many subscribers, by polling their progress (cheap with a single
// publisher). A subscriber's progress is the highest sequence number it
// received plus one, so that messages the broker dropped do not hold the
// publisher back.
type fanoutWindow struct {
	limit    int64
	progress []paddedCounter // per subscriber
	floor    int64           // cached minimum of progress
	stalls   int64
}

// advance records that a subscriber received message seq.
func advance(c *atomic.Int64, seq uint64) {
	n := int64(seq) + 1
	for {
		cur := c.Load()
		if n <= cur || c.CompareAndSwap(cur, n) {
			return
		}
	}
}

// minProgress returns the progress of the slowest subscriber.
func (f *fanoutWindow) minProgress() int64 {
	m := int64(1<<63 - 1)
	for i := range f.progress {
		m = min(m, f.progress[i].n.Load())
	}
	return m
}

// wait blocks until message number seq may be published: at most limit
// messages ahead of the slowest subscriber, or stallTimeout has passed
// (counted as a stall), or stop is set.
func (f *fanoutWindow) wait(seq int64, stop *atomic.Bool) {
	if f == nil || f.limit <= 0 || seq-f.floor < f.limit {
		return
	}
	f.floor = f.minProgress()
	deadline := time.Now().Add(stallTimeout)
	for seq-f.floor >= f.limit && !stop.Load() {
		if time.Now().After(deadline) {
			f.stalls++
			return
		}
		time.Sleep(50 * time.Microsecond)
		f.floor = f.minProgress()
	}
}
