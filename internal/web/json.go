package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"
)

func contextWith(r *http.Request, ws *webSession) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, ws)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v) //nolint:errcheck // the client went away
}

type errorJSON struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorJSON{Error: msg})
}

// listPayloadMax bounds the payloads shown in lists.
const listPayloadMax = 256

// payloadJSON is a payload as text or base64, optionally truncated.
type payloadJSON struct {
	Payload    *string `json:"payload,omitempty"`
	PayloadB64 *string `json:"payload_b64,omitempty"`
	Truncated  bool    `json:"truncated,omitempty"`
}

func makePayload(p []byte, max int) payloadJSON {
	var out payloadJSON
	text := utf8.Valid(p)
	if max > 0 && len(p) > max {
		p, out.Truncated = p[:max], true
		for text && len(p) > 0 && !utf8.Valid(p) {
			p = p[:len(p)-1] // do not cut a character in two
		}
	}
	if text {
		s := string(p)
		out.Payload = &s
	} else {
		s := base64.StdEncoding.EncodeToString(p)
		out.PayloadB64 = &s
	}
	return out
}

// timeJSON is a time in RFC 3339 UTC, or null when zero.
type timeJSON time.Time

func (t timeJSON) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339))
}
