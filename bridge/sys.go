package bridge

import (
	"strconv"
	"time"
)

// sysLoop publishes the bridge's figures, retained, under
// $SYS/broker/bridge/<name>/ every SysInterval, through the bridge's own
// local client (so that no out rule sends them to the uplink). It exits
// when the bridge closes.
func (b *Bridge) sysLoop() {
	t := time.NewTicker(b.cfg.SysInterval)
	defer t.Stop()
	for {
		b.publishSys()
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Bridge) publishSys() {
	st := b.Stats()
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	connected := "0"
	if st.Connected {
		connected = "1"
	}
	since := ""
	if !st.Since.IsZero() {
		since = st.Since.UTC().Format(time.RFC3339)
	}
	prefix := "$SYS/broker/bridge/" + b.cfg.Name + "/"
	for _, kv := range [][2]string{
		{"connected", connected},
		{"since", since},
		{"last_error", st.LastError}, // empty: the retained error is cleared
		{"queue/messages", i(st.Queue.Records)},
		{"queue/bytes", i(st.Queue.Bytes)},
		{"queue/oldest_age_seconds", i(int64(st.Queue.OldestAge / time.Second))},
		{"forwarded", u(st.Forwarded)},
		{"resent", u(st.Resent)},
		{"dropped", u(st.Dropped())},
		{"dropped/oversize", u(st.Oversize)},
		{"dropped/topic_limit", u(st.TopicLimit)},
		{"rejected", u(st.Rejected)},
		{"received", u(st.Received)},
		{"connects", u(st.Connects)},
		{"renewals", u(st.Renewals)},
	} {
		if err := b.local.Publish(b.ctx, prefix+kv[0], []byte(kv[1]), 0, true); err != nil {
			return // closing
		}
	}
}
