package main

import (
	"maps"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// willClient connects a device that announces itself with a retained
// "online" on dev/<id>/status and leaves a retained "offline" will there;
// delay is its v5 will delay (v5 with a 300 s session when above 0).
func willClient(t *testing.T, addr, id string, delay uint32) *brokertest.RawClient {
	t.Helper()
	version := byte(packet.Version311)
	if delay > 0 {
		version = packet.Version5
	}
	c := brokertest.Dial(t, addr, version)
	p := &packet.Connect{
		ProtocolName: "MQTT", ProtocolVersion: version, CleanStart: delay == 0, KeepAlive: 30, ClientID: id,
		WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: "dev/" + id + "/status", WillPayload: []byte("offline"),
	}
	if delay > 0 {
		p.Properties.SessionExpiry = 300
		p.Properties.Set(packet.PropSessionExpiry)
		p.WillProperties.WillDelay = delay
		p.WillProperties.Set(packet.PropWillDelay)
	}
	c.Write(p)
	if ack, ok := read(t, c).(*packet.Connack); !ok || ack.ReasonCode != 0 {
		t.Fatalf("%s: want successful CONNACK, got %#v", id, ack)
	}
	// Its PUBACK also says that the will, written before, is on disk.
	publish(t, c, 1, "dev/"+id+"/status", "online", 1, true)
	return c
}

// statuses returns the retained dev/+/status messages by topic.
func statuses(t *testing.T, addr string) map[string]string {
	t.Helper()
	c, _ := connect(t, addr, packet.Version311, "status-reader", true, 0)
	defer c.Conn.Close()
	c.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "dev/+/status"}}})
	got := map[string]string{}
	for {
		p, err := c.Read(300 * time.Millisecond)
		if err != nil {
			return got
		}
		if pub, ok := p.(*packet.Publish); ok {
			got[pub.Topic] = string(pub.Payload)
		}
	}
}

// TestWillsSurviveRestart: the will of a connection that a power cut (or a
// shutdown) ended goes out when the gateway starts again, after its delay
// if it has one and its client does not come back in time; a will that a
// DISCONNECT cancelled does not.
func TestWillsSurviveRestart(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir, addr := t.TempDir(), freeAddr(t)
			cfg := writeConfig(t, dir, addr)
			g := startGateway(t, cfg, addr)
			willClient(t, addr, "plain", 0)   // v3.1.1, clean session
			willClient(t, addr, "delayed", 1) // v5, will delay 1 s
			willClient(t, addr, "back", 60)   // v5, will delay 60 s; comes back
			disconnect(t, willClient(t, addr, "left", 0))
			g.stop(t, sig)

			g = startGateway(t, cfg, addr)
			defer g.stop(t, syscall.SIGTERM)
			back, ack := connect(t, addr, packet.Version5, "back", false, 300)
			defer back.Conn.Close()
			if !ack.SessionPresent {
				t.Fatal("the session of back was not restored")
			}
			want := map[string]string{
				"dev/plain/status":   "offline", // sent at the start
				"dev/delayed/status": "online",  // waits for its delay
				"dev/back/status":    "online",
				"dev/left/status":    "online",
			}
			if got := statuses(t, addr); !maps.Equal(got, want) {
				t.Fatalf("retained right after the restart: %v, want %v", got, want)
			}
			want["dev/delayed/status"] = "offline"
			brokertest.Eventually(t, 10*time.Second, func() bool {
				return statuses(t, addr)["dev/delayed/status"] == "offline"
			}, "delayed will sent")
			if got := statuses(t, addr); !maps.Equal(got, want) {
				t.Fatalf("retained after the delay: %v, want %v", got, want)
			}
		})
	}
}
