package web

import (
	"net/http"
	"time"

	"github.com/edgemq/edgemq/storefwd"
)

type queueJSON struct {
	Messages  int64 `json:"messages"`
	Bytes     int64 `json:"bytes"`
	OldestAge int64 `json:"oldest_age_seconds"`
	DiskBytes int64 `json:"disk_bytes"`
}

func makeQueue(q storefwd.Stats) queueJSON {
	return queueJSON{q.Records, q.Bytes, int64(q.OldestAge / time.Second), q.DiskBytes}
}

func (s *Server) bridges(w http.ResponseWriter, r *http.Request) {
	type bridgeJSON struct {
		Name      string         `json:"name"`
		Address   string         `json:"address"`
		Connected bool           `json:"connected"`
		Since     timeJSON       `json:"since"`
		LastError string         `json:"last_error"`
		Queue     queueJSON      `json:"queue"`
		Forwarded uint64         `json:"forwarded"`
		Resent    uint64         `json:"resent"`
		Received  uint64         `json:"received"`
		Dropped   map[string]any `json:"dropped"`
		Drain     float64        `json:"drain_per_second"`
	}
	out := []bridgeJSON{}
	if s.src.Bridges != nil {
		for _, b := range s.src.Bridges() {
			st := b.Stats
			d := st.Queue.Dropped
			out = append(out, bridgeJSON{
				Name: b.Name, Address: b.Address, Connected: st.Connected, Since: timeJSON(st.Since),
				LastError: st.LastError, Queue: makeQueue(st.Queue), Forwarded: st.Forwarded, Resent: st.Resent,
				Received: st.Received,
				Dropped: map[string]any{"total": st.Dropped(), "bytes": d.Bytes, "count": d.Count, "age": d.Age,
					"rejected": d.Rejected, "corrupt": d.Corrupt, "refused": st.Refused, "oversize": st.Oversize,
					"topic_limit": st.TopicLimit},
				Drain: round2(s.history.drainRate("bridge/" + b.Name)),
			})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"bridges": out})
}

func (s *Server) sinks(w http.ResponseWriter, r *http.Request) {
	type sinkJSON struct {
		Name         string         `json:"name"`
		URL          string         `json:"url"`
		LastError    string         `json:"last_error"`
		LastErrorAt  timeJSON       `json:"last_error_at"`
		LastSuccess  timeJSON       `json:"last_success"`
		Queue        queueJSON      `json:"queue"`
		Delivered    uint64         `json:"delivered"`
		DeadLettered uint64         `json:"dead_lettered"`
		Resent       uint64         `json:"resent"`
		Requests     uint64         `json:"requests"`
		Failures     uint64         `json:"failures"`
		Dropped      map[string]any `json:"dropped"`
		Drain        float64        `json:"drain_per_second"`
	}
	out := []sinkJSON{}
	if s.src.Sinks != nil {
		for _, sk := range s.src.Sinks() {
			st := sk.Stats
			d := st.Queue.Dropped
			out = append(out, sinkJSON{
				Name: sk.Name, URL: sk.URL, LastError: st.LastError, LastErrorAt: timeJSON(st.LastErrorAt),
				LastSuccess: timeJSON(st.LastSuccess), Queue: makeQueue(st.Queue), Delivered: st.Delivered,
				DeadLettered: st.DeadLettered, Resent: st.Resent, Requests: st.Requests, Failures: st.Failures,
				Dropped: map[string]any{"total": st.Dropped(), "bytes": d.Bytes, "count": d.Count, "age": d.Age,
					"rejected": d.Rejected, "overflow": st.Overflow, "too_large": st.TooLarge},
				Drain: round2(s.history.drainRate("sink/" + sk.Name)),
			})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sinks": out})
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	type deviceJSON struct {
		ID          string            `json:"id"`
		Type        string            `json:"type"`
		Topic       string            `json:"topic"`
		Online      bool              `json:"online"`
		LastReading timeJSON          `json:"last_reading"`
		LastError   string            `json:"last_error"`
		Values      map[string]string `json:"values"`
		Counters    map[string]uint64 `json:"counters"`
	}
	out := []deviceJSON{}
	if s.src.Devices != nil {
		for _, d := range s.src.Devices() {
			st := d.Stats
			values := make(map[string]string)
			for field, t := range s.topics.under(d.Topic) {
				if field == "status" {
					continue
				}
				if p := makePayload(t.Payload, listPayloadMax); p.Payload != nil {
					values[field] = *p.Payload
				}
			}
			out = append(out, deviceJSON{
				ID: d.ID, Type: d.Type, Topic: d.Topic, Online: st.Online, LastReading: timeJSON(st.LastReading),
				LastError: st.LastError, Values: values,
				Counters: map[string]uint64{"lines_read": st.LinesRead, "parse_errors": st.ParseErrors, "polls": st.Polls,
					"failures": st.Failures, "reconnects": st.Reconnects, "published": st.Published,
					"publish_errors": st.PublishErrors, "commands_dropped": st.CommandsDropped,
					"commands_rejected": st.CommandsRejected},
			})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": out})
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	if s.src.Config == nil {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	writeJSON(w, http.StatusOK, s.src.Config())
}
