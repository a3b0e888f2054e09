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

// stallTimeout is how long a publisher waits for window credit before it
// assumes the messages in flight were lost and resets the window.
const stallTimeout = 250 * time.Millisecond

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

// acquire takes one credit, waiting while the window is full. After
// stallTimeout without credit it empties the window (the messages in
// flight are presumed lost) and goes on.
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
		for range cap(w.ch) {
			select {
			case <-w.ch:
			default:
			}
		}
	}
}

// release returns one credit; extra releases (duplicates, or messages
// that arrive after a reset) are ignored.
func (w *window) release() {
	if w == nil {
		return
	}
	select {
	case <-w.ch:
	default:
	}
}

func (w *window) stallCount() int64 {
	if w == nil {
		return 0
	}
	return w.stalls.Load()
}

// fanoutWindow bounds how far one publisher may run ahead of the slowest
// of many subscribers, by polling their counters (cheap with a single
// publisher).
type fanoutWindow struct {
	limit  int64
	subs   []paddedCounter // deliveries per subscriber
	floor  int64           // cached minimum of subs, plus resets
	offset int64           // messages written off as lost by resets
	stalls int64
}

// minDelivered returns the smallest per-subscriber count.
func (f *fanoutWindow) minDelivered() int64 {
	m := int64(1<<63 - 1)
	for i := range f.subs {
		m = min(m, f.subs[i].n.Load())
	}
	return m
}

// wait blocks until message number sent (0-based) may be published, or
// stop is set.
func (f *fanoutWindow) wait(sent int64, stop *atomic.Bool) {
	if f == nil || f.limit <= 0 {
		return
	}
	if sent-f.floor < f.limit {
		return
	}
	f.floor = f.minDelivered() + f.offset
	deadline := time.Now().Add(stallTimeout)
	for sent-f.floor >= f.limit && !stop.Load() {
		if time.Now().After(deadline) {
			f.stalls++
			f.offset = sent - f.minDelivered()
			f.floor = sent
			return
		}
		time.Sleep(50 * time.Microsecond)
		f.floor = f.minDelivered() + f.offset
	}
}
