package bridge

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Limits are per-message limits of an uplink. A record beyond one is
// dropped when it comes to be sent: counted, logged (at most once per
// LimitLogInterval, with the number left unlogged) and removed from the
// queue, so that it cannot block the records behind it. Zero is no
// limit.
type Limits struct {
	// MaxPayload bounds the payload in bytes (AWS IoT Core: 128 KiB).
	MaxPayload int
	// MaxTopicBytes bounds the topic's length in bytes of UTF-8 (AWS IoT
	// Core: 256).
	MaxTopicBytes int
	// MaxTopicLevels bounds the topic's levels, one more than its "/"
	// (AWS IoT Core: 8, that is 7 slashes).
	//
	// For both topic limits an AWS IoT Basic Ingest prefix
	// "$aws/rules/<rule-name>/" is not counted, as AWS does not count it.
	MaxTopicLevels int
}

// LimitLogInterval is the least time between two log lines about records
// dropped for Limits.
const LimitLogInterval = 10 * time.Second

// Drop reasons of Limits.
const (
	reasonOversize   = "oversize"
	reasonTopicLimit = "topic_limit"
)

// check returns the reason topic or payload breaks l, and what; "" when
// neither does.
func (l Limits) check(topic string, payload int) (reason, detail string) {
	if l.MaxPayload > 0 && payload > l.MaxPayload {
		return reasonOversize, fmt.Sprintf("payload of %d bytes, more than %d", payload, l.MaxPayload)
	}
	counted := trimBasicIngest(topic)
	if l.MaxTopicBytes > 0 && len(counted) > l.MaxTopicBytes {
		return reasonTopicLimit, fmt.Sprintf("topic of %d bytes, more than %d", len(counted), l.MaxTopicBytes)
	}
	if n := strings.Count(counted, "/") + 1; l.MaxTopicLevels > 0 && n > l.MaxTopicLevels {
		return reasonTopicLimit, fmt.Sprintf("topic of %d levels, more than %d", n, l.MaxTopicLevels)
	}
	return "", ""
}

// trimBasicIngest removes a leading "$aws/rules/<rule-name>/" (any case).
func trimBasicIngest(topic string) string {
	const p = "$aws/rules/"
	if len(topic) < len(p) || !strings.EqualFold(topic[:len(p)], p) {
		return topic
	}
	if _, rest, ok := strings.Cut(topic[len(p):], "/"); ok {
		return rest
	}
	return topic
}

// logLimiter lets one line through per interval and counts the others.
type logLimiter struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many lines were held back
// since the last one.
func (l *logLimiter) allow(now time.Time, every time.Duration) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}
