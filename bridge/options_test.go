package bridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// uplinkReader subscribes to filter on the uplink with our own codec, so
// that a test sees flags and MQTT 5 properties as they arrive.
func uplinkReader(t *testing.T, addr, filter string) *brokertest.RawClient {
	t.Helper()
	c := brokertest.Dial(t, addr, packet.Version5)
	c.Connect("reader-" + strconv.FormatInt(time.Now().UnixNano(), 36))
	c.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: filter, QoS: 1}}})
	if p, err := c.Read(5 * time.Second); err != nil {
		t.Fatalf("SUBACK: %v", err)
	} else if _, ok := p.(*packet.Suback); !ok {
		t.Fatalf("got %v, want SUBACK", p)
	}
	return c
}

// readPublish returns the next PUBLISH, acknowledging QoS 1.
func readPublish(t *testing.T, c *brokertest.RawClient) *packet.Publish {
	t.Helper()
	for {
		p, err := c.Read(10 * time.Second)
		if err != nil {
			t.Fatalf("read PUBLISH: %v", err)
		}
		if pub, ok := p.(*packet.Publish); ok {
			if pub.QoS == 1 {
				c.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: pub.PacketID})
			}
			return pub
		}
	}
}

// TestSequenceProperty: over an MQTT 5 uplink every forwarded message
// carries edgemq-seq, increasing by one.
func TestSequenceProperty(t *testing.T) {
	m := startMosquitto(t)
	r := uplinkReader(t, m.addr, "site-7/#")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, m.addr)
	cfg.Protocol, cfg.SequenceProperty = packet.Version5, true
	newBridge(t, srv, db, cfg)
	publishStream(t, srv, 1, 20, nil)
	var last uint64
	for i := range 20 {
		p := readPublish(t, r)
		var seq string
		for _, u := range p.Properties.User {
			if u.Key == SequenceKey {
				seq = u.Value
			}
		}
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil {
			t.Fatalf("message %d (%s %q): %s = %q", i, p.Topic, p.Payload, SequenceKey, seq)
		}
		if i > 0 && n != last+1 {
			t.Errorf("message %d: sequence %d after %d", i, n, last)
		}
		last = n
	}
}

// TestRetainOverride: an out rule with retain true makes the uplink keep
// the last message; without it the publisher's flag goes through.
func TestRetainOverride(t *testing.T) {
	m := startMosquitto(t)
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, m.addr)
	yes := true
	cfg.Out = []Rule{
		{Local: "sensors/#", Remote: "site-7/sensors/#", QoS: 1, Retain: &yes},
		{Local: "plain/#", Remote: "site-7/plain/#", QoS: 1},
	}
	b := newBridge(t, srv, db, cfg)
	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, pm := range []struct {
		topic  string
		retain bool
	}{{"sensors/a", false}, {"plain/kept", true}, {"plain/live", false}} {
		if err := c.Publish(ctx, pm.topic, []byte("v"), 1, pm.retain); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.Eventually(t, 10*time.Second, func() bool { return b.Stats().Forwarded >= 3 }, "forwarded")
	// A subscriber that comes later sees what the uplink retained.
	r := uplinkReader(t, m.addr, "site-7/#")
	got := map[string]bool{}
	for range 2 {
		p := readPublish(t, r)
		got[p.Topic] = p.Retain
	}
	if !got["site-7/sensors/a"] || !got["site-7/plain/kept"] || len(got) != 2 {
		t.Errorf("retained at the uplink: %v, want site-7/sensors/a (forced) and site-7/plain/kept (as published)", got)
	}
}

// TestPace: a backlog replays no faster than the configured ceiling.
func TestPace(t *testing.T) {
	m := startMosquitto(t)
	sub := startSubscriber(t, m.addr, "site-7/#")
	waitSubscribed(t, sub, m.addr, "site-7/probe")
	m.stop()
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, m.addr)
	cfg.MaxRate = 200
	b := newBridge(t, srv, db, cfg)
	const n = 300
	publishStream(t, srv, 1, n, nil) // queued: the uplink is down
	if q := b.Stats().Queue.Records; q != n {
		t.Fatalf("queued %d, want %d", q, n)
	}
	m.start()
	brokertest.Eventually(t, 10*time.Second, func() bool { return b.Stats().Connected }, "connected")
	start := time.Now()
	checkStream(t, sub, 1, n)
	el := time.Since(start)
	// A burst of a tenth of a second's worth (20), then 200/s: 1.4 s for
	// 300; another 20 of slack for what left before start was taken.
	if min := time.Duration(float64(n-40) / 200 * float64(time.Second)); el < min {
		t.Errorf("%d messages replayed in %v, faster than 200/s allows (%v)", n, el, min)
	}
	t.Logf("%d messages replayed in %v at a 200/s ceiling", n, el)
}

