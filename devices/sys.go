package devices

import (
	"context"
	"strconv"
	"time"
)

// sysLoop publishes every device's figures, retained, under
// $SYS/broker/devices/<id>/ every SysInterval. It exits when the
// supervisor closes.
func (s *Supervisor) sysLoop() {
	t := time.NewTicker(s.opts.SysInterval)
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

func (s *Supervisor) publishSys() {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, st := range s.Stats() {
		status := "offline"
		if st.Online {
			status = "online"
		}
		last := ""
		if !st.LastReading.IsZero() {
			last = st.LastReading.UTC().Format(timeFormat)
		}
		prefix := "$SYS/broker/devices/" + st.ID + "/"
		for _, kv := range [][2]string{
			{"status", status},
			{"last_reading", last},
			{"last_error", st.LastError}, // empty: the retained error is cleared
			{"lines_read", u(st.LinesRead)},
			{"parse_errors", u(st.ParseErrors)},
			{"polls", u(st.Polls)},
			{"failures", u(st.Failures)},
			{"reconnects", u(st.Reconnects)},
			{"published", u(st.Published)},
			{"publish_errors", u(st.PublishErrors)},
			{"commands_dropped", u(st.CommandsDropped)},
			{"commands_rejected", u(st.CommandsRejected)},
		} {
			ctx, cancel := context.WithTimeout(s.ctx, statusTimeout)
			err := s.opts.Client.Publish(ctx, prefix+kv[0], []byte(kv[1]), 0, true)
			cancel()
			if err != nil {
				return // closing
			}
		}
	}
}
