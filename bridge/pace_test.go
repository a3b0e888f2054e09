package bridge

import (
	"testing"
	"time"
)

// TestPacer runs the token bucket on a simulated clock: over a long
// stretch the messages leave at the configured rates, whichever is lower.
func TestPacer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rate, bps int
		size      int
		wantPerS  float64
	}{
		{"messages", 100, 0, 10, 100},
		{"bytes", 0, 1000, 100, 10},
		{"bytes bind first", 1000, 5000, 100, 50},
		{"messages bind first", 20, 1 << 20, 100, 20},
		{"bigger than a burst", 0, 100, 1000, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(tc.rate, tc.bps)
			now := time.Unix(1000, 0)
			start := now
			const n = 200
			for range n {
				now = now.Add(p.reserve(now, tc.size))
			}
			got := n / now.Sub(start).Seconds()
			if got < tc.wantPerS*0.95 || got > tc.wantPerS*1.1 {
				t.Errorf("%.2f messages/s, want about %.2f", got, tc.wantPerS)
			}
		})
	}
	if d := newPacer(0, 0).reserve(time.Now(), 1<<20); d != 0 {
		t.Errorf("unlimited pacer waits %v", d)
	}
}
