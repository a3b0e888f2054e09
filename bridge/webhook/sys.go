package webhook

import (
	"strconv"
	"time"
)

// sysLoop publishes the sink's figures, retained, under
// $SYS/broker/sink/<name>/ every SysInterval, through the sink's own
// local client (so that its filters never take them). It exits when the
// sink closes.
func (s *Sink) sysLoop() {
	t := time.NewTicker(s.sysEvery)
	defer t.Stop()
	for {
		s.publishSys()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sysTopics lists the figures of st as topic suffixes and values.
func sysTopics(st Stats) [][2]string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	d := st.Queue.Dropped
	return [][2]string{
		{"queue/messages", i(st.Queue.Records)},
		{"queue/bytes", i(st.Queue.Bytes)},
		{"queue/oldest_age_seconds", i(int64(st.Queue.OldestAge / time.Second))},
		{"delivered", u(st.Delivered)},
		{"dead_lettered", u(st.DeadLettered)},
		{"resent", u(st.Resent)},
		{"requests", u(st.Requests)},
		{"failures", u(st.Failures)},
		{"dropped", u(st.Dropped())},
		{"dropped/bytes", u(d.Bytes)},
		{"dropped/count", u(d.Count)},
		{"dropped/age", u(d.Age)},
		{"dropped/rejected", u(d.Rejected)},
		{"dropped/corrupt", u(d.Corrupt + st.Corrupt)},
		{"dropped/overflow", u(st.Overflow)},
		{"dropped/too_large", u(st.TooLarge)},
		{"last_error", st.LastError}, // empty: the retained error is cleared
		{"last_error_at", at(st.LastErrorAt)},
		{"last_success", at(st.LastSuccess)},
	}
}

func (s *Sink) publishSys() {
	prefix := "$SYS/broker/sink/" + s.name + "/"
	for _, kv := range sysTopics(s.Stats()) {
		if err := s.local.Publish(s.ctx, prefix+kv[0], []byte(kv[1]), 0, true); err != nil {
			return // closing
		}
	}
}
