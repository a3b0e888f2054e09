package web

import (
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/topic"
)

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	st := s.src.Broker.Stats()
	in, out := s.history.rates()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var disk struct {
		Used int64  `json:"used_bytes"`
		Free int64  `json:"free_bytes"`
		Dir  string `json:"dir"`
	}
	disk.Dir = s.opts.DataDir
	if s.src.DiskUsage != nil {
		disk.Used, disk.Free, _ = s.src.DiskUsage()
	}
	count := func(f func() int) int {
		if f == nil {
			return 0
		}
		return f()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": s.opts.Version, "gateway_id": s.opts.GatewayID, "hardware": s.opts.Hardware,
		"started_at": timeJSON(s.started), "uptime_seconds": int64(time.Since(s.started) / time.Second),
		"clients": map[string]any{"connected": st.ClientsConnected, "sessions": st.ClientsTotal, "maximum": st.ClientsMaximum},
		"messages": map[string]any{"received": st.MessagesReceived, "sent": st.MessagesSent,
			"received_per_second": round2(in), "sent_per_second": round2(out), "dropped": st.PublishDropped},
		"bytes":         map[string]any{"received": st.BytesReceived, "sent": st.BytesSent},
		"warnings":      append([]string{}, s.opts.Warnings...),
		"subscriptions": st.Subscriptions, "retained": st.RetainedMessages,
		"memory": map[string]any{"heap_bytes": ms.HeapAlloc, "sys_bytes": ms.Sys, "limit_bytes": s.opts.MemoryLimit},
		"disk":   disk,
		"bridges": count(func() int {
			if s.src.Bridges == nil {
				return 0
			}
			return len(s.src.Bridges())
		}),
		"sinks": count(func() int {
			if s.src.Sinks == nil {
				return 0
			}
			return len(s.src.Sinks())
		}),
		"devices": count(func() int {
			if s.src.Devices == nil {
				return 0
			}
			return len(s.src.Devices())
		}),
	})
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}

func (s *Server) historyJSON(w http.ResponseWriter, r *http.Request) {
	type point struct {
		T      timeJSON              `json:"t"`
		In     float64               `json:"received_per_second"`
		Out    float64               `json:"sent_per_second"`
		Queues map[string]queuePoint `json:"queues"`
	}
	pts := s.history.all()
	out := make([]point, 0, len(pts))
	for _, p := range pts {
		out = append(out, point{timeJSON(p.T), round2(p.In), round2(p.Out), p.Queues})
	}
	writeJSON(w, http.StatusOK, map[string]any{"interval_seconds": s.opts.HistoryInterval.Seconds(), "points": out})
}

// intParam returns the query parameter name as a non-negative int, or
// def; ok is false (and the answer written) when it is not one.
func intParam(w http.ResponseWriter, r *http.Request, name string, def int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, name+" must be a non-negative integer")
		return 0, false
	}
	return n, true
}

// filterParam returns the filter query parameter (default #), validated.
func filterParam(w http.ResponseWriter, r *http.Request) (string, bool) {
	f := r.URL.Query().Get("filter")
	if f == "" {
		f = "#"
	}
	if err := topic.ValidFilter(f); err != nil {
		writeError(w, http.StatusBadRequest, "filter: "+err.Error())
		return "", false
	}
	if _, _, shared := topic.ParseShared(f); shared {
		// A stream in a shared group would take messages from its members.
		writeError(w, http.StatusBadRequest, "filter: shared subscriptions ($share/...) are not allowed here")
		return "", false
	}
	return f, true
}

var protocolNames = map[byte]string{3: "3.1", 4: "3.1.1", 5: "5.0"}

