package broker

import (
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// Message is an application message as it flows through the broker.
// Messages handed to callbacks are shared between subscribers and must not
// be modified.
type Message struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	// Properties carries the MQTT 5 properties passed through to
	// subscribers (payload format, message expiry, content type, response
	// topic, correlation data, user properties); nil when there are none.
	// Topic alias and subscription identifiers are never stored here.
	Properties *packet.Properties
	// ClientID is the publisher's client identifier.
	ClientID string
	// Created is when the broker received the message.
	Created time.Time

	expires time.Time // zero: never
}

// expired reports whether the message's expiry interval has passed.
func (m *Message) expired(now time.Time) bool {
	return !m.expires.IsZero() && !now.Before(m.expires)
}

// remainingExpiry is the expiry interval to send on delivery
// [MQTT-3.3.2-6]: the received value minus the time spent waiting.
func (m *Message) remainingExpiry(now time.Time) uint32 {
	d := m.expires.Sub(now)
	if d <= 0 {
		return 0
	}
	return uint32((d + time.Second - 1) / time.Second)
}

// passThrough copies the properties a broker forwards unchanged
// [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-17],
// [MQTT-3.3.2-20]. It returns nil when none is present.
func passThrough(in *packet.Properties) *packet.Properties {
	var out packet.Properties
	if in.Has(packet.PropPayloadFormat) {
		out.PayloadFormat = in.PayloadFormat
		out.Set(packet.PropPayloadFormat)
	}
	if in.Has(packet.PropContentType) {
		out.ContentType = in.ContentType
		out.Set(packet.PropContentType)
	}
	if in.Has(packet.PropResponseTopic) {
		out.ResponseTopic = in.ResponseTopic
		out.Set(packet.PropResponseTopic)
	}
	if in.Has(packet.PropCorrelationData) {
		out.CorrelationData = in.CorrelationData
		out.Set(packet.PropCorrelationData)
	}
	out.User = in.User
	if out.Empty() {
		return nil
	}
	return &out
}

// newMessage builds the routed form of a received PUBLISH.
func newMessage(p *packet.Publish, clientID string, now time.Time) *Message {
	m := &Message{
		Topic:    p.Topic,
		Payload:  p.Payload,
		QoS:      p.QoS,
		Retain:   p.Retain,
		ClientID: clientID,
		Created:  now,
	}
	if !p.Properties.Empty() {
		m.Properties = passThrough(&p.Properties)
		if p.Properties.Has(packet.PropMessageExpiry) {
			m.expires = now.Add(time.Duration(p.Properties.MessageExpiry) * time.Second)
		}
	}
	return m
}
