package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/edgemq/edgemq/broker"
)

// Live streams: each has its own in-process client, a bounded buffer
// and a rate ceiling; what does not fit is skipped and counted.
const (
	streamRate     = 20 // messages per second
	streamBuffer   = 64
	streamPing     = 15 * time.Second
	streamWriteMax = 10 * time.Second // bounds one write to a slow browser
)

var streamIDs atomic.Uint64

func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	filter, ok := filterParam(w, r)
	if !ok {
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		writeError(w, http.StatusTooManyRequests, "too many live streams open; close one")
		return
	}
	// A random suffix: a network client cannot take the id in advance.
	c, err := s.src.Broker.NewClient("edgemq-web-live-" + strconv.FormatUint(streamIDs.Add(1), 10) + "-" + token()[:8])
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer c.Close()
	msgs := make(chan *broker.Message, streamBuffer)
	var skipped atomic.Uint64
	// QoS 2: the handler sees each message's own QoS (a lower one would
	// be shown as delivered, and make the broker copy the message).
	err = c.Subscribe(filter, 2, func(m *broker.Message) {
		select {
		case msgs <- m:
		default:
			skipped.Add(1)
		}
	})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{}) // the server's read timeout must not end a stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(format string, args ...any) bool {
		rc.SetWriteDeadline(time.Now().Add(streamWriteMax))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write(": stream of %s\n\n", filter) {
		return
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	// A stream ends when its session does (logout, expiry, reload).
	var sessionID string
	if s.sessions.open == nil {
		if c, err := r.Cookie(sessionCookie); err == nil {
			sessionID = c.Value
		}
	}
	recheck := time.NewTicker(2 * time.Second)
	defer recheck.Stop()
	tick := time.NewTicker(time.Second / streamRate)
	defer tick.Stop()
	type event struct {
		Topic string `json:"topic"`
		payloadJSON
		QoS    byte   `json:"qos"`
		Retain bool   `json:"retain"`
		T      string `json:"t"`
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-recheck.C:
			if sessionID != "" && !s.sessions.valid(sessionID) {
				return
			}
		case <-ping.C:
			if !write(": ping\n\n") {
				return
			}
		case <-tick.C: // at most streamRate messages per second
			if n := skipped.Swap(0); n > 0 {
				if !write("event: skipped\ndata: {\"count\": %d}\n\n", n) {
					return
				}
			}
			var m *broker.Message
			select {
			case m = <-msgs:
			default:
				continue
			}
			at := m.Created
			if at.IsZero() {
				at = time.Now()
			}
			data, _ := json.Marshal(event{Topic: m.Topic, payloadJSON: makePayload(m.Payload, 4096), QoS: m.QoS,
				Retain: m.Retain, T: at.UTC().Format("2006-01-02T15:04:05.000Z07:00")})
			if !write("event: message\ndata: %s\n\n", data) {
				return
			}
		}
	}
}
