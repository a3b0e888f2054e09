package broker_test

// Protocol violations sent as raw bytes. A 3.1.1 client that breaks the
// protocol is disconnected [MQTT-4.8.0-1]; an MQTT 5 client is first told
// why in a DISCONNECT [MQTT-4.13.1-1]. Nothing a client sends may disturb
// the other clients or the broker.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// wire builds a packet: first byte, remaining length, body.
func wire(first byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := []byte{first}
	n := len(b)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			break
		}
	}
	return append(out, b...)
}

// wstr encodes a length-prefixed string without checking it.
func wstr(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

func wu16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

// wprops is an empty property block in MQTT 5, nothing before.
func wprops(v byte) []byte {
	if v == packet.Version5 {
		return []byte{0}
	}
	return nil
}

// wconnect is a CONNECT with the given flags byte.
func wconnect(v byte, flags byte, id string) []byte {
	return wire(0x10, wstr("MQTT"), []byte{v, flags}, wu16(30), wprops(v), wstr(id))
}

// rcExpectClosed reads until the broker closes the connection and decodes
// what it sent before; unlike RawClient.ExpectClosed it fails on bytes that
// do not decode.
func rcExpectClosed(t testing.TB, rc *brokertest.RawClient, timeout time.Duration) []packet.Packet {
	t.Helper()
	b := rcClosedByPeer(t, rc.Conn, timeout)
	r := bytes.NewReader(b)
	var got []packet.Packet
	for r.Len() > 0 {
		p, err := packet.Read(r, 0, rc.Version)
		if err != nil {
			t.Fatalf("broker sent undecodable bytes % x: %v", b, err)
		}
		got = append(got, p)
	}
	return got
}

type violation struct {
	name      string
	connected bool // send after a successful CONNECT
	bytes     func(v byte) []byte
	code      packet.ReasonCode // of the v5 DISCONNECT; 0 before CONNACK (closed without a word)
	halfClose bool              // the client shuts its write side after the bytes
}

var violations = []violation{
	{name: "remaining_length_5_bytes", connected: true, code: packet.MalformedPacket,
		bytes: func(byte) []byte { return []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01} }}, // [MQTT-1.5.5]
	{name: "remaining_length_beyond_data", connected: true, halfClose: true,
		bytes: func(v byte) []byte { return []byte{0x30, 0x40, 0x00, 0x03, 'a', '/', 'b', 'x'} }},
	{name: "invalid_utf8_topic", connected: true, code: packet.MalformedPacket, // [MQTT-1.5.3-1]
		bytes: func(v byte) []byte { return wire(0x30, wstr("a/\xff\xfe"), wprops(v), []byte("x")) }},
	{name: "utf16_surrogate_topic", connected: true, code: packet.MalformedPacket, // [MQTT-1.5.3-1]
		bytes: func(v byte) []byte { return wire(0x30, wstr("a/\xed\xa0\x80"), wprops(v), []byte("x")) }},
	{name: "nul_in_topic", connected: true, code: packet.MalformedPacket, // [MQTT-1.5.3-2]
		bytes: func(v byte) []byte { return wire(0x30, wstr("a\x00b"), wprops(v), []byte("x")) }},
	{name: "subscribe_reserved_flags", connected: true, code: packet.MalformedPacket, // [MQTT-3.8.1-1]
		bytes: func(v byte) []byte { return wire(0x80, wu16(1), wprops(v), wstr("a/b"), []byte{1}) }},
	{name: "unsubscribe_reserved_flags", connected: true, code: packet.MalformedPacket, // [MQTT-3.10.1-1]
		bytes: func(v byte) []byte { return wire(0xA0, wu16(1), wprops(v), wstr("a/b")) }},
	{name: "subscribe_no_filters", connected: true, code: packet.ProtocolError, // [MQTT-3.8.3-3]
		bytes: func(v byte) []byte { return wire(0x82, wu16(1), wprops(v)) }},
	{name: "subscribe_invalid_utf8_filter", connected: true, code: packet.MalformedPacket, // [MQTT-1.5.3-1]
		bytes: func(v byte) []byte { return wire(0x82, wu16(1), wprops(v), wstr("a/\xc0\xaf"), []byte{1}) }},
	{name: "unsubscribe_no_filters", connected: true, code: packet.ProtocolError, // [MQTT-3.10.3-2]
		bytes: func(v byte) []byte { return wire(0xA2, wu16(1), wprops(v)) }},
	{name: "subscribe_qos_3", connected: true, code: packet.ProtocolError, // 3.8.3.1 (v5); malformed in 3.1.1
		bytes: func(v byte) []byte { return wire(0x82, wu16(1), wprops(v), wstr("a/b"), []byte{3}) }},
	{name: "reserved_connect_flag", code: 0, // [MQTT-3.1.2-3]
		bytes: func(v byte) []byte { return wconnect(v, 0x03, "bad") }},
	{name: "will_qos_without_will_flag", code: 0, // [MQTT-3.1.2-13]
		bytes: func(v byte) []byte { return wconnect(v, 0x0A, "bad") }},
	{name: "wildcard_plus_in_publish", connected: true, code: packet.TopicNameInvalid, // [MQTT-3.3.2-2]
		bytes: func(v byte) []byte { return wire(0x30, wstr("a/+"), wprops(v), []byte("x")) }},
	{name: "wildcard_hash_in_publish", connected: true, code: packet.TopicNameInvalid,
		bytes: func(v byte) []byte { return wire(0x32, wstr("a/#"), wu16(1), wprops(v), []byte("x")) }},
	{name: "publish_qos_3", connected: true, code: packet.MalformedPacket, // [MQTT-3.3.1-4]
		bytes: func(v byte) []byte { return wire(0x36, wstr("a"), wu16(1), wprops(v), []byte("x")) }},
	{name: "publish_empty_topic", connected: true, code: packet.ProtocolError, // [MQTT-4.7.3-1]; v5: no topic alias (3.3.2.1)
		bytes: func(v byte) []byte { return wire(0x30, wstr(""), wprops(v), []byte("x")) }},
	{name: "publish_qos0_dup", connected: true, code: packet.ProtocolError, // [MQTT-3.3.1-2]
		bytes: func(v byte) []byte { return wire(0x38, wstr("a"), wprops(v), []byte("x")) }},
	{name: "publish_qos1_packet_id_0", connected: true, code: packet.ProtocolError, // [MQTT-2.2.1-3]
		bytes: func(v byte) []byte { return wire(0x32, wstr("a"), wu16(0), wprops(v), []byte("x")) }},
	{name: "pubrel_flags_0", connected: true, code: packet.MalformedPacket, // [MQTT-3.6.1-1]
		bytes: func(v byte) []byte { return wire(0x60, wu16(1)) }},
	{name: "second_connect", connected: true, code: packet.ProtocolError, // [MQTT-3.1.0-2]
		bytes: func(v byte) []byte { return wconnect(v, 0x02, "again") }},
	{name: "first_packet_pingreq", code: 0, // [MQTT-3.1.0-1]
		bytes: func(byte) []byte { return []byte{0xC0, 0x00} }},
	{name: "first_packet_publish", code: 0,
		bytes: func(v byte) []byte { return wire(0x30, wstr("a"), []byte("x")) }},
	{name: "packet_too_large", connected: true, code: packet.PacketTooLarge, // [MQTT-3.2.2-15] (v5), Options.MaxPacketSize
		bytes: func(byte) []byte { return []byte{0x30, 0x80, 0x20, 0x00, 0x01, 'a'} }}, // 4096 bytes claimed, 1024 allowed
	{name: "packet_too_large_connect", code: 0,
		bytes: func(byte) []byte { return []byte{0x10, 0x80, 0x20, 0x00, 0x04, 'M', 'Q'} }},
}

