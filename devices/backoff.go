package devices

import (
	"math/rand/v2"
	"time"
)

// Default restart back-off bounds.
const (
	DefaultRestartMin = time.Second
	DefaultRestartMax = 30 * time.Second
)

// backoff returns the wait before the n-th restart in a row (n >= 1):
// lo doubled n-1 times, capped at hi, less a random jitter of up to a
// fifth, so that it is never above hi and never below 4/5 of lo. rnd
// returns a number in [0, 1).
func backoff(n int, lo, hi time.Duration, rnd func() float64) time.Duration {
	if lo <= 0 {
		lo = DefaultRestartMin
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d - time.Duration(rnd()*float64(d)/5)
}

func jitter() float64 { return rand.Float64() }
