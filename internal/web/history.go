package web

import (
	"sync"
	"time"
)

// rateTick is the period of the rates shown as "per second".
const rateTick = time.Second

// history keeps the last points of the gateway's figures for the
// dashboard's charts, and the current rates.
type history struct {
	mu     sync.Mutex
	points []historyPoint // ring, oldest at start
	start  int
	n      int
	rin    float64 // messages received per second, last rateTick
	rout   float64
	drain  map[string]float64 // queue records acknowledged per second, by "bridge/<name>"
	acked  map[string]uint64  // at the last tick
}

type historyPoint struct {
	T      time.Time
	In     float64
	Out    float64
	Queues map[string]queuePoint
}

type queuePoint struct {
	Messages int64 `json:"messages"`
	Bytes    int64 `json:"bytes"`
}

func newHistory(n int) *history {
	return &history{points: make([]historyPoint, n), drain: make(map[string]float64), acked: make(map[string]uint64)}
}

// drainRate returns the records per second acknowledged from queue key.
func (h *history) drainRate(key string) float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.drain[key]
}

// sampleDrain updates the drain rates from the queues' acknowledged
// totals over d seconds.
func (h *history) sampleDrain(acked map[string]uint64, d float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, v := range acked {
		if old, ok := h.acked[k]; ok && v >= old && d > 0 {
			h.drain[k] = float64(v-old) / d
		} else {
			h.drain[k] = 0
		}
	}
	for k := range h.acked {
		if _, ok := acked[k]; !ok {
			delete(h.drain, k)
		}
	}
	h.acked = acked
}

func (h *history) add(p historyPoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := (h.start + h.n) % len(h.points)
	if h.n == len(h.points) {
		h.start = (h.start + 1) % len(h.points)
	} else {
		h.n++
	}
	h.points[i] = p
}

func (h *history) all() []historyPoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]historyPoint, 0, h.n)
	for i := 0; i < h.n; i++ {
		out = append(out, h.points[(h.start+i)%len(h.points)])
	}
	return out
}

func (h *history) rates() (in, out float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rin, h.rout
}

// sample updates the rates every rateTick and adds a history point every
// HistoryInterval, until Close.
func (s *Server) sample() {
	tick := time.NewTicker(rateTick)
	defer tick.Stop()
	st := s.src.Broker.Stats()
	last, lastIn, lastOut := time.Now(), st.MessagesReceived, st.MessagesSent
	point, pointIn, pointOut := last, lastIn, lastOut
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-tick.C:
			st := s.src.Broker.Stats()
			if d := now.Sub(last).Seconds(); d > 0 {
				s.history.mu.Lock()
				s.history.rin = float64(st.MessagesReceived-lastIn) / d
				s.history.rout = float64(st.MessagesSent-lastOut) / d
				s.history.mu.Unlock()
			}
			s.history.sampleDrain(s.queueAcked(), now.Sub(last).Seconds())
			last, lastIn, lastOut = now, st.MessagesReceived, st.MessagesSent
			if elapsed := now.Sub(point); elapsed >= s.opts.HistoryInterval {
				d := elapsed.Seconds()
				s.history.add(historyPoint{T: now, In: float64(st.MessagesReceived-pointIn) / d,
					Out: float64(st.MessagesSent-pointOut) / d, Queues: s.queueDepths()})
				s.topics.sampleRates(elapsed)
				point, pointIn, pointOut = now, st.MessagesReceived, st.MessagesSent
			}
		}
	}
}

// queueDepths returns the depth of every bridge's and sink's queue, as
// "bridge/<name>" and "sink/<name>".
func (s *Server) queueDepths() map[string]queuePoint {
	q := make(map[string]queuePoint)
	if s.src.Bridges != nil {
		for _, b := range s.src.Bridges() {
			q["bridge/"+b.Name] = queuePoint{b.Stats.Queue.Records, b.Stats.Queue.Bytes}
		}
	}
	if s.src.Sinks != nil {
		for _, sk := range s.src.Sinks() {
			q["sink/"+sk.Name] = queuePoint{sk.Stats.Queue.Records, sk.Stats.Queue.Bytes}
		}
	}
	return q
}

// queueAcked returns every bridge's and sink's queue acknowledged total.
func (s *Server) queueAcked() map[string]uint64 {
	q := make(map[string]uint64)
	if s.src.Bridges != nil {
		for _, b := range s.src.Bridges() {
			q["bridge/"+b.Name] = b.Stats.Queue.Acked
		}
	}
	if s.src.Sinks != nil {
		for _, sk := range s.src.Sinks() {
			q["sink/"+sk.Name] = sk.Stats.Queue.Acked
		}
	}
	return q
}