// TestProtocolViolations sends each violation from a 3.1.1 and a 5 client.
func TestProtocolViolations(t *testing.T) {
	t.Parallel()
	for _, vc := range violations {
		for _, v := range []byte{packet.Version311, packet.Version5} {
			t.Run(fmt.Sprintf("%s/v%d", vc.name, v), func(t *testing.T) {
				t.Parallel()
				s, addr := brokertest.StartServer(t, broker.Options{MaxPacketSize: 1024, ConnectTimeout: 2 * time.Second})
				witness := p3Connect(t, addr, "witness", pv311)
				witness.sub(t, "w/#", 1)

				rc := brokertest.Dial(t, addr, v)
				if vc.connected {
					rc.Connect("violator")
				}
				rc.WriteRaw(vc.bytes(v))
				if vc.halfClose {
					rc.Conn.(*net.TCPConn).CloseWrite()
				}
				got := rcExpectClosed(t, rc, boundedWait)
				switch {
				case vc.halfClose:
					// The broker cannot tell a truncated packet from a
					// client gone: closing, with at most a DISCONNECT
					// 0x81, is right.
					if len(got) > 1 || (len(got) == 1 && (v != packet.Version5 || !isDisconnect(got[0], packet.MalformedPacket))) {
						t.Errorf("got %s", describePackets(got))
					}
				case v == packet.Version5 && vc.code != 0:
					if len(got) != 1 || !isDisconnect(got[0], vc.code) {
						t.Errorf("want DISCONNECT 0x%02x then close, got %s", byte(vc.code), describePackets(got))
					}
				case !vc.connected && v == packet.Version5:
					// Before CONNACK no DISCONNECT [MQTT-3.2.0-1]; a CONNACK
					// with an error code is allowed [MQTT-3.1.4-?].
					if len(got) > 1 || (len(got) == 1 && !isConnackError(got[0])) {
						t.Errorf("want close (or a refusing CONNACK), got %s", describePackets(got))
					}
				default:
					if len(got) != 0 {
						t.Errorf("3.1.1: want close without a packet, got %s", describePackets(got))
					}
				}

				// The other client is undisturbed and the broker takes new
				// connections.
				witness.pub(t, "w/after", 1, false, "still here")
				witness.in.waitTopic(t, "w/after")
				for _, nv := range []byte{packet.Version311, packet.Version5} {
					nc := rcConnect(t, addr, nv, fmt.Sprintf("next%d", nv))
					rcPing(t, nc)
				}
				brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 3 }, "violator removed")
			})
		}
	}
}

