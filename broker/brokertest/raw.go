package brokertest

import (
	"net"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// RawClient speaks MQTT packet by packet over TCP, for protocol tests
// that need to send what a well-behaved client never would.
type RawClient struct {
	t       testing.TB
	Conn    net.Conn
	Version byte
}

// Dial connects a RawClient to addr; it closes with the test.
func Dial(t testing.TB, addr string, version byte) *RawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("brokertest: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &RawClient{t: t, Conn: c, Version: version}
}

// WriteRaw writes bytes as they are.
func (r *RawClient) WriteRaw(b []byte) {
	r.t.Helper()
	r.Conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.Conn.Write(b); err != nil {
		r.t.Fatalf("brokertest: write: %v", err)
	}
}

// Write encodes and writes p.
func (r *RawClient) Write(p packet.Packet) {
	r.t.Helper()
	b, err := packet.Append(nil, p, r.Version)
	if err != nil {
		r.t.Fatalf("brokertest: encode %v: %v", p.Type(), err)
	}
	r.WriteRaw(b)
}

// Read reads one packet, waiting up to timeout.
func (r *RawClient) Read(timeout time.Duration) (packet.Packet, error) {
	r.Conn.SetReadDeadline(time.Now().Add(timeout))
	return packet.Read(r.Conn, 0, r.Version)
}

// Connect sends CONNECT for clientID (clean start) and requires a
// successful CONNACK.
func (r *RawClient) Connect(clientID string) *packet.Connack {
	r.t.Helper()
	name := "MQTT"
	if r.Version == packet.Version31 {
		name = "MQIsdp"
	}
	r.Write(&packet.Connect{ProtocolName: name, ProtocolVersion: r.Version, CleanStart: true, KeepAlive: 30, ClientID: clientID})
	p, err := r.Read(5 * time.Second)
	if err != nil {
		r.t.Fatalf("brokertest: read CONNACK: %v", err)
	}
	ack, ok := p.(*packet.Connack)
	if !ok || ack.ReasonCode != 0 {
		r.t.Fatalf("brokertest: want successful CONNACK, got %#v", p)
	}
	return ack
}

// ExpectClosed waits until the broker closes the connection, returning the
// packets it sent before (for example a DISCONNECT).
func (r *RawClient) ExpectClosed(timeout time.Duration) []packet.Packet {
	r.t.Helper()
	var got []packet.Packet
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p, err := r.Read(time.Until(deadline))
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break
			}
			return got
		}
		got = append(got, p)
	}
	r.t.Fatalf("brokertest: connection still open after %v (got %d packets)", timeout, len(got))
	return nil
}
