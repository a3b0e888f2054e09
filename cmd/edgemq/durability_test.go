package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// binPath is the edgemq binary built by TestMain for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "edgemq-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "edgemq")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// gateway is one run of the edgemq binary.
type gateway struct {
	cmd  *exec.Cmd
	log  *brokertest.Buffer
	done chan error
}

// startGateway runs the binary with cfg and waits until addr accepts
// connections.
func startGateway(t *testing.T, cfg, addr string, args ...string) *gateway {
	t.Helper()
	return startGatewayEnv(t, nil, cfg, addr, args...)
}

// startGatewayEnv is startGateway with env added to the process's
// environment.
func startGatewayEnv(t *testing.T, env []string, cfg, addr string, args ...string) *gateway {
	t.Helper()
	freeHTTP(t, cfg)
	g := &gateway{log: &brokertest.Buffer{}, done: make(chan error, 1)}
	g.cmd = exec.Command(binPath, append([]string{"run", "--config", cfg}, args...)...)
	g.cmd.Env = append(os.Environ(), env...)
	g.cmd.Stderr = g.log
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Owned by the test: ends when the process exits (killed in Cleanup at
	// the latest).
	go func() { g.done <- g.cmd.Wait() }()
	t.Cleanup(func() {
		g.cmd.Process.Kill()
		<-g.done
		if t.Failed() {
			t.Logf("gateway log:\n%s", g.log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return g
		}
		select {
		case err := <-g.done:
			g.done <- err
			t.Fatalf("gateway exited: %v\n%s", err, g.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not listening on %s:\n%s", addr, g.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and waits for the process to exit.
func (g *gateway) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := g.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-g.done:
		g.done <- err
		if sig == syscall.SIGTERM && err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, g.log.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("gateway did not exit after %v", sig)
	}
}

// freeAddr returns a loopback address with a port that was free.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// freeHTTP makes the gateway of config file path serve HTTP on a port it
// picks instead of the default 127.0.0.1:8080 (which another program, or
// another test's gateway, may hold), unless the file has an http
// section.
func freeHTTP(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return // the test means a missing file
	}
	if bytes.HasPrefix(data, []byte("http:")) || bytes.Contains(data, []byte("\nhttp:")) {
		return
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, "http: {address: \"127.0.0.1:0\"}\n"...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeConfig(t *testing.T, dir, addr string) string {
	t.Helper()
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf("broker:\n  listeners:\n    - {type: tcp, address: %q}\nstorage: {dir: %q}\n", addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// connect opens a session; expiry is the v5 session expiry interval.
func connect(t *testing.T, addr string, version byte, id string, clean bool, expiry uint32) (*brokertest.RawClient, *packet.Connack) {
	t.Helper()
	c := brokertest.Dial(t, addr, version)
	p := &packet.Connect{ProtocolName: "MQTT", ProtocolVersion: version, CleanStart: clean, KeepAlive: 30, ClientID: id}
	if version == packet.Version5 {
		p.Properties.SessionExpiry = expiry
		p.Properties.Set(packet.PropSessionExpiry)
	}
	c.Write(p)
	ack, ok := read(t, c).(*packet.Connack)
	if !ok || ack.ReasonCode != 0 {
		t.Fatalf("%s: want successful CONNACK, got %#v", id, ack)
	}
	return c, ack
}

func read(t *testing.T, c *brokertest.RawClient) packet.Packet {
	t.Helper()
	p, err := c.Read(5 * time.Second)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return p
}

func subscribe(t *testing.T, c *brokertest.RawClient, filter string, qos byte) {
	t.Helper()
	c.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: filter, QoS: qos}}})
	if sa, ok := read(t, c).(*packet.Suback); !ok || len(sa.ReasonCodes) != 1 || sa.ReasonCodes[0] != packet.ReasonCode(qos) {
		t.Fatalf("SUBACK: %#v", sa)
	}
}

// disconnect ends the connection gracefully and waits until the broker
// closed it, so that the session's offline state is written.
func disconnect(t *testing.T, c *brokertest.RawClient) {
	t.Helper()
	c.Write(&packet.Disconnect{})
	c.ExpectClosed(5 * time.Second)
	time.Sleep(50 * time.Millisecond)
}

// publish sends a QoS 1 or 2 message and completes its exchange.
func publish(t *testing.T, c *brokertest.RawClient, pid uint16, topic, payload string, qos byte, retain bool) {
	t.Helper()
	c.Write(&packet.Publish{QoS: qos, Retain: retain, Topic: topic, PacketID: pid, Payload: []byte(payload)})
	if qos == 1 {
		if a, ok := read(t, c).(*packet.Ack); !ok || a.Kind != packet.PUBACK || a.PacketID != pid {
			t.Fatalf("want PUBACK %d, got %#v", pid, a)
		}
		return
	}
	if a, ok := read(t, c).(*packet.Ack); !ok || a.Kind != packet.PUBREC || a.PacketID != pid {
		t.Fatalf("want PUBREC %d, got %#v", pid, a)
	}
	c.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: pid})
	if a, ok := read(t, c).(*packet.Ack); !ok || a.Kind != packet.PUBCOMP || a.PacketID != pid {
		t.Fatalf("want PUBCOMP %d, got %#v", pid, a)
	}
}

// expectPublish reads a PUBLISH of topic and payload at qos, acknowledges
// it (for QoS 2 up to PUBREL, answered with PUBCOMP) and returns it.
func expectPublish(t *testing.T, c *brokertest.RawClient, topic, payload string, qos byte) *packet.Publish {
	t.Helper()
	p, ok := read(t, c).(*packet.Publish)
	if !ok || p.Topic != topic || string(p.Payload) != payload || p.QoS != qos {
		t.Fatalf("want PUBLISH %s %q QoS %d, got %#v", topic, payload, qos, p)
	}
	switch qos {
	case 1:
		c.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
	case 2:
		c.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
		if a, ok := read(t, c).(*packet.Ack); !ok || a.Kind != packet.PUBREL || a.PacketID != p.PacketID {
			t.Fatalf("want PUBREL %d, got %#v", p.PacketID, a)
		}
		c.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p.PacketID})
	}
	return p
}

