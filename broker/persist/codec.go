package persist

import (
	"encoding/binary"
	"fmt"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/packet"
)

// version is the first byte of every record.
const version = 1

// Property flags of a stored message.
const (
	hasPayloadFormat = 1 << iota
	hasContentType
	hasResponseTopic
	hasCorrelationData
)

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendMessage encodes m: topic, payload, QoS, retain, publisher,
// created, expires, then the pass-through MQTT 5 properties.
func appendMessage(b []byte, m *broker.Message) []byte {
	b = appendString(b, m.Topic)
	b = appendBytes(b, m.Payload)
	b = append(b, m.QoS)
	b = appendBool(b, m.Retain)
	b = appendString(b, m.ClientID)
	b = binary.AppendVarint(b, unixNano(m.Created))
	b = binary.AppendVarint(b, unixNano(m.Expires()))
	p := m.Properties
	if p == nil {
		return append(b, 0, 0)
	}
	var flags byte
	if p.Has(packet.PropPayloadFormat) {
		flags |= hasPayloadFormat
	}
	if p.Has(packet.PropContentType) {
		flags |= hasContentType
	}
	if p.Has(packet.PropResponseTopic) {
		flags |= hasResponseTopic
	}
	if p.Has(packet.PropCorrelationData) {
		flags |= hasCorrelationData
	}
	b = append(b, flags)
	if flags&hasPayloadFormat != 0 {
		b = append(b, p.PayloadFormat)
	}
	if flags&hasContentType != 0 {
		b = appendString(b, p.ContentType)
	}
	if flags&hasResponseTopic != 0 {
		b = appendString(b, p.ResponseTopic)
	}
	if flags&hasCorrelationData != 0 {
		b = appendBytes(b, p.CorrelationData)
	}
	b = binary.AppendUvarint(b, uint64(len(p.User)))
	for _, u := range p.User {
		b = appendString(b, u.Key)
		b = appendString(b, u.Value)
	}
	return b
}

func encodeSession(ss *broker.StoredSession) []byte {
	b := []byte{version}
	b = binary.BigEndian.AppendUint32(b, ss.Expiry)
	b = binary.AppendVarint(b, unixNano(ss.Deadline))
	b = binary.AppendUvarint(b, uint64(len(ss.Subscriptions)))
	for _, sub := range ss.Subscriptions {
		b = appendString(b, sub.Filter)
		b = append(b, sub.QoS)
		b = appendBool(b, sub.NoLocal)
		b = appendBool(b, sub.RetainAsPublished)
		b = append(b, sub.RetainHandling)
		b = binary.AppendUvarint(b, uint64(sub.ID))
	}
	// Added after version 1's first release: optional, at the end.
	if ci := ss.Client; ci != nil {
		b = append(b, 1)
		b = appendString(b, ci.Username)
		b = appendBool(b, ci.Anonymous)
	}
	return b
}

func encodeQueued(q *broker.StoredQueued) []byte {
	b := []byte{version, q.QoS}
	b = appendBool(b, q.Retain)
	b = binary.BigEndian.AppendUint16(b, q.PacketID)
	b = appendBool(b, q.Sent)
	b = appendBool(b, q.Released)
	b = binary.AppendUvarint(b, uint64(len(q.SubIDs)))
	for _, id := range q.SubIDs {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return appendMessage(b, q.Message)
}

// reader decodes a record; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bool() bool {
	v := r.byte()
	if v > 1 {
		r.fail(fmt.Errorf("bad boolean %d", v))
	}
	return v == 1
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint16() uint16 {
	if len(r.b) < 2 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) uint32() uint32 {
	if len(r.b) < 4 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.bytes()) }

// count reads a length of at most len(r.b) items of at least one byte.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return 0
	}
	return int(n)
}

func (r *reader) version() {
	if v := r.byte(); r.err == nil && v != version {
		r.fail(fmt.Errorf("unknown record version %d", v))
	}
}

// done returns the decoding error, or an error for trailing bytes.
func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

