package webhook

import "time"

// pacer is a token bucket over messages per second: a replayed backlog
// (and any burst) leaves at most at the configured rate. A zero rate is
// no limit. The deliverer owns it; it is not safe for concurrent use.
type pacer struct {
	rate   float64 // messages per second; 0: unlimited
	tokens float64 // negative when reserved ahead
	last   time.Time
}

// reserve takes n tokens at now and returns how long to wait before
// sending them. Up to a tenth of a second's worth (at least one message)
// may leave at once.
func (p *pacer) reserve(now time.Time, rate, n int) time.Duration {
	if rate <= 0 {
		p.rate, p.last = 0, time.Time{}
		return 0
	}
	burst := max(1, float64(rate)/10)
	if p.last.IsZero() || p.rate != float64(rate) {
		p.rate, p.tokens = float64(rate), burst
	} else if dt := now.Sub(p.last).Seconds(); dt > 0 {
		p.tokens = min(burst, p.tokens+dt*p.rate)
	}
	p.last = now
	p.tokens -= float64(n)
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens / p.rate * float64(time.Second))
}
