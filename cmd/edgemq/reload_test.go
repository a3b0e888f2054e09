package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// TestReloadOnSIGHUP: roles change on SIGHUP without dropping the
// connection; a broken file is refused and the running roles stay; a
// changed listener is reported as needing a restart.
func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "edgemq.yaml")
	write := func(publish, address string, extra ...string) {
		t.Helper()
		y := "broker:\n  listeners:\n    - {type: tcp, address: \"" + address + "\"}\n" +
			"  auth:\n    roles:\n      - {name: r, allow: [{subscribe: \"#\"}, {publish: \"" + publish + "\"}]}\n" +
			"    anonymous_roles: [r]\nstorage: {dir: " + filepath.Join(dir, "data") + "}\nhttp: {address: \"127.0.0.1:0\"}\n" + strings.Join(extra, "")
		if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a/#", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr brokertest.Buffer
	done := make(chan int, 1)
	freeHTTP(t, cfgPath)
	go func() { done <- run(ctx, []string{"run", "--config", cfgPath}, &bytes.Buffer{}, &stderr) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("run did not stop")
		}
	}()
	// waitLog waits for the nth line matching re and returns its groups.
	waitLog := func(n int, re string) []string {
		t.Helper()
		rx := regexp.MustCompile(re)
		var all [][]string
		brokertest.Eventually(t, 5*time.Second, func() bool {
			all = rx.FindAllStringSubmatch(stderr.String(), -1)
			return len(all) >= n
		}, "log line "+re)
		return all[n-1]
	}
	addr := waitLog(1, `msg=listening .*address=(127\.0\.0\.1:\d+)`)[1]

	c := brokertest.Dial(t, addr, packet.Version5)
	c.Connect("reload")
	c.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "#", QoS: 1}}})
	if p, err := c.Read(2 * time.Second); err != nil || p.Type() != packet.SUBACK {
		t.Fatalf("SUBACK: %v %v", p, err)
	}
	publish := func(id uint16) packet.ReasonCode {
		t.Helper()
		c.Write(&packet.Publish{QoS: 1, PacketID: id, Topic: "b/x", Payload: []byte("v")})
		for {
			p, err := c.Read(2 * time.Second)
			if err != nil {
				t.Fatalf("publish %d: %v", id, err)
			}
			if a, ok := p.(*packet.Ack); ok && a.Kind == packet.PUBACK && a.PacketID == id {
				return a.ReasonCode
			}
		}
	}
	if rc := publish(10); rc != packet.NotAuthorized {
		t.Fatalf("before reload: publish b/x got 0x%02x, want 0x87", byte(rc))
	}

	os.WriteFile(cfgPath, []byte("broker: [unclosed\n"), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(1, `msg="reload refused`)
	if rc := publish(11); rc != packet.NotAuthorized {
		t.Fatalf("after a refused reload: publish b/x got 0x%02x, want 0x87", byte(rc))
	}

	write("#", "127.0.0.1:0")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(1, `msg="configuration reloaded"`)
	if rc := publish(12); rc != packet.Success {
		t.Fatalf("after reload: publish b/x got 0x%02x, want 0x00", byte(rc))
	}

	write("#", "127.0.0.1:1", "bridges:\n  - {name: up, address: \"tcp://127.0.0.1:1\", out: [{local: \"a/#\", remote: \"b/#\"}]}\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	m := waitLog(2, `msg="configuration reloaded" applied="([^"]*)".*needs_restart="?\[([^\]]*)\]`)
	if !strings.Contains(m[1], "bridges up") || !strings.Contains(m[2], "broker.listeners") || strings.Contains(m[2], "bridges") {
		t.Errorf("applied %q, needs_restart %q: want the bridge started and broker.listeners to need a restart", m[1], m[2])
	}
}

// TestReloadBridgeRule: SIGHUP changes a running bridge's out rule on the
// real binary; messages published after it go out under the new remote
// prefix, over the same queue.
func TestReloadBridgeRule(t *testing.T) {
	up := startUplink(t, "mosquitto")
	sub := startUplinkSubscriber(t, up.addr, "reload-sub", "#")
	sub.waitFor(t, up.addr, "probe/x")
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	write := func(remote string) {
		y := "broker:\n  listeners:\n    - {type: tcp, address: \"" + addr + "\"}\nstorage: {dir: " + filepath.Join(dir, "data") + "}\nhttp: {address: \"127.0.0.1:0\"}\n" +
			"bridges:\n  - {name: up, address: \"tcp://" + up.addr + "\", out: [{local: \"sensors/#\", remote: \"" + remote + "\", qos: 1}]}\n"
		if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a/sensors/#")
	g := startGateway(t, cfg, addr)
	pub, _ := connect(t, addr, packet.Version311, "pub", true, 0)
	arrived := func(line string) func() bool {
		return func() bool { return slices.Contains(sub.got(), line) }
	}
	publish(t, pub, 1, "sensors/t", "before", 1, false)
	brokertest.Eventually(t, 10*time.Second, arrived("a/sensors/t|before"), "forwarded under a/")
	write("b/sensors/#")
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 10*time.Second, func() bool {
		return strings.Contains(g.log.String(), "bridge reconfigured")
	}, "bridge reconfigured")
	publish(t, pub, 2, "sensors/t", "after", 1, false)
	brokertest.Eventually(t, 10*time.Second, arrived("b/sensors/t|after"), "forwarded under b/")
	if slices.Contains(sub.got(), "a/sensors/t|after") {
		t.Error("forwarded under the old prefix after the reload")
	}
}