func (s *Server) clients(w http.ResponseWriter, r *http.Request) {
	limit, ok := intParam(w, r, "limit", 500)
	if !ok {
		return
	}
	offset, ok := intParam(w, r, "offset", 0)
	if !ok {
		return
	}
	type sub struct {
		Filter string `json:"filter"`
		QoS    byte   `json:"qos"`
		Shared string `json:"shared,omitempty"`
	}
	type client struct {
		ID            string   `json:"id"`
		Username      string   `json:"username"`
		Address       string   `json:"address"`
		Protocol      string   `json:"protocol"`
		Connected     bool     `json:"connected"`
		ConnectedAt   timeJSON `json:"connected_at"`
		CleanStart    bool     `json:"clean_start"`
		SessionExpiry int64    `json:"session_expiry_seconds"`
		InProcess     bool     `json:"in_process"`
		Subscriptions []sub    `json:"subscriptions"`
		Queued        int      `json:"queued"`
		Inflight      int      `json:"inflight"`
	}
	all := s.src.Broker.Sessions()
	total := len(all)
	all = all[min(offset, len(all)):]
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]client, 0, len(all))
	for _, si := range all {
		c := client{ID: si.ClientID, Username: si.Username, Address: si.Address, Protocol: protocolNames[si.Protocol],
			Connected: si.Connected, ConnectedAt: timeJSON(si.ConnectedAt), CleanStart: si.CleanStart,
			SessionExpiry: int64(si.SessionExpiry / time.Second), InProcess: si.InProcess,
			Subscriptions: make([]sub, 0, len(si.Subscriptions)), Queued: si.Queued, Inflight: si.Inflight}
		if si.InProcess {
			c.Protocol = "in-process"
		}
		for _, sb := range si.Subscriptions {
			c.Subscriptions = append(c.Subscriptions, sub{sb.Filter, sb.QoS, sb.Shared})
		}
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "clients": out})
}

func (s *Server) disconnect(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		q, ok := r.URL.Query()["id"]
		if !ok || len(q) != 1 {
			writeError(w, http.StatusBadRequest, "exactly one id parameter is needed")
			return
		}
		id = q[0]
	}
	err := s.src.Broker.Disconnect(id)
	switch {
	case err == nil:
		s.log.Info("client disconnected from the dashboard", "client", id, "by", sessionOf(r).user)
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, broker.ErrNoSuchClient):
		writeError(w, http.StatusNotFound, "no connected client "+strconv.Quote(id))
	case errors.Is(err, broker.ErrInProcess):
		writeError(w, http.StatusBadRequest, strconv.Quote(id)+" is an in-process client (a bridge, sink or device set)")
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func (s *Server) topicsJSON(w http.ResponseWriter, r *http.Request) {
	filter, ok := filterParam(w, r)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 200)
	if !ok {
		return
	}
	type topicJSON struct {
		Topic string `json:"topic"`
		payloadJSON
		LastAt    timeJSON `json:"last_at"`
		Messages  uint64   `json:"messages"`
		PerMinute float64  `json:"per_minute"`
		Retained  bool     `json:"retained"`
	}
	list, total := s.topics.list(filter, limit)
	out := make([]topicJSON, 0, len(list))
	for _, t := range list {
		p := makePayload(t.Payload, listPayloadMax)
		p.Truncated = p.Truncated || t.Truncated
		out = append(out, topicJSON{Topic: t.Topic, payloadJSON: p, LastAt: timeJSON(t.At), Messages: t.Count,
			PerMinute: round2(t.PerMinute), Retained: t.Retained})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "topics": out})
}

func (s *Server) retained(w http.ResponseWriter, r *http.Request) {
	filter, ok := filterParam(w, r)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", 200)
	if !ok {
		return
	}
	msgs, total, err := s.src.Broker.Retained(filter, limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	type retainedJSON struct {
		Topic string `json:"topic"`
		payloadJSON
		QoS   byte `json:"qos"`
		Bytes int  `json:"bytes"`
	}
	out := make([]retainedJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, retainedJSON{Topic: m.Topic, payloadJSON: makePayload(m.Payload, listPayloadMax), QoS: m.QoS, Bytes: len(m.Payload)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "retained": out})
}

func (s *Server) deleteRetained(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("topic")
	if err := topic.ValidName(t); err != nil {
		writeError(w, http.StatusBadRequest, "topic: "+err.Error())
		return
	}
	err := s.src.Broker.DeleteRetained(t)
	switch {
	case err == nil:
		s.log.Info("retained message deleted from the dashboard", "topic", t, "by", sessionOf(r).user)
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, broker.ErrNoRetained):
		writeError(w, http.StatusNotFound, "no retained message on "+strconv.Quote(t))
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}
