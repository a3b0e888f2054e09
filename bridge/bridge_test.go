package bridge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

func TestMapTopic(t *testing.T) {
	for _, c := range []struct {
		filter, target, topic, want string
		ok                          bool
	}{
		{"sensors/#", "site-7/sensors/#", "sensors/a/t", "site-7/sensors/a/t", true},
		{"sensors/#", "site-7/sensors/#", "sensors", "site-7/sensors", true},
		{"sensors/#", "site-7/sensors/#", "other/a", "", false},
		{"sensors/#", "#", "sensors/a", "a", true},
		{"#", "up/#", "x/y", "up/x/y", true},
		{"a/b", "c/d", "a/b", "c/d", true},
		{"a/b", "c/d", "a/b/c", "", false},
	} {
		got, ok := mapTopic(c.filter, c.target, c.topic)
		if got != c.want || ok != c.ok {
			t.Errorf("mapTopic(%q, %q, %q) = %q, %v; want %q, %v", c.filter, c.target, c.topic, got, ok, c.want, c.ok)
		}
	}
	for _, bad := range [][2]string{{"a/+/b", "c/#"}, {"a/#", "c"}, {"a#", "b#"}, {"", "x"}} {
		if err := CheckRule(bad[0], bad[1], 1); err == nil {
			t.Errorf("CheckRule(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	b := encodeRecord("site/x", []byte("payload"), 2, true)
	tp, p, q, r, err := decodeRecord(b)
	if err != nil || tp != "site/x" || string(p) != "payload" || q != 2 || !r {
		t.Fatalf("decode = %q %q %d %v %v", tp, p, q, r, err)
	}
	if _, _, _, _, err := decodeRecord(b[:3]); !errors.Is(err, errBadRecord) {
		t.Fatalf("short record: %v", err)
	}
}

// mosquittoPath finds the mosquitto broker (often in /usr/sbin, outside PATH).
func mosquittoPath(t *testing.T) string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return brokertest.RequireTool(t, "mosquitto")
}

// mosquitto is an uplink broker on a fixed 127.0.0.1 port, with
// persistence so that a subscriber's session survives a restart.
type mosquitto struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func startMosquitto(t *testing.T) *mosquitto {
	m := &mosquitto{t: t, bin: mosquittoPath(t), dir: t.TempDir(), addr: freePort(t)}
	_, port, _ := net.SplitHostPort(m.addr)
	// "user": as root, mosquitto would switch to the mosquitto user and
	// fail to write its persistence file in our directory.
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("user %s\nlistener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nmax_queued_messages 0\nmax_inflight_messages 0\nset_tcp_nodelay true\n", u.Username, port, m.dir)
	if err := os.WriteFile(filepath.Join(m.dir, "m.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *mosquitto) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", filepath.Join(m.dir, "m.conf"))
	if os.Getenv("EDGEMQ_TEST_LOG") != "" {
		m.cmd.Stderr = os.Stderr
	}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	brokertest.WaitReady(m.t, m.addr)
}

// stop ends the process with SIGTERM (mosquitto saves its persistent
// sessions) and waits for it.
func (m *mosquitto) stop() {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
	m.cmd = nil
}

// subscriber is mosquitto_sub with a persistent session at QoS 1; it
// reconnects by itself across uplink restarts.
type subscriber struct {
	mu    sync.Mutex
	lines []string
	cmd   *exec.Cmd
	done  chan struct{}
}

func startSubscriber(t *testing.T, addr, filter string) *subscriber {
	bin := brokertest.RequireTool(t, "mosquitto_sub")
	host, port, _ := net.SplitHostPort(addr)
	s := &subscriber{done: make(chan struct{})}
	s.cmd = exec.Command(bin, "-h", host, "-p", port, "-V", "311", "-q", "1", "-c", "-i", "test-sub", "-t", filter, "-F", "%t|%p")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		<-s.done
	})
	return s
}

func (s *subscriber) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// waitSubscribed waits until the uplink delivers a probe to s.
func waitSubscribed(t *testing.T, s *subscriber, addr, topicName string) {
	host, port, _ := net.SplitHostPort(addr)
	pub := brokertest.RequireTool(t, "mosquitto_pub")
	brokertest.Eventually(t, 10*time.Second, func() bool {
		exec.Command(pub, "-h", host, "-p", port, "-q", "1", "-t", topicName, "-m", "probe").Run()
		for _, l := range s.got() {
			if strings.HasPrefix(l, topicName+"|") {
				return true
			}
		}
		return false
	}, "subscriber ready")
}

func openDB(t *testing.T, dir string) *kv.DB {
	db, err := kv.Open(dir, kv.Options{Logger: brokertest.TestLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// tempDB opens a database in a fresh directory, closed when the test ends.
func tempDB(t *testing.T) *kv.DB {
	t.Helper()
	db := openDB(t, t.TempDir())
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

func testConfig(t *testing.T, addr string) Config {
	return Config{
		Name: "cloud", Address: "tcp://" + addr, GatewayID: "gw1",
		KeepAlive: 5 * time.Second, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		AckTimeout: 3 * time.Second, DialTimeout: 2 * time.Second,
		Out:    []Rule{{Local: "sensors/#", Remote: "site-7/sensors/#", QoS: 1}},
		Queue:  storefwd.Limits{MaxBytes: 64 << 20},
		Logger: brokertest.TestLogger(t),
	}
}

func newBridge(t *testing.T, srv *broker.Server, db *kv.DB, cfg Config) *Bridge {
	b, err := New(srv, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeBridge(t, b) })
	return b
}

func closeBridge(t *testing.T, b *Bridge) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// publishStream publishes n messages at QoS 1 from each of pubs in-process
// publishers, payload "p<i>-<k>", and returns when all are acknowledged.
func publishStream(t *testing.T, srv *broker.Server, pubs, n int, between func(k int)) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, pubs)
	for i := range pubs {
		c, err := srv.NewClient(fmt.Sprintf("pub%d", i))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for k := range n {
				if err := c.Publish(ctx, fmt.Sprintf("sensors/p%d", i), fmt.Appendf(nil, "p%d-%d", i, k), 1, false); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	if between != nil {
		for k := range 4 {
			between(k)
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

// checkStream checks that every message of publishStream arrived, in order
// per publisher, and returns the number of duplicates.
func checkStream(t *testing.T, s *subscriber, pubs, n int) (dups int) {
	t.Helper()
	complete := func() bool {
		seen := make(map[string]bool)
		for _, l := range s.got() {
			if strings.HasPrefix(l, "site-7/sensors/p") {
				seen[l] = true
			}
		}
		return len(seen) >= pubs*n
	}
	deadline := time.Now().Add(20 * time.Second)
	for !complete() {
		if time.Now().After(deadline) {
			seen := make(map[string]bool)
			for _, l := range s.got() {
				seen[l] = true
			}
			t.Fatalf("timed out: %d of %d distinct messages at the uplink", len(seen), pubs*n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	next := make([]int, pubs)
	for _, l := range s.got() {
		tp, p, _ := strings.Cut(l, "|")
		if !strings.HasPrefix(tp, "site-7/sensors/p") {
			continue
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(tp, "site-7/sensors/p"))
		var pi, k int
		if _, err := fmt.Sscanf(p, "p%d-%d", &pi, &k); err != nil || pi != i {
			t.Fatalf("bad line %q", l)
		}
		switch {
		case k == next[i]:
			next[i]++
		case k < next[i]:
			dups++ // a resend: at-least-once
		default:
			t.Fatalf("publisher %d: got %d, want %d (gap or reorder)", i, k, next[i])
		}
	}
	for i, v := range next {
		if v != n {
			t.Fatalf("publisher %d: %d of %d", i, v, n)
		}
	}
	return dups
}

func TestForwardToMosquitto(t *testing.T) {
	m := startMosquitto(t)
	sub := startSubscriber(t, m.addr, "#")
	waitSubscribed(t, sub, m.addr, "probe/1")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	b := newBridge(t, srv, db, testConfig(t, m.addr))
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected")

	const pubs, n = 4, 500
	start := time.Now()
	publishStream(t, srv, pubs, n, nil)
	dups := checkStream(t, sub, pubs, n)
	el := time.Since(start)
	t.Logf("%d messages local QoS 1 -> mosquitto -> subscriber in %v (%.0f msg/s), %d duplicates", pubs*n, el, float64(pubs*n)/el.Seconds(), dups)
	found := false
	for _, l := range sub.got() {
		found = found || l == "edgemq/gw1/status|online"
	}
	if !found {
		t.Error("no birth message edgemq/gw1/status online")
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Queue.Records == 0 }, "queue drained")
	if st := b.Stats(); st.Forwarded < pubs*n || st.Dropped() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestWindowsAndQoS forwards a stream through the send path with windows
// from one slot (every write waits for the acknowledgement before it) to
// the default, and at QoS 0 (acknowledged in the queue once written): all
// in order, the queue drained, every record counted once.
func TestWindowsAndQoS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window int
		qos    byte
	}{
		{"window 1", 1, 1},
		{"window 5", 5, 1},
		{"window 64", 64, 1},
		{"qos 0 window 3", 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := startMosquitto(t)
			sub := startSubscriber(t, m.addr, "site-7/#")
			waitSubscribed(t, sub, m.addr, "site-7/probe")
			srv, _ := brokertest.StartServer(t, broker.Options{})
			db := tempDB(t)
			cfg := testConfig(t, m.addr)
			cfg.Window = tc.window
			cfg.Out[0].QoS = tc.qos
			b := newBridge(t, srv, db, cfg)
			brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected")
			const pubs, n = 4, 300
			publishStream(t, srv, pubs, n, nil)
			if dups := checkStream(t, sub, pubs, n); dups != 0 {
				t.Errorf("%d duplicates without a reconnect", dups)
			}
			brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Queue.Records == 0 }, "queue drained")
			if st := b.Stats(); st.Forwarded != pubs*n || st.Resent != 0 || st.Dropped() != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestUplinkRestarts(t *testing.T) {
	m := startMosquitto(t)
	sub := startSubscriber(t, m.addr, "site-7/#")
	waitSubscribed(t, sub, m.addr, "site-7/probe")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	b := newBridge(t, srv, db, testConfig(t, m.addr))
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected")

	const pubs, n = 4, 500
	publishStream(t, srv, pubs, n, func(k int) {
		time.Sleep(150 * time.Millisecond)
		m.stop()
		time.Sleep(100 * time.Millisecond)
		m.start()
	})
	dups := checkStream(t, sub, pubs, n)
	st := b.Stats()
	t.Logf("4 uplink restarts: %d duplicates at the subscriber, resent %d, connects %d", dups, st.Resent, st.Connects)
	if st.Connects < 2 {
		t.Errorf("reconnects = %d, want several", st.Connects)
	}
	if dups > 4*b.cfg.Window {
		t.Errorf("%d duplicates, more than the window allows", dups)
	}
}

// TestAckMeansEnqueued: with the uplink unreachable, a local QoS 1 publish
// returns only once the record is in the queue; a full reject_new queue
// refuses with ErrQuotaExceeded; a restarted bridge sends what was queued.
func TestAckMeansEnqueued(t *testing.T) {
	srv, _ := brokertest.StartServer(t, broker.Options{})
	dir := t.TempDir()
	db := openDB(t, dir)
	t.Cleanup(func() { db.Close(context.Background()) })
	down := freePort(t) // nothing listens
	cfg := testConfig(t, down)
	cfg.Queue = storefwd.Limits{MaxBytes: 4096, WhenFull: storefwd.RejectNew}
	b, err := New(srv, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const n = 20
	for k := range n {
		if err := c.Publish(ctx, "sensors/p0", fmt.Appendf(nil, "p0-%d", k), 1, false); err != nil {
			t.Fatal(err)
		}
		if got := b.Stats().Queue.Records; got != int64(k+1) {
			t.Fatalf("after PUBACK %d the queue holds %d records", k+1, got)
		}
	}
	big := make([]byte, 4000)
	if err := c.Publish(ctx, "sensors/big", big, 1, false); !errors.Is(err, broker.ErrQuotaExceeded) {
		t.Fatalf("publish to a full queue: %v, want ErrQuotaExceeded", err)
	}
	if st := b.Stats(); st.Rejected != 1 || st.Queue.Dropped.Rejected != 1 || st.Connected || st.LastError == "" {
		t.Errorf("stats %+v", st)
	}
	// Not forwarded to the bridge's own topics, and QoS 0 still queued.
	closeBridge(t, b)

	// Restart against a live uplink: the queued records go out.
	m := startMosquitto(t)
	sub := startSubscriber(t, m.addr, "site-7/#")
	waitSubscribed(t, sub, m.addr, "site-7/probe")
	cfg.Address = m.addr
	b2 := newBridge(t, srv, db, cfg)
	checkStream(t, sub, 1, n)
	brokertest.Eventually(t, 5*time.Second, func() bool { return b2.Stats().Queue.Records == 0 }, "queue drained")
}

// TestInRules: a message published on the uplink under an in rule is
// republished locally and not sent back out by the out rule covering it.
func TestInRules(t *testing.T) {
	m := startMosquitto(t)
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	for _, v := range []byte{packet.Version311, packet.Version5} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			cfg := testConfig(t, m.addr)
			cfg.Name = fmt.Sprint("in", v)
			cfg.Protocol = v
			cfg.Out = []Rule{{Local: "cmd/#", Remote: "site-7/cmd/#", QoS: 1}}
			cfg.In = []Rule{{Remote: "site-7/cmd/#", Local: "cmd/#", QoS: 1}}
			b := newBridge(t, srv, db, cfg)
			brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Connected }, "connected")
			got := make(chan string, 10)
			lc, err := srv.NewClient("")
			if err != nil {
				t.Fatal(err)
			}
			defer lc.Close()
			if err := lc.Subscribe("cmd/#", 1, func(m *broker.Message) { got <- m.Topic + "|" + string(m.Payload) }); err != nil {
				t.Fatal(err)
			}
			host, port, _ := net.SplitHostPort(m.addr)
			pub := brokertest.RequireTool(t, "mosquitto_pub")
			// The SUBACK may lag the CONNACK: publish until one arrives.
			var first string
			brokertest.Eventually(t, 10*time.Second, func() bool {
				exec.Command(pub, "-h", host, "-p", port, "-q", "1", "-t", "site-7/cmd/valve", "-m", "open").Run()
				select {
				case first = <-got:
					return true
				case <-time.After(100 * time.Millisecond):
					return false
				}
			}, "in message")
			if first != "cmd/valve|open" {
				t.Fatalf("got %q", first)
			}
			time.Sleep(300 * time.Millisecond)
			if st := b.Stats(); st.Queue.Appended != 0 || st.Received == 0 {
				t.Errorf("in message looped out: %+v", st)
			}
		})
	}
}

// TestAckTimeoutReconnects: an uplink that never sends PUBACK makes the
// bridge reconnect and resend, rather than stall.
func TestAckTimeoutReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { ln.Close() })
	wg.Add(1)
	go func() { // a silent uplink: CONNACK, then nothing
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := packet.Read(conn, 0, packet.Version311); err != nil {
					return
				}
				b, _ := packet.Append(nil, &packet.Connack{}, packet.Version311)
				conn.Write(b)
				io.Copy(io.Discard, conn)
			}()
		}
	}()
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, ln.Addr().String())
	cfg.AckTimeout = 300 * time.Millisecond
	b := newBridge(t, srv, db, cfg)
	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), "sensors/x", []byte("1"), 1, false); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 10*time.Second, func() bool {
		st := b.Stats()
		return st.Connects >= 3 && st.Resent >= 2
	}, "reconnects after ack timeouts")
	st := b.Stats()
	if !strings.Contains(st.LastError, "timed out") || st.Queue.Records != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestSysFigures: the bridge's state and counters appear, retained, under
