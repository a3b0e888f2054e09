package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// The store-and-forward proof: real gateway binary, real uplink brokers
// (Mosquitto, and nats-server with JetStream and its MQTT listener),
// publishers that resend what was not acknowledged, and a subscriber on
// the uplink that checks every message arrives, in order per publisher.

// uplinkProc is an uplink broker process that the test stops and starts.
type uplinkProc struct {
	t    *testing.T
	kind string // "mosquitto" or "nats"
	bin  string
	conf string
	addr string // its MQTT listener
	cmd  *exec.Cmd
	done chan struct{}
}

func startUplink(t *testing.T, kind string) *uplinkProc {
	t.Helper()
	dir := t.TempDir()
	u := &uplinkProc{t: t, kind: kind, addr: freeAddr(t), conf: filepath.Join(dir, "uplink.conf")}
	_, port, _ := net.SplitHostPort(u.addr)
	var conf string
	switch kind {
	case "mosquitto":
		u.bin = "/usr/sbin/mosquitto"
		if p, err := exec.LookPath("mosquitto"); err == nil {
			u.bin = p
		} else if _, err := os.Stat(u.bin); err != nil {
			u.bin = brokertest.RequireTool(t, "mosquitto")
		}
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		conf = fmt.Sprintf("user %s\nlistener %s 127.0.0.1\nallow_anonymous true\npersistence true\n"+
			"persistence_location %s/\nmax_queued_messages 0\nmax_inflight_messages 0\nset_tcp_nodelay true\n", me.Username, port, dir)
	case "nats":
		u.bin = "/usr/sbin/nats-server"
		if p, err := exec.LookPath("nats-server"); err == nil {
			u.bin = p
		} else if _, err := os.Stat(u.bin); err != nil {
			u.bin = brokertest.RequireTool(t, "nats-server")
		}
		_, natsPort, _ := net.SplitHostPort(freeAddr(t))
		conf = fmt.Sprintf("listen: \"127.0.0.1:%s\"\nserver_name: uplink\njetstream {\n  store_dir: %q\n}\n"+
			"mqtt {\n  listen: \"127.0.0.1:%s\"\n}\n", natsPort, filepath.Join(dir, "js"), port)
	}
	if err := os.WriteFile(u.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	u.start()
	t.Cleanup(u.stop)
	return u
}

func (u *uplinkProc) start() {
	u.t.Helper()
	u.cmd = exec.Command(u.bin, "-c", u.conf)
	if os.Getenv("EDGEMQ_TEST_LOG") != "" {
		u.cmd.Stderr = os.Stderr
	}
	if err := u.cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	u.done = make(chan struct{})
	cmd, done := u.cmd, u.done
	go func() { cmd.Wait(); close(done) }()
	brokertest.WaitReady(u.t, u.addr)
}

// stop ends the process with SIGTERM (both brokers keep their sessions
// on disk) and waits for it.
func (u *uplinkProc) stop() {
	if u.cmd == nil {
		return
	}
	u.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-u.done:
	case <-time.After(10 * time.Second):
		u.cmd.Process.Kill()
		<-u.done
	}
	u.cmd = nil
}

// uplinkSubscriber collects "topic|payload" lines from a persistent
// QoS 1 session on the uplink, across its restarts.
type uplinkSubscriber struct {
	mu    sync.Mutex
	lines []string
}

func (s *uplinkSubscriber) add(line string) {
	s.mu.Lock()
	s.lines = append(s.lines, line)
	s.mu.Unlock()
}

func startUplinkSubscriber(t *testing.T, addr, id, filter string) *uplinkSubscriber {
	t.Helper()
	bin := brokertest.RequireTool(t, "mosquitto_sub")
	host, port, _ := net.SplitHostPort(addr)
	s := &uplinkSubscriber{}
	cmd := exec.Command(bin, "-h", host, "-p", port, "-V", "311", "-q", "1", "-c", "-i", id, "-k", "5", "-t", filter, "-F", "%t|%p")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.add(sc.Text())
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		<-done
	})
	return s
}

func (s *uplinkSubscriber) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// waitFor waits until a line with prefix arrives, publishing probe to the
// uplink meanwhile (the subscription may not be in place yet).
func (s *uplinkSubscriber) waitFor(t *testing.T, addr, topicName string) {
	t.Helper()
	pub := brokertest.RequireTool(t, "mosquitto_pub")
	host, port, _ := net.SplitHostPort(addr)
	brokertest.Eventually(t, 15*time.Second, func() bool {
		exec.Command(pub, "-h", host, "-p", port, "-V", "311", "-q", "1", "-t", topicName, "-m", "probe").Run()
		for _, l := range s.got() {
			if strings.HasPrefix(l, topicName+"|") {
				return true
			}
		}
		return false
	}, "uplink subscriber ready")
}

