package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/bridge"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/storefwd"
)

// TestRunBridge runs the gateway with a bridge whose uplink is down: a
// local QoS 1 publish matching its out rule is acknowledged once queued,
// and, the queue being full under reject_new, refused with "quota
// exceeded"; the gateway stops cleanly.
func TestRunBridge(t *testing.T) {
	dir := t.TempDir()
	addr, uplink := freeAddr(t), freeAddr(t) // nothing listens on uplink
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`broker:
  listeners:
    - {type: tcp, address: %q}
storage: {dir: %q}
bridges:
  - name: cloud
    address: tcp://%s
    out:
      - {local: "sensors/#", remote: "site-7/sensors/#", qos: 1}
    queue: {max_bytes: 64KiB, when_full: reject_new}
    reconnect: {min: 50ms, max: 200ms}
`, addr, filepath.Join(dir, "data"), uplink)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr brokertest.Buffer
	done := make(chan int, 1)
	freeHTTP(t, cfg)
	go func() { done <- run(ctx, []string{"run", "--config", cfg}, &bytes.Buffer{}, &stderr) }()
	brokertest.WaitReady(t, addr)

	c := brokertest.Dial(t, addr, packet.Version5)
	c.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version5, CleanStart: true, KeepAlive: 30, ClientID: "pub"})
	if p, err := c.Read(5 * time.Second); err != nil || p.(*packet.Connack).ReasonCode != 0 {
		t.Fatalf("CONNACK: %v %v", p, err)
	}
	payload := bytes.Repeat([]byte("x"), 20<<10)
	var codes []packet.ReasonCode
	for pid := uint16(1); pid <= 4; pid++ {
		c.Write(&packet.Publish{QoS: 1, PacketID: pid, Topic: "sensors/t", Payload: payload})
		p, err := c.Read(5 * time.Second)
		if err != nil {
			t.Fatalf("PUBACK %d: %v", pid, err)
		}
		a, ok := p.(*packet.Ack)
		if !ok || a.Kind != packet.PUBACK {
			t.Fatalf("want PUBACK, got %#v", p)
		}
		codes = append(codes, a.ReasonCode)
	}
	if want := []packet.ReasonCode{0, 0, 0, 0x97}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("PUBACK reason codes %v, want %v", codes, want)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit code %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	log := stderr.String()
	if !strings.Contains(log, "bridge started") || !strings.Contains(log, "msg=stopped") {
		t.Errorf("log:\n%s", log)
	}
	// The bridge subscribes before the listeners accept anyone: else a
	// client quick to connect after a restart has messages acknowledged
	// that no bridge took (the SIGKILL proof lost some that way).
	if b, l := strings.Index(log, "bridge started"), strings.Index(log, "msg=listening"); l < 0 || b > l {
		t.Errorf("the bridge started after the listener opened:\n%s", log)
	}
}

func TestBridgeConfig(t *testing.T) {
	cfg := config.Default()
	cfg.Gateway.ID = "gw1"
	bc := config.Bridge{Name: "cloud", Address: "tls://h:8883", Protocol: "5",
		TLS:   config.BridgeTLS{ServerName: "mqtt.example.com"},
		Out:   []config.BridgeOut{{Local: "a/#", Remote: "b/#", QoS: 2}},
		In:    []config.BridgeIn{{Remote: "c/#", Local: "d/#", QoS: 1}},
		Queue: config.BridgeQueue{WhenFull: "reject_new"}}
	c, err := bridgeConfig(cfg, bc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if c.Protocol != packet.Version5 || c.TLS == nil || c.TLS.ServerName != "mqtt.example.com" ||
		c.Queue.MaxBytes != int64(config.DefaultBridgeQueueBytes) || c.Queue.WhenFull != storefwd.RejectNew ||
		c.GatewayID != "gw1" || c.Out[0] != (bridge.Rule{Local: "a/#", Remote: "b/#", QoS: 2}) ||
		c.In[0] != (bridge.Rule{Local: "d/#", Remote: "c/#", QoS: 1}) {
		t.Errorf("bridgeConfig = %+v", c)
	}
	bc.TLS.CA = "/nonexistent/ca.pem"
	if _, err := bridgeConfig(cfg, bc, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("missing CA file accepted")
	}
}
