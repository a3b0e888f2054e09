package broker_test

import (
	"net"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// FuzzServerInput feeds arbitrary bytes to a live broker, after a valid
// CONNECT (3.1.1 or 5) or in place of one, and requires that the broker
// survives: a well-behaved client still connects and pings afterwards.
// The seeds are well-formed packets, so the fuzzer starts from input the
// broker handles deep down.
func FuzzServerInput(f *testing.F) {
	seeds := []packet.Packet{
		&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "a/#", QoS: 2}, {Filter: "$share/g/b/+", QoS: 1}}},
		&packet.Publish{QoS: 1, PacketID: 2, Topic: "a/b", Payload: []byte("x"), Retain: true},
		&packet.Publish{QoS: 2, PacketID: 3, Topic: "a/c", Payload: []byte("y")},
		&packet.Ack{Kind: packet.PUBREL, PacketID: 3},
		&packet.Unsubscribe{PacketID: 4, Filters: []string{"a/#"}},
		&packet.Pingreq{},
		&packet.Disconnect{},
	}
	for _, v := range []byte{packet.Version311, packet.Version5} {
		var stream []byte
		for _, p := range seeds {
			stream, _ = packet.Append(stream, p, v)
		}
		f.Add(v, true, stream)
		f.Add(v, false, stream[:len(stream)/2])
	}
	// One broker for the whole run (per fuzz worker); it must outlive
	// every input.
	_, addr := brokertest.StartServer(f, broker.Options{ConnectTimeout: 200 * time.Millisecond, MaxPacketSize: 64 << 10})
	f.Fuzz(func(t *testing.T, version byte, connect bool, data []byte) {
		if version != packet.Version5 {
			version = packet.Version311
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatalf("broker gone: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if connect {
			b, _ := packet.Append(nil, &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: version, CleanStart: true, ClientID: "fuzz"}, version)
			c.Write(b)
		}
		c.Write(data)
		c.Close()

		ok, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatalf("broker gone after input %x: %v", data, err)
		}
		defer ok.Close()
		ok.SetDeadline(time.Now().Add(2 * time.Second))
		b, _ := packet.Append(nil, &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, ClientID: "witness"}, packet.Version311)
		b, _ = packet.Append(b, &packet.Pingreq{}, packet.Version311)
		ok.Write(b)
		for _, want := range []packet.Type{packet.CONNACK, packet.PINGRESP} {
			p, err := packet.Read(ok, 0, packet.Version311)
			if err != nil || p.Type() != want {
				t.Fatalf("after input %x: want %v, got %v, %v", data, want, p, err)
			}
		}
	})
}