func isDisconnect(p packet.Packet, code packet.ReasonCode) bool {
	d, ok := p.(*packet.Disconnect)
	return ok && d.ReasonCode == code
}

func isConnackError(p packet.Packet) bool {
	a, ok := p.(*packet.Connack)
	return ok && a.ReasonCode.IsError()
}

func describePackets(ps []packet.Packet) string {
	s := fmt.Sprintf("%d packets:", len(ps))
	for _, p := range ps {
		switch p := p.(type) {
		case *packet.Disconnect:
			s += fmt.Sprintf(" DISCONNECT(0x%02x %q)", byte(p.ReasonCode), p.Properties.ReasonString)
		case *packet.Connack:
			s += fmt.Sprintf(" CONNACK(0x%02x)", byte(p.ReasonCode))
		default:
			s += " " + p.Type().String()
		}
	}
	return s
}

// TestProtocolUnknownVersion: a CONNECT with a protocol level the broker
// does not support gets CONNACK 0x01 and the connection is closed
// [MQTT-3.1.2-2].
func TestProtocolUnknownVersion(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{})
	cases := map[string][]byte{
		"level_6":          wire(0x10, wstr("MQTT"), []byte{6, 0x02}, wu16(30), wstr("x")),
		"level_2":          wire(0x10, wstr("MQTT"), []byte{2, 0x02}, wu16(30), wstr("x")),
		"level_255":        wire(0x10, wstr("MQTT"), []byte{255, 0x02}, wu16(30), wstr("x")),
		"mqisdp_level_4":   wire(0x10, wstr("MQIsdp"), []byte{4, 0x02}, wu16(30), wstr("x")),
		"mqtt_name_with_3": wire(0x10, wstr("MQTT"), []byte{3, 0x02}, wu16(30), wstr("x")),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := net.DialTimeout("tcp", addr, boundedWait)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetWriteDeadline(time.Now().Add(boundedWait))
			if _, err := c.Write(b); err != nil {
				t.Fatal(err)
			}
			got := rcClosedByPeer(t, c, boundedWait)
			if want := []byte{0x20, 0x02, 0x00, 0x01}; !bytes.Equal(got, want) {
				t.Fatalf("got % x, want CONNACK 0x01 (% x) then close", got, want)
			}
		})
	}
	rcPing(t, rcConnect(t, addr, packet.Version311, "after"))
}

