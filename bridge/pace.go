package bridge

import "time"

// pacer is a token bucket over messages and bytes per second: the replay
// of a backlog (and any burst) leaves at most at the configured rates.
// A zero rate is no limit. Not safe for concurrent use: the sender owns
// it.
type pacer struct {
	rate, byteRate float64 // per second; 0: unlimited
	msgs, bytes    float64 // tokens; negative when reserved ahead
	last           time.Time
}

func newPacer(msgsPerSec, bytesPerSec int) *pacer {
	return &pacer{rate: float64(msgsPerSec), byteRate: float64(bytesPerSec)}
}

// burst is how much may leave at once: a tenth of a second's worth, at
// least one message.
func burst(rate float64) float64 { return max(1, rate/10) }

// reserve takes the tokens for one message of n bytes and returns how long
// to wait before sending it.
func (p *pacer) reserve(now time.Time, n int) time.Duration {
	if p.rate == 0 && p.byteRate == 0 {
		return 0
	}
	if p.last.IsZero() {
		p.msgs, p.bytes = burst(p.rate), burst(p.byteRate)
	} else if dt := now.Sub(p.last).Seconds(); dt > 0 {
		p.msgs = min(burst(p.rate), p.msgs+dt*p.rate)
		p.bytes = min(burst(p.byteRate), p.bytes+dt*p.byteRate)
	}
	p.last = now
	var wait float64
	if p.rate > 0 {
		p.msgs--
		if p.msgs < 0 {
			wait = -p.msgs / p.rate
		}
	}
	if p.byteRate > 0 {
		p.bytes -= float64(n)
		if p.bytes < 0 {
			wait = max(wait, -p.bytes/p.byteRate)
		}
	}
	return time.Duration(wait * float64(time.Second))
}