// $SYS/broker/bridge/<name>/, and they are not forwarded to the uplink.
func TestSysFigures(t *testing.T) {
	m := startMosquitto(t)
	sub := startSubscriber(t, m.addr, "#")
	waitSubscribed(t, sub, m.addr, "probe/1")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, m.addr)
	cfg.SysInterval = 50 * time.Millisecond
	cfg.Out = append(cfg.Out, Rule{Local: "$SYS/#", Remote: "sys/#", QoS: 0})
	newBridge(t, srv, db, cfg)
	publishStream(t, srv, 1, 20, nil)

	var mu sync.Mutex
	figures := map[string]string{}
	obs, err := srv.NewClient("sys-observer")
	if err != nil {
		t.Fatal(err)
	}
	obs.Subscribe("$SYS/broker/bridge/cloud/#", 0, func(msg *broker.Message) {
		mu.Lock()
		figures[strings.TrimPrefix(msg.Topic, "$SYS/broker/bridge/cloud/")] = string(msg.Payload)
		mu.Unlock()
	})
	brokertest.Eventually(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return figures["connected"] == "1" && figures["forwarded"] == "20" && figures["queue/messages"] == "0"
	}, "figures connected=1 forwarded=20 queue/messages=0")
	mu.Lock()
	for _, k := range []string{"since", "queue/bytes", "queue/oldest_age_seconds", "resent", "dropped", "rejected", "received", "connects"} {
		if _, ok := figures[k]; !ok {
			t.Errorf("no $SYS figure %q (have %v)", k, figures)
		}
	}
	mu.Unlock()
	// A marker through the same FIFO queue: anything queued before it
	// (the figures, if they were forwarded) reaches the uplink first.
	mc, err := srv.NewClient("marker")
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Publish(context.Background(), "sensors/marker", []byte("m"), 1, false); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 5*time.Second, func() bool {
		return slices.Contains(sub.got(), "site-7/sensors/marker|m")
	}, "marker forwarded")
	for _, l := range sub.got() {
		if strings.HasPrefix(l, "sys/") {
			t.Fatalf("the bridge's own figures went to the uplink: %q", l)
		}
	}
}