// TestProtocolGarbage: random bytes, before and after CONNECT, end that
// connection and nothing else.
func TestProtocolGarbage(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{ConnectTimeout: 300 * time.Millisecond, MaxPacketSize: 64 << 10})
	witness := p3Connect(t, addr, "witness", pv311)
	witness.sub(t, "w/#", 1)
	t.Run("seeds", func(t *testing.T) {
		for seed := range uint64(16) {
			for _, connected := range []bool{false, true} {
				t.Run(fmt.Sprintf("seed%d/connected=%v", seed, connected), func(t *testing.T) {
					t.Parallel()
					rng := rand.New(rand.NewPCG(seed, 0xED6E))
					junk := make([]byte, 1+rng.IntN(8192))
					for i := range junk {
						junk[i] = byte(rng.Uint32())
					}
					rc := brokertest.Dial(t, addr, packet.Version311)
					if connected {
						// Keep alive 1 s: a packet the junk leaves
						// unfinished ends within 1.5 s.
						rc.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true,
							KeepAlive: 1, ClientID: fmt.Sprintf("junk%d", seed)})
						if p := rcRead(t, rc); p.Type() != packet.CONNACK {
							t.Fatalf("CONNACK: %#v", p)
						}
					}
					// The broker may close before it read everything.
					rc.Conn.SetWriteDeadline(time.Now().Add(boundedWait))
					rc.Conn.Write(junk)
					rcClosedByPeer(t, rc.Conn, boundedWait)
				})
			}
		}
	})
	witness.pub(t, "w/after", 1, false, "still here")
	witness.in.waitTopic(t, "w/after")
	rcPing(t, rcConnect(t, addr, packet.Version5, "after"))
	brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 2 }, "junk clients removed")
}

// TestProtocolConnectTimeout: a connection that sends no CONNECT, or only
// part of one, is closed after Options.ConnectTimeout.
func TestProtocolConnectTimeout(t *testing.T) {
	t.Parallel()
	_, addr := brokertest.StartServer(t, broker.Options{ConnectTimeout: 300 * time.Millisecond})
	for name, b := range map[string][]byte{"nothing": nil, "partial_connect": {0x10, 0x10, 0x00, 0x04, 'M'}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := net.DialTimeout("tcp", addr, boundedWait)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			if b != nil {
				c.Write(b)
			}
			if got := rcClosedByPeer(t, c, boundedWait); len(got) != 0 {
				t.Errorf("got % x before close", got)
			}
			if el := time.Since(start); el < 250*time.Millisecond {
				t.Errorf("closed after %v, before the 300ms connect timeout", el)
			}
		})
	}
}

// TestProtocolClientClosesMidPacket: a client that vanishes in the middle
// of a packet is cleaned up like any other; its will is published.
func TestProtocolClientClosesMidPacket(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	watch := p3Connect(t, addr, "watch", pv311)
	watch.sub(t, "will/#", 1)
	rc := brokertest.Dial(t, addr, packet.Version311)
	rc.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 30,
		ClientID: "midway", WillFlag: true, WillTopic: "will/midway", WillPayload: []byte("cut")})
	if p := rcRead(t, rc); p.Type() != packet.CONNACK {
		t.Fatalf("CONNACK: %#v", p)
	}
	rc.WriteRaw([]byte{0x30, 0x7F, 0x00, 0x01})
	rc.Conn.Close()
	got := watch.in.waitTopic(t, "will/midway")
	if m := got[len(got)-1]; string(m.Payload()) != "cut" {
		t.Errorf("will: %s", describeMsgs3([]mqtt.Message{m}))
	}
	brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().ClientsConnected == 1 }, "client removed")
}