func (r *reader) message() *broker.Message {
	m := &broker.Message{}
	m.Topic = r.string()
	m.Payload = r.bytes()
	m.QoS = r.byte()
	m.Retain = r.bool()
	m.ClientID = r.string()
	m.Created = timeNano(r.varint())
	m.SetExpires(timeNano(r.varint()))
	flags := r.byte()
	var p packet.Properties
	if flags&hasPayloadFormat != 0 {
		p.PayloadFormat = r.byte()
		p.Set(packet.PropPayloadFormat)
	}
	if flags&hasContentType != 0 {
		p.ContentType = r.string()
		p.Set(packet.PropContentType)
	}
	if flags&hasResponseTopic != 0 {
		p.ResponseTopic = r.string()
		p.Set(packet.PropResponseTopic)
	}
	if flags&hasCorrelationData != 0 {
		p.CorrelationData = r.bytes()
		p.Set(packet.PropCorrelationData)
	}
	if n := r.count(); n > 0 {
		p.User = make([]packet.UserProperty, n)
		for i := range p.User {
			p.User[i] = packet.UserProperty{Key: r.string(), Value: r.string()}
		}
	}
	if flags&^(hasPayloadFormat|hasContentType|hasResponseTopic|hasCorrelationData) != 0 {
		r.fail(fmt.Errorf("unknown property flags %#x", flags))
	}
	if m.QoS > 2 {
		r.fail(fmt.Errorf("bad QoS %d", m.QoS))
	}
	if !p.Empty() {
		m.Properties = &p
	}
	return m
}

func decodeRetained(v []byte) (*broker.Message, error) {
	r := reader{b: v}
	r.version()
	m := r.message()
	if err := r.done(); err != nil {
		return nil, err
	}
	return m, nil
}

// encodeWill: the will delay, then the message.
func encodeWill(w *broker.StoredWill) []byte {
	b := binary.AppendUvarint([]byte{version}, uint64(w.Delay))
	return appendMessage(b, w.Message)
}

func decodeWill(v []byte) (*broker.StoredWill, error) {
	r := reader{b: v}
	r.version()
	w := &broker.StoredWill{}
	if d := r.uvarint(); d <= 0xFFFFFFFF {
		w.Delay = uint32(d)
	} else {
		r.fail(fmt.Errorf("bad will delay %d", d))
	}
	w.Message = r.message()
	if err := r.done(); err != nil {
		return nil, err
	}
	return w, nil
}

func decodeSession(v []byte) (*broker.StoredSession, error) {
	r := reader{b: v}
	r.version()
	ss := &broker.StoredSession{}
	ss.Expiry = r.uint32()
	ss.Deadline = timeNano(r.varint())
	n := r.count()
	for range n {
		ss.Subscriptions = append(ss.Subscriptions, broker.StoredSubscription{
			Filter: r.string(), QoS: r.byte(), NoLocal: r.bool(), RetainAsPublished: r.bool(),
			RetainHandling: r.byte(), ID: uint32(r.uvarint()),
		})
	}
	if r.err == nil && len(r.b) > 0 && r.byte() == 1 {
		ss.Client = &broker.ClientInfo{Username: r.string(), Anonymous: r.bool()}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return ss, nil
}

func decodeQueued(v []byte) (*broker.StoredQueued, error) {
	r := reader{b: v}
	r.version()
	q := &broker.StoredQueued{}
	q.QoS = r.byte()
	q.Retain = r.bool()
	q.PacketID = r.uint16()
	q.Sent = r.bool()
	q.Released = r.bool()
	if n := r.count(); n > 0 {
		q.SubIDs = make([]uint32, n)
		for i := range q.SubIDs {
			q.SubIDs[i] = uint32(r.uvarint())
		}
	}
	q.Message = r.message()
	if r.err == nil && (q.QoS < 1 || q.QoS > 2) {
		r.fail(fmt.Errorf("bad delivery QoS %d", q.QoS))
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return q, nil
}
