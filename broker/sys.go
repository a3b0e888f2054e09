package broker

import (
	"strconv"
	"time"
)

// sysLoop publishes $SYS/broker statistics, retained, every SysInterval,
// under the topic names Mosquitto uses. It exits when the server closes.
func (s *Server) sysLoop() {
	t := time.NewTicker(s.opts.SysInterval)
	defer t.Stop()
	loads := map[string]*loadAvg{}
	s.publishSys(loads, s.opts.SysInterval)
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			s.publishSys(loads, s.opts.SysInterval)
		}
	}
}

func (s *Server) publishSys(loads map[string]*loadAvg, interval time.Duration) {
	st := s.Stats()
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	values := [][2]string{
		{"version", "edgemq " + s.opts.Version},
		{"uptime", i(int64(st.Uptime/time.Second)) + " seconds"},
		{"clients/connected", i(st.ClientsConnected)},
		{"clients/active", i(st.ClientsConnected)},
		{"clients/total", i(int64(st.ClientsTotal))},
		{"clients/disconnected", i(int64(st.ClientsTotal) - st.ClientsConnected)},
		{"clients/inactive", i(int64(st.ClientsTotal) - st.ClientsConnected)},
		{"clients/maximum", i(st.ClientsMaximum)},
		{"messages/received", u(st.MessagesReceived)},
		{"messages/sent", u(st.MessagesSent)},
		{"publish/messages/received", u(st.MessagesReceived)},
		{"publish/messages/sent", u(st.MessagesSent)},
		{"publish/messages/dropped", u(st.PublishDropped)},
		{"publish/bytes/received", u(st.BytesReceived)},
		{"publish/bytes/sent", u(st.BytesSent)},
		{"bytes/received", u(st.BytesReceived)},
		{"bytes/sent", u(st.BytesSent)},
		{"subscriptions/count", i(int64(st.Subscriptions))},
		{"retained messages/count", i(int64(st.RetainedMessages))},
	}
	counters := [][2]any{
		{"messages/received", st.MessagesReceived},
		{"messages/sent", st.MessagesSent},
		{"publish/dropped", st.PublishDropped},
		{"bytes/received", st.BytesReceived},
		{"bytes/sent", st.BytesSent},
		{"connections", st.ConnectionsTotal},
	}
	for _, c := range counters {
		name, v := c[0].(string), c[1].(uint64)
		l := loads[name]
		if l == nil {
			l = &loadAvg{last: v}
			loads[name] = l
		}
		l.update(v, interval)
		values = append(values,
			[2]string{"load/" + name + "/1min", fmtFloat(l.m1)},
			[2]string{"load/" + name + "/5min", fmtFloat(l.m5)},
			[2]string{"load/" + name + "/15min", fmtFloat(l.m15)})
	}
	var f flusher
	now := time.Now()
	for _, kv := range values {
		m := &Message{Topic: "$SYS/broker/" + kv[0], Payload: []byte(kv[1]), Retain: true, Created: now}
		s.publish(&f, m, nil)
	}
	f.flush()
}