// streamStats is what a publisher saw.
type streamStats struct {
	sent, resent, reconnects int
}

// publishResilient publishes n QoS 1 messages "p<i>-<k>" on sensors/p<i>
// at about rate per second, with up to 32 in flight. A message counts as
// delivered to the gateway only once acknowledged; after a lost
// connection (the gateway killed) it reconnects and resends, in order,
// everything not acknowledged. It gives up at ctx's end.
func publishResilient(ctx context.Context, addr string, i, n int, rate float64) (streamStats, error) {
	var st streamStats
	const window = 32
	next := 0  // next message never sent
	acked := 0 // messages 0..acked-1 are acknowledged
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for acked < n {
		if ctx.Err() != nil {
			return st, fmt.Errorf("publisher %d: %d of %d acknowledged: %w", i, acked, n, ctx.Err())
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		err = func() error {
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
			defer stop()
			br := bufio.NewReader(conn)
			write := func(p packet.Packet) error {
				b, err := packet.Append(nil, p, packet.Version311)
				if err != nil {
					return err
				}
				conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Write(b)
				return err
			}
			if err := write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true,
				KeepAlive: 30, ClientID: fmt.Sprintf("proof-pub-%d", i)}); err != nil {
				return err
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if p, err := packet.Read(br, 0, packet.Version311); err != nil {
				return err
			} else if ca, ok := p.(*packet.Connack); !ok || ca.ReasonCode != 0 {
				return fmt.Errorf("CONNACK %v", p)
			}
			// Resend what was not acknowledged, in order.
			for k := acked; k < next; k++ {
				st.resent++
				if err := write(publishOf(i, k)); err != nil {
					return err
				}
			}
			acks := make(chan int, window)
			rerr := make(chan error, 1)
			quit := make(chan struct{})
			defer close(quit)
			go func() {
				for {
					conn.SetReadDeadline(time.Now().Add(10 * time.Second))
					p, err := packet.Read(br, 0, packet.Version311)
					if err != nil {
						rerr <- err
						return
					}
					if a, ok := p.(*packet.Ack); ok && a.Kind == packet.PUBACK {
						select {
						case acks <- int(a.PacketID):
						case <-quit:
							return
						}
					}
				}
			}()
			for acked < n {
				// Acknowledgements come in order (MQTT 4.6).
				for drained := false; !drained; {
					select {
					case <-acks:
						acked++
					default:
						drained = true
					}
				}
				if next < n && next-acked < window {
					if d := time.Until(start.Add(time.Duration(next) * interval)); d > 0 {
						time.Sleep(min(d, 5*time.Millisecond))
						continue
					}
					if err := write(publishOf(i, next)); err != nil {
						return err
					}
					next++
					st.sent++
					continue
				}
				select {
				case <-acks:
					acked++
				case err := <-rerr:
					return err
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			write(&packet.Disconnect{})
			return nil
		}()
		if err != nil && acked < n {
			st.reconnects++
		}
	}
	return st, nil
}

func publishOf(i, k int) *packet.Publish {
	return &packet.Publish{QoS: 1, PacketID: uint16(k%60000) + 1, Topic: "sensors/p" + strconv.Itoa(i), Payload: fmt.Appendf(nil, "p%d-%d", i, k)}
}

// checkArrivals waits until every message of pubs publishers x n is at
// the subscriber and checks the order per publisher; it returns the
// number of duplicates.
func checkArrivals(t *testing.T, s *uplinkSubscriber, prefix string, pubs, n int, wait time.Duration, explain func(missing []string) string) int {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		seen := make(map[string]bool)
		for _, l := range s.got() {
			if strings.HasPrefix(l, prefix) {
				seen[l] = true
			}
		}
		if len(seen) >= pubs*n {
			break
		}
		if time.Now().After(deadline) {
			var lost []string
			for i := range pubs {
				for k := range n {
					if l := fmt.Sprintf("%s%d|p%d-%d", prefix, i, i, k); !seen[l] {
						lost = append(lost, l)
					}
				}
			}
			why := ""
			if explain != nil {
				why = explain(lost)
			}
			t.Fatalf("%d of %d distinct messages at the uplink after %v; missing: %s; %s", len(seen), pubs*n, wait, missing(seen, prefix, pubs, n), why)
		}
		time.Sleep(50 * time.Millisecond)
	}
	next := make([]int, pubs)
	dups := 0
	for _, l := range s.got() {
		tp, p, _ := strings.Cut(l, "|")
		if !strings.HasPrefix(tp, prefix) {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(tp, prefix))
		var pi, k int
		if _, err2 := fmt.Sscanf(p, "p%d-%d", &pi, &k); err != nil || err2 != nil || pi != i || i >= pubs {
			t.Fatalf("bad line %q", l)
		}
		switch {
		case k == next[i]:
			next[i]++
		case k < next[i]:
			dups++
		default:
			t.Fatalf("publisher %d: message %d arrived when %d was next: a gap or a reordering", i, k, next[i])
		}
	}
	for i, v := range next {
		if v != n {
			t.Fatalf("publisher %d: %d of %d in order", i, v, n)
		}
	}
	return dups
}

// proofConfig writes a gateway config bridging sensors/# to the uplink.
func proofConfig(t *testing.T, dir, addr, uplink, reconnect string) string {
	t.Helper()
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: proof}
broker:
  listeners:
    - {type: tcp, address: %q}
  sys_interval: 1s
storage: {dir: %q}
log: {level: warn}
bridges:
  - name: cloud
    address: tcp://%s
    out:
      - {local: "sensors/#", remote: "site-7/sensors/#", qos: 1}
    reconnect: %s
    ack_timeout: 5s
`, addr, filepath.Join(dir, "data"), uplink, reconnect)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runOutageProof streams pubs x n messages through the gateway to the
// uplink while disrupt runs, then checks the uplink got all of them.
func runOutageProof(t *testing.T, kind string, pubs, n int, rate float64, disrupt func(up *uplinkProc, link *linkProxy, restartGateway func(), stop <-chan struct{})) {
	up := startUplink(t, kind)
	sub := startUplinkSubscriber(t, up.addr, "proof-sub", "site-7/#")
	sub.waitFor(t, up.addr, "site-7/probe")
	link := startLinkProxy(t, up.addr)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := proofConfig(t, dir, addr, link.addr, "{min: 20ms, max: 200ms}")
	var gmu sync.Mutex
	g := startGateway(t, cfg, addr)
	kills := 0
	restartGateway := func() {
		gmu.Lock()
		defer gmu.Unlock()
		g.stop(t, syscall.SIGKILL)
		kills++
		g = startGateway(t, cfg, addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	stats := make([]streamStats, pubs)
	errs := make([]error, pubs)
	for i := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i], errs[i] = publishResilient(ctx, addr, i, n, rate/float64(pubs))
		}()
	}
	stop := make(chan struct{})
	go func() { wg.Wait(); close(stop) }()
	disrupt(up, link, restartGateway, stop) // in the test's goroutine: it may fail the test
	<-stop
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	published := time.Since(start)
	if up.cmd == nil {
		up.start()
	}
	dups := checkArrivals(t, sub, "site-7/sensors/p", pubs, n, 2*time.Minute, func(lost []string) string {
		link.mu.Lock()
		defer link.mu.Unlock()
		sent := 0
		for _, l := range lost {
			if link.sent[l] {
				sent++
			}
		}
		return fmt.Sprintf("the gateway sent %d of the %d missing messages to the uplink", sent, len(lost))
	})
	var resent, reconnects int
	for _, s := range stats {
		resent += s.resent
		reconnects += s.reconnects
	}
	t.Logf("%s: %d messages from %d publishers in %v, then all at the uplink after %v; "+
		"%d duplicates at the subscriber; publishers reconnected %d times and resent %d; gateway killed %d times",
		kind, pubs*n, pubs, published.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), dups, reconnects, resent, kills)
}

// TestProofUplinkOutages: 100,000 QoS 1 messages at a steady rate while
// the Mosquitto uplink is stopped and started 20 times and the gateway
// is killed with SIGKILL 10 times; the uplink gets every one, in order
// per publisher.
func TestProofUplinkOutages(t *testing.T) {
	skipShort(t)
	restarts, kills := 0, 0
	runOutageProof(t, "mosquitto", 4, 25_000, 4000, func(up *uplinkProc, _ *linkProxy, restartGateway func(), stop <-chan struct{}) {
		// 30 disruptions over the ~25 s stream: every third a SIGKILL of
		// the gateway, the others an uplink restart.
		for k := 0; k < 30; k++ {
			select {
			case <-stop:
				return
			case <-time.After(400 * time.Millisecond):
			}
			if k%3 == 2 {
				restartGateway()
				kills++
				continue
			}
			up.stop()
			time.Sleep(150 * time.Millisecond)
			up.start()
			restarts++
		}
	})
	if restarts < 20 || kills < 10 {
		t.Errorf("the stream ended after %d uplink restarts and %d gateway kills, want 20 and 10", restarts, kills)
	}
}

// TestProofNATSUplink: the same stream through nats-server with
// JetStream and its MQTT listener (MQTT 3.1.1, QoS 0/1) while the link to
// it is cut 20 times: every connection dropped, new ones refused for a
// moment, as a cellular uplink does.
//
// The outages are in the link, not nats-server restarts: nats-server
// 2.9 (Debian's) acknowledges QoS 1 publishes before JetStream has them,
// and a SIGTERM then loses the last ~10 per publisher, with any MQTT
// publisher (checked with this file's publisher and no edgemq in the
// path).
func TestProofNATSUplink(t *testing.T) {
	skipShort(t)
	cuts := 0
	runOutageProof(t, "nats", 4, 25_000, 4000, func(_ *uplinkProc, link *linkProxy, _ func(), stop <-chan struct{}) {
		for range 20 {
			select {
			case <-stop:
				return
			case <-time.After(600 * time.Millisecond):
			}
			link.cut(300 * time.Millisecond)
			cuts++
		}
	})
	if cuts < 20 {
		t.Errorf("the stream ended after %d link cuts, want 20", cuts)
	}
}

// linkProxy relays TCP connections to an uplink; cut drops them all and
// refuses new ones for a while.
type linkProxy struct {
	t    *testing.T
	to   string
	addr string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	sent  map[string]bool // "topic|payload" of every PUBLISH the gateway sent
	wg    sync.WaitGroup
}

func startLinkProxy(t *testing.T, to string) *linkProxy {
	t.Helper()
	p := &linkProxy{t: t, to: to, addr: freeAddr(t), conns: make(map[net.Conn]bool), sent: make(map[string]bool)}
	p.listen()
	t.Cleanup(func() {
		p.drop()
		p.wg.Wait()
	})
	return p
}

func (p *linkProxy) listen() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 100 { // the port may linger for a moment after a cut
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.DialTimeout("tcp", p.to, time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			p.wg.Add(3)
			relay := func(dst io.Writer, src, other net.Conn) {
				defer p.wg.Done()
				io.Copy(dst, src)
				other.Close()
				src.Close()
			}
			// What the gateway sends is also decoded and recorded.
			pr, pw := io.Pipe()
			go func() {
				defer p.wg.Done()
				defer pr.Close()
				br := bufio.NewReader(pr)
				for {
					pk, err := packet.Read(br, 0, packet.Version311)
					if err != nil {
						io.Copy(io.Discard, pr)
						return
					}
					if pub, ok := pk.(*packet.Publish); ok {
						p.mu.Lock()
						p.sent[pub.Topic+"|"+string(pub.Payload)] = true
						p.mu.Unlock()
					}
				}
			}()
			go func() { relay(io.MultiWriter(up, pw), c, up); pw.Close() }()
			go relay(c, up, c)
		}
	}()
}

// drop closes the listener and every relayed connection.
func (p *linkProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// cut drops the link for d.
func (p *linkProxy) cut(d time.Duration) {
	p.drop()
	time.Sleep(d)
	p.listen()
}

// skipShort skips the long proofs in -short runs (the 32-bit pass of make
// test runs the package again with -short).
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("long proof; runs without -short")
	}
}

// missing describes the messages not in seen as ranges per publisher.
func missing(seen map[string]bool, prefix string, pubs, n int) string {
	var b strings.Builder
	for i := range pubs {
		from := -1
		for k := 0; k <= n; k++ {
			has := k < n && seen[fmt.Sprintf("%s%d|p%d-%d", prefix, i, i, k)]
			switch {
			case !has && k < n && from < 0:
				from = k
			case (has || k == n) && from >= 0:
				fmt.Fprintf(&b, " p%d:%d-%d", i, from, k-1)
				from = -1
			}
		}
	}
	return b.String()
}

// sysWatcher follows the gateway's $SYS topics.
type sysWatcher struct {
	mu     sync.Mutex
	values map[string]string
}

func watchSys(t *testing.T, addr, filter string) *sysWatcher {
	t.Helper()
	c := brokertest.Dial(t, addr, packet.Version311)
	// No keep alive: it only reads, for longer than 1.5 x any keep alive.
	c.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 0, ClientID: "sys-watch"})
	if _, err := c.Read(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	c.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: filter}}})
	w := &sysWatcher{values: make(map[string]string)}
	c.Conn.SetReadDeadline(time.Time{}) // Read set one; $SYS comes every second
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, err := packet.Read(c.Conn, 0, packet.Version311)
			if err != nil {
				return
			}
			if pub, ok := p.(*packet.Publish); ok {
				w.mu.Lock()
				w.values[pub.Topic] = string(pub.Payload)
				w.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { c.Conn.Close(); <-done })
	return w
}

func (w *sysWatcher) all() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.values)
}

func (w *sysWatcher) int(topic string) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := strconv.ParseInt(w.values[topic], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// rssSampler records the largest VmRSS of a process.
type rssSampler struct {
	mu         sync.Mutex
	max        int64 // bytes
	anon, file int64 // at the peak
}

func sampleRSS(t *testing.T, pid func() int) *rssSampler {
	s := &rssSampler{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid()))
			if err != nil {
				continue
			}
			field := func(name string) int64 {
				for _, l := range strings.Split(string(b), "\n") {
					if kb, ok := strings.CutPrefix(l, name+":"); ok {
						n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
						return n << 10
					}
				}
				return 0
			}
			s.mu.Lock()
			if rss := field("VmRSS"); rss > s.max {
				s.max, s.anon, s.file = rss, field("RssAnon"), field("RssFile")
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func (s *rssSampler) peak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

// TestProofLongOutage: with the uplink down, 1,000,000 QoS 1 messages
// are queued; the gateway's RSS stays under 64 MB; when the uplink
// returns the backlog drains, no faster than the configured pace.
func TestProofLongOutage(t *testing.T) {
	skipShort(t)
	const total, pace = 1_000_000, 50_000
	up := startUplink(t, "mosquitto")
	up.stop()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: proof}
broker:
  listeners:
    - {type: tcp, address: %q}
  sys_interval: 1s
storage: {dir: %q}
log: {level: warn}
memory_limit: 24MiB
bridges:
  - name: cloud
    address: tcp://%s
    out:
      - {local: "sensors/#", remote: "site-7/sensors/#", qos: 1}
    reconnect: {min: 100ms, max: 200ms}
    pace: {messages_per_second: %d}
`, addr, filepath.Join(dir, "data"), up.addr, pace)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	rss := sampleRSS(t, func() int { return g.cmd.Process.Pid })
	sys := watchSys(t, addr, "$SYS/broker/bridge/cloud/#")

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const pubs = 8
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, pubs)
	for i := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = publishResilient(ctx, addr, i, total/pubs, 1e9)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	filled := time.Since(start)
	for deadline := time.Now().Add(10 * time.Second); sys.int("$SYS/broker/bridge/cloud/queue/messages") != total; {
		if time.Now().After(deadline) {
			t.Fatalf("the queue does not hold every message: %v", sys.all())
		}
		time.Sleep(50 * time.Millisecond)
	}
	fillRSS := rss.peak()

	up.start()
	drainStart := time.Now()
	brokertest.Eventually(t, 3*time.Minute, func() bool {
		return sys.int("$SYS/broker/bridge/cloud/queue/messages") == 0
	}, "backlog drained")
	drain := time.Since(drainStart)
	rate := float64(total) / drain.Seconds()
	rss.mu.Lock()
	anon, file := rss.anon, rss.file
	rss.mu.Unlock()
	t.Logf("queued %d messages in %v (%.0f msg/s); drained in %v (%.0f msg/s, pace %d/s); peak RSS %.1f MiB while queueing, %.1f MiB overall (%.1f MiB anonymous, %.1f MiB file-backed)",
		total, filled.Round(time.Millisecond), float64(total)/filled.Seconds(), drain.Round(time.Millisecond), rate, pace,
		float64(fillRSS)/(1<<20), float64(rss.peak())/(1<<20), float64(anon)/(1<<20), float64(file)/(1<<20))
	// Never faster than the pace; as fast only if the machine keeps up
	// (logged above: about 50,000/s on a quiet 2-core machine).
	if rate > pace*1.05 {
		t.Errorf("drained at %.0f msg/s, above the %d/s pace", rate, pace)
	}
	if peak := rss.peak(); peak >= 64_000_000 {
		t.Errorf("peak RSS %.1f MB, want under 64 MB", float64(peak)/1e6)
	}
	if fwd := sys.int("$SYS/broker/bridge/cloud/forwarded"); fwd < total {
		t.Errorf("forwarded %d, want %d", fwd, total)
	}
}
