package broker

import (
	"math"
	"strconv"
	"sync/atomic"
	"time"
)

// stats are the broker's counters, read by $SYS and by Stats.
type stats struct {
	connected      atomic.Int64
	connectedTotal atomic.Uint64
	maxConnected   atomic.Int64
	msgsIn         atomic.Uint64 // PUBLISH received
	msgsOut        atomic.Uint64 // PUBLISH sent
	bytesIn        atomic.Uint64
	bytesOut       atomic.Uint64
	dropped        atomic.Uint64 // messages not delivered: queue or buffer full, too large
}

func (st *stats) msgReceived(int) { st.msgsIn.Add(1) }

func (st *stats) msgSent(n int) {
	st.msgsOut.Add(1)
	st.bytesOut.Add(uint64(n))
}

func (st *stats) noteMaxConnected() {
	n := st.connected.Load()
	for {
		m := st.maxConnected.Load()
		if n <= m || st.maxConnected.CompareAndSwap(m, n) {
			return
		}
	}
}

// Stats is a snapshot of the broker's counters.
type Stats struct {
	ClientsConnected int64
	ClientsTotal     int // sessions, connected or not
	ClientsMaximum   int64
	ConnectionsTotal uint64
	MessagesReceived uint64
	MessagesSent     uint64
	BytesReceived    uint64
	BytesSent        uint64
	PublishDropped   uint64
	Subscriptions    int
	RetainedMessages int
	Uptime           time.Duration
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	total := len(s.sessions)
	s.mu.Unlock()
	return Stats{
		ClientsConnected: s.stats.connected.Load(),
		ClientsTotal:     total,
		ClientsMaximum:   s.stats.maxConnected.Load(),
		ConnectionsTotal: s.stats.connectedTotal.Load(),
		MessagesReceived: s.stats.msgsIn.Load(),
		MessagesSent:     s.stats.msgsOut.Load(),
		BytesReceived:    s.stats.bytesIn.Load(),
		BytesSent:        s.stats.bytesOut.Load(),
		PublishDropped:   s.stats.dropped.Load(),
		Subscriptions:    s.subs.Len(),
		RetainedMessages: s.retained.Len(),
		Uptime:           time.Since(s.started),
	}
}

// loadAvg is an exponentially damped per-minute rate, the way Mosquitto
// computes $SYS/broker/load/...
type loadAvg struct {
	last        uint64
	m1, m5, m15 float64
}

func (l *loadAvg) update(now uint64, interval time.Duration) {
	diff := float64(now - l.last)
	l.last = now
	rate := diff * 60 / interval.Seconds()
	step := func(v *float64, minutes float64) {
		e := math.Exp(-interval.Minutes() / minutes)
		*v = *v*e + rate*(1-e)
	}
	step(&l.m1, 1)
	step(&l.m5, 5)
	step(&l.m15, 15)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
