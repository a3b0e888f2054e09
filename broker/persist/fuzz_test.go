package persist

import (
	"bytes"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
)

// Record kinds of FuzzDecodeRecord.
const (
	kindRetained = iota
	kindSession
	kindQueued
	kindWill
	kinds
)

// decodeAny decodes v as a record of kind and encodes the result again;
// ok is false when v does not decode.
func decodeAny(kind byte, v []byte) (again []byte, ok bool) {
	switch kind % kinds {
	case kindRetained:
		m, err := decodeRetained(v)
		if err != nil {
			return nil, false
		}
		return appendMessage([]byte{version}, m), true
	case kindSession:
		ss, err := decodeSession(v)
		if err != nil {
			return nil, false
		}
		return encodeSession(ss), true
	case kindQueued:
		q, err := decodeQueued(v)
		if err != nil {
			return nil, false
		}
		return encodeQueued(q), true
	default:
		w, err := decodeWill(v)
		if err != nil {
			return nil, false
		}
		return encodeWill(w), true
	}
}

// FuzzDecodeRecord feeds arbitrary bytes to the decoders of the stored
// records (what a damaged disk could hold): they must return an error or
// a value that encodes to a record decoding to the same encoding, and
// never panic.
func FuzzDecodeRecord(f *testing.F) {
	m := testMessage()
	plain := &broker.Message{Topic: "x", Payload: []byte{0}, ClientID: "c"}
	f.Add(byte(kindRetained), appendMessage([]byte{version}, m))
	f.Add(byte(kindRetained), appendMessage([]byte{version}, plain))
	f.Add(byte(kindSession), encodeSession(&broker.StoredSession{
		ClientID: "c1", Expiry: 300, Deadline: time.Unix(0, 1700000001000000000),
		Subscriptions: []broker.StoredSubscription{{Filter: "a/#", QoS: 1, NoLocal: true, ID: 7}, {Filter: "$share/g/b", QoS: 2}},
		Client:        &broker.ClientInfo{Username: "alice"},
	}))
	f.Add(byte(kindQueued), encodeQueued(&broker.StoredQueued{Seq: 1, Message: m, QoS: 2, Retain: true, SubIDs: []uint32{7, 9}, PacketID: 42, Sent: true}))
	f.Add(byte(kindWill), encodeWill(&broker.StoredWill{Message: m, Delay: 30}))
	f.Add(byte(kindWill), encodeWill(&broker.StoredWill{Message: plain}))
	f.Fuzz(func(t *testing.T, kind byte, v []byte) {
		enc, ok := decodeAny(kind, v)
		if !ok {
			return
		}
		again, ok := decodeAny(kind, enc)
		if !ok {
			t.Fatalf("kind %d: %x decoded, but its encoding %x does not", kind%kinds, v, enc)
		}
		if !bytes.Equal(again, enc) {
			t.Fatalf("kind %d: encoding changed on a round trip:\n%x\n%x", kind%kinds, enc, again)
		}
	})
}
