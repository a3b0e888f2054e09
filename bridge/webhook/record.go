package webhook

import (
	"encoding/binary"
	"errors"
	"time"
)

// Queue record layout: Meta holds version byte 1, flags (QoS in bits
// 0-1, retain in bit 2), the receive time in Unix milliseconds (int64,
// big-endian), a uint16 topic length and the topic; Data holds the
// payload as published.
const (
	metaVersion = 1
	metaFixed   = 1 + 1 + 8 + 2
)

// errBadRecord marks a queue record this version cannot decode.
var errBadRecord = errors.New("webhook: undecodable queue record")

// message is one local message as the sink sends it.
type message struct {
	seq      uint64
	topic    string
	payload  []byte
	qos      byte
	retain   bool
	received time.Time
}

// encodeMeta builds the Meta of a queue record.
func encodeMeta(topicName string, qos byte, retain bool, received time.Time) []byte {
	b := make([]byte, 0, metaFixed+len(topicName))
	f := qos & 3
	if retain {
		f |= 4
	}
	b = append(b, metaVersion, f)
	b = binary.BigEndian.AppendUint64(b, uint64(received.UnixMilli()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(topicName)))
	return append(b, topicName...)
}

// decodeRecord is the inverse of encodeMeta; the payload aliases data.
func decodeRecord(seq uint64, meta, data []byte) (message, error) {
	if len(meta) < metaFixed || meta[0] != metaVersion || meta[1]&^7 != 0 || meta[1]&3 == 3 {
		return message{}, errBadRecord
	}
	n := int(binary.BigEndian.Uint16(meta[10:12]))
	if len(meta) != metaFixed+n {
		return message{}, errBadRecord
	}
	ms := int64(binary.BigEndian.Uint64(meta[2:10]))
	return message{
		seq:      seq,
		topic:    string(meta[metaFixed:]),
		payload:  data,
		qos:      meta[1] & 3,
		retain:   meta[1]&4 != 0,
		received: time.UnixMilli(ms),
	}, nil
}