// expectNothing checks that no packet arrives for a short while.
func expectNothing(t *testing.T, c *brokertest.RawClient) {
	t.Helper()
	if p, err := c.Read(200 * time.Millisecond); err == nil {
		t.Fatalf("unexpected %#v", p)
	}
}

func TestDurabilitySIGKILL(t *testing.T) { testDurability(t, syscall.SIGKILL) }
func TestDurabilitySIGTERM(t *testing.T) { testDurability(t, syscall.SIGTERM) }

// testDurability checks guarantee 6 with the real binary: persistent
// sessions, their subscriptions and queued QoS 1/2 messages, and retained
// messages survive the process being stopped with sig; a session past its
// expiry deadline does not.
func testDurability(t *testing.T, sig os.Signal) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, addr)
	g := startGateway(t, cfg, addr)

	c3, _ := connect(t, addr, packet.Version311, "p3", false, 0)
	subscribe(t, c3, "d/#", 1)
	disconnect(t, c3)
	c5, _ := connect(t, addr, packet.Version5, "p5", true, 300)
	subscribe(t, c5, "d/#", 2)
	disconnect(t, c5)
	cs, _ := connect(t, addr, packet.Version5, "short", true, 2)
	subscribe(t, cs, "d/#", 1)
	disconnect(t, cs)
	shortGone := time.Now().Add(2 * time.Second)

	pub, _ := connect(t, addr, packet.Version311, "pub", true, 0)
	publish(t, pub, 1, "d/1", "one", 1, false)
	publish(t, pub, 2, "d/2", "two", 2, false)
	publish(t, pub, 3, "r/1", "kept", 1, true)
	disconnect(t, pub)

	g.stop(t, sig)
	time.Sleep(time.Until(shortGone) + 100*time.Millisecond)
	g = startGateway(t, cfg, addr)

	c3, ack := connect(t, addr, packet.Version311, "p3", false, 0)
	if !ack.SessionPresent {
		t.Error("p3: session not present after restart")
	}
	expectPublish(t, c3, "d/1", "one", 1)
	expectPublish(t, c3, "d/2", "two", 1)
	c5, ack = connect(t, addr, packet.Version5, "p5", false, 300)
	if !ack.SessionPresent {
		t.Error("p5: session not present after restart")
	}
	expectPublish(t, c5, "d/1", "one", 1)
	expectPublish(t, c5, "d/2", "two", 2)
	if _, ack = connect(t, addr, packet.Version5, "short", false, 2); ack.SessionPresent {
		t.Error("short: session present after its expiry passed")
	}
	r, _ := connect(t, addr, packet.Version5, "reader", true, 0)
	subscribe(t, r, "r/#", 1)
	if p := expectPublish(t, r, "r/1", "kept", 1); !p.Retain {
		t.Error("retained message delivered without the retain flag")
	}
	// The subscriptions came back too: a new publish reaches p3.
	pub, _ = connect(t, addr, packet.Version311, "pub", true, 0)
	publish(t, pub, 4, "d/3", "three", 1, false)
	expectPublish(t, c3, "d/3", "three", 1)
	expectPublish(t, c5, "d/3", "three", 1)
	expectNothing(t, c3)
	disconnect(t, c3)
	disconnect(t, c5)

	// What was acknowledged is not delivered again.
	g.stop(t, sig)
	startGateway(t, cfg, addr)
	c3, ack = connect(t, addr, packet.Version311, "p3", false, 0)
	if !ack.SessionPresent {
		t.Error("p3: session not present after second restart")
	}
	expectNothing(t, c3)
}

// TestInflightResentWithDUP checks that a message sent but not
// acknowledged before a SIGKILL is sent again with DUP after the restart.
func TestInflightResentWithDUP(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, addr)
	g := startGateway(t, cfg, addr)
	c, _ := connect(t, addr, packet.Version5, "sub", true, 300)
	subscribe(t, c, "d/#", 1)
	pub, _ := connect(t, addr, packet.Version311, "pub", true, 0)
	publish(t, pub, 1, "d/1", "one", 1, false)
	p, ok := read(t, c).(*packet.Publish)
	if !ok || p.Dup {
		t.Fatalf("first delivery: %#v", p)
	}
	g.stop(t, syscall.SIGKILL)
	startGateway(t, cfg, addr)
	c, ack := connect(t, addr, packet.Version5, "sub", false, 300)
	if !ack.SessionPresent {
		t.Error("session not present after restart")
	}
	p2 := expectPublish(t, c, "d/1", "one", 1)
	if !p2.Dup || p2.PacketID != p.PacketID {
		t.Errorf("resend: DUP %v packet id %d, want DUP and %d", p2.Dup, p2.PacketID, p.PacketID)
	}
}

// TestStorageErrors checks that a foreign data directory is a clear error
// and that --reset-data moves it aside.
func TestStorageErrors(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, addr)
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o700)
	os.WriteFile(filepath.Join(data, "notes.txt"), []byte("mine"), 0o600)
	out, err := exec.Command(binPath, "run", "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatal("run succeeded on a foreign directory")
	}
	if !bytes.Contains(out, []byte(data)) || !bytes.Contains(out, []byte("--reset-data")) {
		t.Errorf("error does not name the directory and --reset-data:\n%s", out)
	}
	g := startGateway(t, cfg, addr, "--reset-data")
	g.stop(t, syscall.SIGTERM)
	moved, _ := filepath.Glob(data + ".broken-*")
	if len(moved) != 1 {
		t.Fatalf("moved aside: %v", moved)
	}
	if _, err := os.Stat(filepath.Join(moved[0], "notes.txt")); err != nil {
		t.Error(err)
	}
}

// TestReleasedResentAsPUBREL checks that a QoS 2 message whose PUBREC
// arrived before a SIGKILL continues with PUBREL after the restart.
func TestReleasedResentAsPUBREL(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, addr)
	g := startGateway(t, cfg, addr)
	c, _ := connect(t, addr, packet.Version5, "sub", true, 300)
	subscribe(t, c, "d/#", 2)
	pub, _ := connect(t, addr, packet.Version311, "pub", true, 0)
	publish(t, pub, 1, "d/1", "one", 2, false)
	p, ok := read(t, c).(*packet.Publish)
	if !ok || p.QoS != 2 {
		t.Fatalf("delivery: %#v", p)
	}
	c.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
	if a, ok := read(t, c).(*packet.Ack); !ok || a.Kind != packet.PUBREL {
		t.Fatalf("want PUBREL, got %#v", a)
	}
	g.stop(t, syscall.SIGKILL)
	startGateway(t, cfg, addr)
	c, _ = connect(t, addr, packet.Version5, "sub", false, 300)
	if a, ok := read(t, c).(*packet.Ack); !ok || a.Kind != packet.PUBREL || a.PacketID != p.PacketID {
		t.Fatalf("after restart: want PUBREL %d, got %#v", p.PacketID, a)
	}
	c.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p.PacketID})
	expectNothing(t, c)
}

// TestRestoredSessionKeepsIdentity: with roles in force, a persistent
// session restored after a restart still receives, while its client is
// offline, what its roles let it read: the identity the roles are checked
// against is stored with the session.
func TestRestoredSessionKeepsIdentity(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf("broker:\n  listeners:\n    - {type: tcp, address: %q}\n"+
		"  auth:\n    roles:\n      - {name: r, allow: [{subscribe: \"d/%%c/#\"}, {publish: \"#\"}]}\n"+
		"    anonymous_roles: [r]\nstorage: {dir: %q}\n", addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	c, _ := connect(t, addr, packet.Version311, "p3", false, 0)
	subscribe(t, c, "d/p3/#", 1)
	disconnect(t, c)
	g.stop(t, syscall.SIGTERM)

	startGateway(t, cfg, addr)
	pub, _ := connect(t, addr, packet.Version311, "pub", true, 0)
	publish(t, pub, 1, "d/p3/x", "while offline", 1, false)
	disconnect(t, pub)
	c, ack := connect(t, addr, packet.Version311, "p3", false, 0)
	if !ack.SessionPresent {
		t.Fatal("session not present after restart")
	}
	expectPublish(t, c, "d/p3/x", "while offline", 1)
}

// TestSubackMeansStored: a persistent session's subscriptions are on disk
// when SUBACK arrives; a SIGKILL right after the last one loses none.
func TestSubackMeansStored(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, addr)
	g := startGateway(t, cfg, addr)
	c, _ := connect(t, addr, packet.Version311, "p3", false, 0)
	const n = 20
	for i := range n {
		subscribe(t, c, fmt.Sprintf("d/%d", i), 1)
	}
	g.stop(t, syscall.SIGKILL)
	startGateway(t, cfg, addr)
	pub, _ := connect(t, addr, packet.Version311, "pub", true, 0)
	for i := range n {
		publish(t, pub, uint16(i+1), fmt.Sprintf("d/%d", i), "x", 1, false)
	}
	c, ack := connect(t, addr, packet.Version311, "p3", false, 0)
	if !ack.SessionPresent {
		t.Fatal("session not present after restart")
	}
	for i := range n {
		expectPublish(t, c, fmt.Sprintf("d/%d", i), "x", 1)
	}
}

// TestInboundQoS2SurvivesRestart: a QoS 2 publish that the broker routed
// and answered with PUBREC before a SIGKILL is not routed again when the
// publisher, resuming its session, sends it again with DUP; its PUBREL
// then completes normally.
func TestInboundQoS2SurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, addr)
	g := startGateway(t, cfg, addr)
	sub, _ := connect(t, addr, packet.Version5, "sub", true, 300)
	subscribe(t, sub, "d/#", 2)
	disconnect(t, sub)
	pub, _ := connect(t, addr, packet.Version5, "pub", true, 300)
	pub.Write(&packet.Publish{Topic: "d/1", Payload: []byte("once"), QoS: 2, PacketID: 5})
	if a, ok := read(t, pub).(*packet.Ack); !ok || a.Kind != packet.PUBREC || a.ReasonCode.IsError() {
		t.Fatalf("want PUBREC, got %#v", a)
	}
	g.stop(t, syscall.SIGKILL)
	startGateway(t, cfg, addr)
	pub, ack := connect(t, addr, packet.Version5, "pub", false, 300)
	if !ack.SessionPresent {
		t.Fatal("publisher session not present")
	}
	// It did not see the PUBREC (as far as the broker knows): it resends.
	pub.Write(&packet.Publish{Topic: "d/1", Payload: []byte("once"), QoS: 2, PacketID: 5, Dup: true})
	if a, ok := read(t, pub).(*packet.Ack); !ok || a.Kind != packet.PUBREC || a.PacketID != 5 {
		t.Fatalf("resent: want PUBREC 5, got %#v", a)
	}
	pub.Write(&packet.Ack{Kind: packet.PUBREL, PacketID: 5})
	if a, ok := read(t, pub).(*packet.Ack); !ok || a.Kind != packet.PUBCOMP || a.ReasonCode != packet.Success {
		t.Fatalf("want PUBCOMP success, got %#v", a)
	}
	sub, _ = connect(t, addr, packet.Version5, "sub", false, 300)
	p := expectPublish(t, sub, "d/1", "once", 2)
	sub.Write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
	if a, ok := read(t, sub).(*packet.Ack); !ok || a.Kind != packet.PUBREL {
		t.Fatalf("want PUBREL, got %#v", a)
	}
	sub.Write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p.PacketID})
	expectNothing(t, sub) // one copy, not two
}
