package devices

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	zero := func() float64 { return 0 }
	most := func() float64 { return 0.999999 }
	s := time.Second
	tests := []struct {
		n       int
		lo, hi  time.Duration
		rnd     func() float64
		want    time.Duration
		comment string
	}{
		{1, s, 30 * s, zero, s, "first"},
		{2, s, 30 * s, zero, 2 * s, "doubles"},
		{5, s, 30 * s, zero, 16 * s, ""},
		{6, s, 30 * s, zero, 30 * s, "capped"},
		{1000, s, 30 * s, zero, 30 * s, "capped, no overflow"},
		{1000, s, 30 * s, most, 24*s + 1, "jitter stays below the cap"},
		{1, 0, 0, zero, DefaultRestartMin, "defaults"},
		{3, 5 * s, s, zero, 5 * s, "hi below lo"},
	}
	for _, tt := range tests {
		got := backoff(tt.n, tt.lo, tt.hi, tt.rnd)
		if got != tt.want && !(tt.want == 24*s+1 && got > 24*s && got <= 30*s) {
			t.Errorf("backoff(%d, %v, %v) = %v, want %v (%s)", tt.n, tt.lo, tt.hi, got, tt.want, tt.comment)
		}
	}
	for n := 1; n < 100; n++ {
		if d := backoff(n, s, 30*s, jitter); d > 30*s || d < 800*time.Millisecond {
			t.Fatalf("backoff(%d) = %v outside [0.8s, 30s]", n, d)
		}
	}
}