// TestALPN: the bridge offers the configured ALPN protocols (AWS IoT Core
// on port 443 needs "x-amzn-mqtt-ca"); a TLS front in the test checks the
// negotiated one and relays to Mosquitto.
func TestALPN(t *testing.T) {
	m := startMosquitto(t)
	certs := t.TempDir()
	ca, caKey := brokertest.WriteCert(t, certs, "ca", nil, nil, false)
	brokertest.WriteCert(t, certs, "server", ca, caKey, true, net.IPv4(127, 0, 0, 1))
	sc, err := tls.LoadX509KeyPair(filepath.Join(certs, "server.pem"), filepath.Join(certs, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{sc}, NextProtos: []string{"x-amzn-mqtt-ca"}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu         sync.Mutex
		negotiated []string
		wg         sync.WaitGroup
	)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc := c.(*tls.Conn)
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc.Handshake(); err != nil {
				c.Close()
				continue
			}
			tc.SetDeadline(time.Time{})
			mu.Lock()
			negotiated = append(negotiated, tc.ConnectionState().NegotiatedProtocol)
			mu.Unlock()
			up, err := net.Dial("tcp", m.addr)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()

	sub := startSubscriber(t, m.addr, "site-7/#")
	waitSubscribed(t, sub, m.addr, "site-7/probe")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, "")
	cfg.Address = "tls://" + ln.Addr().String()
	cfg.TLS = &tls.Config{RootCAs: pool, NextProtos: []string{"x-amzn-mqtt-ca"}}
	b := newBridge(t, srv, db, cfg)
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected through the ALPN front")
	publishStream(t, srv, 1, 10, nil)
	checkStream(t, sub, 1, 10)
	mu.Lock()
	defer mu.Unlock()
	if len(negotiated) == 0 || negotiated[0] != "x-amzn-mqtt-ca" {
		t.Errorf("negotiated ALPN protocols %q, want x-amzn-mqtt-ca", negotiated)
	}
}

// TestReconfigure: a running bridge changes its out rule's remote prefix
// and its uplink client id while a publisher keeps publishing QoS 1 on
// the rule's filter: every message arrives, under the old prefix or the
// new one, in order; a removed rule stops forwarding; a queue change is
// refused with ErrNeedsRestart.
func TestReconfigure(t *testing.T) {
	m := startMosquitto(t)
	r := uplinkReader(t, m.addr, "#")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, m.addr)
	cfg.Out = []Rule{{Local: "sensors/#", Remote: "site-7/sensors/#", QoS: 1}, {Local: "old/#", Remote: "old/#", QoS: 1}}
	b := newBridge(t, srv, db, cfg)
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected")
	pub, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx := context.Background()
	const n = 400
	for i := range n {
		if i == n/2 {
			next := cfg
			next.ClientID = "edgemq-renamed"
			next.Out = []Rule{{Local: "sensors/#", Remote: "site-8/sensors/#", QoS: 1}}
			if err := b.Reconfigure(next); err != nil {
				t.Fatal(err)
			}
			bad := next
			bad.Queue.MaxBytes *= 2
			if err := b.Reconfigure(bad); !errors.Is(err, ErrNeedsRestart) {
				t.Errorf("queue change: %v, want ErrNeedsRestart", err)
			}
			if err := pub.Publish(ctx, "old/x", []byte("gone"), 1, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.Publish(ctx, "sensors/t", []byte(strconv.Itoa(i)), 1, false); err != nil {
			t.Fatal(err)
		}
	}
	next, site8 := 0, 0
	for next < n {
		p := readPublish(t, r)
		switch p.Topic {
		case "site-7/sensors/t", "site-8/sensors/t":
		case "old/x":
			t.Fatalf("a removed rule forwarded %q", p.Payload)
		default:
			continue // status, probes
		}
		k, _ := strconv.Atoi(string(p.Payload))
		switch {
		case k == next:
			next++
		case k > next:
			t.Fatalf("message %d arrived when %d was next", k, next)
		}
		if p.Topic == "site-8/sensors/t" {
			site8++
			if k < n/2 {
				t.Errorf("message %d, published before the change, went to the new prefix", k)
			}
		}
	}
	if site8 == 0 {
		t.Error("no message under the new prefix")
	}
}
