package webhook

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Body is the JSON object a sink POSTs: one request carries one batch.
type Body struct {
	// GatewayID is the gateway's id (gateway.id).
	GatewayID string `json:"gateway_id"`
	// Sink is the sink's name.
	Sink string `json:"sink"`
	// Messages are in the order the broker received them.
	Messages []Message `json:"messages"`
}

// Message is one local message in a Body.
type Message struct {
	// Seq is the message's sequence number in the sink's queue: it grows
	// by one per message, is never reused, and is the same when a
	// message is sent again, so that a receiver can drop duplicates.
	Seq uint64 `json:"seq"`
	// Topic is the local topic.
	Topic string `json:"topic"`
	// Payload is set when the payload is valid UTF-8 (an empty payload
	// included), PayloadB64 (standard base64) otherwise: exactly one of
	// them is present.
	Payload    *string `json:"payload,omitempty"`
	PayloadB64 *string `json:"payload_b64,omitempty"`
	// QoS and Retain are as published.
	QoS    byte `json:"qos"`
	Retain bool `json:"retain"`
	// Timestamp is when the broker received the message, RFC 3339 in UTC
	// with milliseconds.
	Timestamp string `json:"timestamp"`
}

// TimestampLayout is the layout of Message.Timestamp.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// jsonMessage converts m, choosing text or base64 for its payload.
func jsonMessage(m message) Message {
	out := Message{Seq: m.seq, Topic: m.topic, QoS: m.qos, Retain: m.retain,
		Timestamp: stamp(m.received)}
	if utf8.Valid(m.payload) {
		s := string(m.payload)
		out.Payload = &s
	} else {
		s := base64.StdEncoding.EncodeToString(m.payload)
		out.PayloadB64 = &s
	}
	return out
}

// encodeBody appends the request body of msgs to buf (gzip-compressed
// when zip is set) and returns it.
func encodeBody(buf *bytes.Buffer, gatewayID, sink string, msgs []message, zip bool) error {
	b := Body{GatewayID: gatewayID, Sink: sink, Messages: make([]Message, len(msgs))}
	for i, m := range msgs {
		b.Messages[i] = jsonMessage(m)
	}
	buf.Reset()
	if !zip {
		return encodeJSON(buf, &b)
	}
	zw := gzip.NewWriter(buf)
	if err := encodeJSON(zw, &b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("webhook: gzip body: %w", err)
	}
	return nil
}

func encodeJSON(w io.Writer, b *Body) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("webhook: encode body: %w", err)
	}
	return nil
}

// stamp formats t as Message.Timestamp does.
func stamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }
