package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/storefwd"
)

// TestOutageAndRecovery: with the endpoint unreachable, then answering
// 503, every local QoS 1 publish is acknowledged once queued; when the
// endpoint recovers everything arrives, in order, and the queue drains.
func TestOutageAndRecovery(t *testing.T) {
	srv, db := setup(t)
	addr := freeAddr(t) // nothing listens yet
	s := newSink(t, srv, db, testConfig(t, "http://"+addr+"/hook"))

	const n = 300
	publish(t, srv, "pub", "sensors/a", 0, n/2)
	if got := s.Stats().Queue.Records; got != n/2 {
		t.Fatalf("after the PUBACKs the queue holds %d records, want %d", got, n/2)
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().Failures >= 2 }, "failed requests")

	// The endpoint comes up, but answers 503 three times first.
	e := startEndpointAt(t, addr)
	e.setAnswer(func(_ context.Context, _ Body, k int) (int, http.Header) {
		if k < 3 {
			return http.StatusServiceUnavailable, nil
		}
		return http.StatusOK, nil
	})
	publish(t, srv, "pub", "sensors/a", n/2, n/2)
	dups := checkStream(t, e, n)
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().Queue.Records == 0 }, "queue drained")
	st := s.Stats()
	t.Logf("stats %+v, %d duplicates", st, dups)
	if st.Delivered < n || st.Dropped() != 0 || st.DeadLettered != 0 || st.Failures < 5 || st.Requests < 6 || st.LastError != "" || st.LastSuccess.IsZero() {
		t.Errorf("stats %+v", st)
	}
	if dups != 0 {
		t.Errorf("%d duplicates without a lost answer", dups)
	}
	for _, r := range e.requests() {
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if r.body.GatewayID != "gw1" || r.body.Sink != "hook" {
			t.Errorf("body ids %q %q", r.body.GatewayID, r.body.Sink)
		}
	}
}

func TestBatchLimits(t *testing.T) {
	for _, c := range []struct {
		name     string
		n        int
		payload  int // bytes; 0: "m-<k>"
		messages int
		bytes    int
		want     []int // messages per request
	}{
		{"messages", 25, 0, 10, 0, []int{10, 10, 5}},
		{"bytes", 7, 300, 100, 1000, []int{3, 3, 1}},
		{"one large message alone", 3, 3000, 100, 1000, []int{1, 1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, db := setup(t)
			cfg := testConfig(t, "http://"+freeAddr(t)+"/hook")
			cfg.BatchMessages, cfg.BatchBytes = c.messages, c.bytes
			// The backlog is queued while the endpoint is unreachable.
			s := newSink(t, srv, db, cfg)
			pub, err := srv.NewClient("pub")
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			for k := range c.n {
				p := fmt.Appendf(nil, "m-%d", k)
				if c.payload > 0 {
					p = append(p, bytes.Repeat([]byte("x"), c.payload-len(p))...)
				}
				if err := pub.Publish(context.Background(), "sensors/b", p, 1, false); err != nil {
					t.Fatal(err)
				}
			}
			closeSink(t, s)

			e := newEndpoint(t)
			cfg.URL = e.url()
			// Full batches of the backlog go at once, the rest after
			// BatchDelay.
			cfg.BatchDelay = 200 * time.Millisecond
			newSink(t, srv, db, cfg)
			brokertest.Eventually(t, 10*time.Second, func() bool { return len(e.accepted()) >= c.n }, "backlog delivered")
			var got []int
			for _, r := range e.requests() {
				got = append(got, len(r.body.Messages))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("messages per request %v, want %v", got, c.want)
			}
		})
	}
}

// TestBatchDelay: a batch that does not fill up goes BatchDelay after its
// first message was queued, with what came meanwhile.
func TestBatchDelay(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	cfg := testConfig(t, e.url())
	cfg.BatchMessages, cfg.BatchDelay = 1000, 300*time.Millisecond
	newSink(t, srv, db, cfg)
	start := time.Now()
	publish(t, srv, "pub", "sensors/c", 0, 3)
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(e.requests()) > 0 }, "a request")
	r := e.requests()[0]
	if n := len(r.body.Messages); n != 3 {
		t.Errorf("first request has %d messages, want 3", n)
	}
	if d := r.at.Sub(start); d < 290*time.Millisecond || d > 3*time.Second {
		t.Errorf("first request after %v, want about 300ms", d)
	}
}

// TestDeadLetter: a 400 answer removes the batch (counted, logged); the
// messages behind it still go; 408, 429 and 5xx are retried.
func TestDeadLetter(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	retried := map[int]int{}
	var mu sync.Mutex
	e.setAnswer(func(_ context.Context, b Body, _ int) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		switch p := *b.Messages[0].Payload; p {
		case "bad":
			return http.StatusBadRequest, nil
		case "408", "429", "500":
			code := 0
			fmt.Sscan(p, &code)
			if retried[code]++; retried[code] == 1 {
				return code, nil
			}
		}
		return http.StatusOK, nil
	})
	var logs logBuffer
	cfg := testConfig(t, e.url())
	cfg.BatchMessages, cfg.Logger = 1, logs.logger()
	s := newSink(t, srv, db, cfg)
	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range []string{"ok-0", "bad", "408", "429", "500", "ok-1"} {
		if err := c.Publish(context.Background(), "sensors/d", []byte(p), 1, false); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.Eventually(t, 10*time.Second, func() bool { return s.Stats().Delivered == 5 }, "delivered")
	st := s.Stats()
	if st.DeadLettered != 1 || st.Queue.Records != 0 || st.Failures != 4 || st.Resent != 3 {
		t.Errorf("stats %+v", st)
	}
	var got []string
	for _, m := range e.accepted() {
		got = append(got, *m.Payload)
	}
	if want := "[ok-0 408 429 500 ok-1]"; fmt.Sprint(got) != want {
		t.Errorf("accepted %v, want %s", got, want)
	}
	if l := logs.String(); !strings.Contains(l, "dead-lettered") || !strings.Contains(l, "status=400") {
		t.Errorf("no dead-letter log line:\n%s", l)
	}
}

// TestRetryAfter: a 429 or 503 with Retry-After delays the next attempt
// that long, bounded by RetryMax.
func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name       string
		status     int
		retryAfter string
		retryMax   time.Duration
		min, max   time.Duration
	}{
		{"429 one second", 429, "1", 5 * time.Second, 900 * time.Millisecond, 3 * time.Second},
		{"503 bounded", 503, "3600", 300 * time.Millisecond, 250 * time.Millisecond, 2 * time.Second},
		{"503 date", 503, "date+3s", 10 * time.Second, 1500 * time.Millisecond, 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, db := setup(t)
			e := newEndpoint(t)
			e.setAnswer(func(_ context.Context, _ Body, k int) (int, http.Header) {
				if k == 0 {
					ra := c.retryAfter
					if ra == "date+3s" { // HTTP-dates have whole seconds
						ra = time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
					}
					return c.status, http.Header{"Retry-After": {ra}}
				}
				return http.StatusOK, nil
			})
			cfg := testConfig(t, e.url())
			cfg.RetryMax = c.retryMax
			newSink(t, srv, db, cfg)
			publish(t, srv, "pub", "sensors/e", 0, 1)
			brokertest.Eventually(t, 10*time.Second, func() bool { return len(e.requests()) >= 2 }, "a second request")
			r := e.requests()
			if d := r[1].at.Sub(r[0].at); d < c.min || d > c.max {
				t.Errorf("retried after %v, want %v..%v", d, c.min, c.max)
			}
		})
	}
}

// TestSlowEndpoint: an endpoint that does not answer never slows local
// publishing down; closing the sink cancels the request, and the next
// sink on the queue sends everything.
func TestSlowEndpoint(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	release := make(chan struct{})
	var inFlight atomic.Int32
	e.setAnswer(func(ctx context.Context, _ Body, _ int) (int, http.Header) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		select {
		case <-release:
			return http.StatusOK, nil
		case <-ctx.Done():
			return http.StatusServiceUnavailable, nil
		}
	})
	cfg := testConfig(t, e.url())
	cfg.Timeout = time.Minute
	s, err := New(srv, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, srv, "warm", "sensors/f", 0, 1)
	brokertest.Eventually(t, 5*time.Second, func() bool { return inFlight.Load() == 1 }, "request in flight")

	const pubs, n = 4, 100
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, pubs)
	for i := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- publishErr(srv, fmt.Sprintf("pub%d", i), fmt.Sprintf("sensors/p%d", i), 0, n)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(start)
	t.Logf("%d QoS 1 publishes acknowledged in %v with the endpoint stuck", pubs*n, el)
	if el > 5*time.Second {
		t.Errorf("publishing took %v with a stuck endpoint", el)
	}
	if got := s.Stats().Queue.Records; got != pubs*n+1 {
		t.Errorf("queue holds %d, want %d", got, pubs*n+1)
	}
	start = time.Now()
	closeSink(t, s)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("close took %v with a request in flight", el)
	}
	close(release)
	newSink(t, srv, db, cfg)
	brokertest.Eventually(t, 10*time.Second, func() bool { return len(e.accepted()) >= pubs*n+1 }, "everything delivered")
}

// TestGzipAndHeaders: the body is gzip-compressed, the configured headers
// are sent, and their values are never logged.
func TestGzipAndHeaders(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	e.setAnswer(func(_ context.Context, _ Body, k int) (int, http.Header) {
		if k == 0 {
			return http.StatusInternalServerError, nil // makes the sink log
		}
		return http.StatusOK, nil
	})
	var logs logBuffer
	cfg := testConfig(t, e.url())
	cfg.Gzip = true
	cfg.Headers = map[string]string{"Authorization": "Bearer s3cret-token", "X-Site": "7"}
	cfg.Logger = logs.logger()
	s := newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "sensors/g", 0, 20)
	checkStream(t, e, 20)
	r := e.requests()[1]
	if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Authorization") != "Bearer s3cret-token" || r.header.Get("X-Site") != "7" {
		t.Errorf("headers %v", r.header)
	}
	if !json.Valid(r.raw) {
		t.Errorf("decompressed body is not JSON: %q", r.raw)
	}
	closeSink(t, s)
	if l := logs.String(); strings.Contains(l, "s3cret") || !strings.Contains(l, "retrying") {
		t.Errorf("log:\n%s", l)
	}
}

// TestPayloadEncoding: UTF-8 payloads go as text, others as base64, per
// message; QoS, retain and the receive time are passed on.
func TestPayloadEncoding(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	cfg := testConfig(t, e.url())
	newSink(t, srv, db, cfg)
	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	start := time.Now().Add(-time.Millisecond)
	type msg struct {
		payload []byte
		qos     byte
		retain  bool
	}
	sent := []msg{{[]byte("héllo {\"json\": 1}"), 1, false}, {[]byte{0xff, 0xfe, 0x00, 0x01}, 2, true}, {[]byte("tab\tnl\n"), 0, false}, {[]byte{'a', 0xc3}, 1, false}}
	for _, m := range sent {
		if err := c.Publish(ctx, "sensors/h", m.payload, m.qos, m.retain); err != nil {
			t.Fatal(err)
		}
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(e.accepted()) >= len(sent) }, "delivered")
	got := e.accepted()
	for i, m := range sent {
		g := got[i]
		var p []byte
		switch {
		case g.Payload != nil && g.PayloadB64 == nil:
			p = []byte(*g.Payload)
			if i == 1 || i == 3 {
				t.Errorf("message %d: binary payload sent as text", i)
			}
		case g.PayloadB64 != nil && g.Payload == nil:
			p, err = base64.StdEncoding.DecodeString(*g.PayloadB64)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 || i == 2 {
				t.Errorf("message %d: text payload sent as base64", i)
			}
		default:
			t.Fatalf("message %d: want exactly one of payload and payload_b64: %+v", i, g)
		}
		if !bytes.Equal(p, m.payload) || g.QoS != m.qos || g.Retain != m.retain || g.Topic != "sensors/h" {
			t.Errorf("message %d: got %+v (payload %q), sent %+v", i, g, p, m)
		}
		ts, err := time.Parse(TimestampLayout, g.Timestamp)
		if err != nil || !strings.HasSuffix(g.Timestamp, "Z") || ts.Before(start.Truncate(time.Millisecond)) || ts.After(time.Now()) {
			t.Errorf("message %d: timestamp %q: %v", i, g.Timestamp, err)
		}
	}
}

// TestRestartResends: records not acknowledged by a 2xx when the gateway
// stops (database closed and opened again) are sent by the next sink, in
// order.
func TestRestartResends(t *testing.T) {
	srv, _ := brokertest.StartServer(t, broker.Options{})
	dir := t.TempDir()
	db := openDB(t, dir)
	e := newEndpoint(t)
	e.setAnswer(func(context.Context, Body, int) (int, http.Header) { return http.StatusBadGateway, nil })
	cfg := testConfig(t, e.url())
	s, err := New(srv, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, srv, "pub", "sensors/i", 0, 50)
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().Failures >= 1 }, "a failed request")
	closeSink(t, s)
	if err := db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir)
	t.Cleanup(func() { db.Close(context.Background()) })
	e.setAnswer(nil)
	s = newSink(t, srv, db, cfg)
	checkStream(t, e, 50)
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().Queue.Records == 0 }, "queue drained")
}

// TestRejectNew: a full reject_new queue refuses the publish with "quota
// exceeded" and counts it.
func TestRejectNew(t *testing.T) {
	srv, db := setup(t)
	cfg := testConfig(t, "http://"+freeAddr(t)+"/hook")
	cfg.Queue = storefwd.Limits{MaxBytes: 4096, WhenFull: storefwd.RejectNew}
	s := newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "sensors/j", 0, 20)
	c, err := srv.NewClient("big")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), "sensors/j", make([]byte, 4000), 1, false); !errors.Is(err, broker.ErrQuotaExceeded) {
		t.Fatalf("publish to a full queue: %v, want ErrQuotaExceeded", err)
	}
	if st := s.Stats(); st.Queue.Dropped.Rejected != 1 || st.Queue.Records != 20 || st.Dropped() != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestTLS: an https endpoint that requires a client certificate, verified
// against a CA of our own.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := brokertest.WriteCert(t, dir, "ca", nil, nil, false)
	brokertest.WriteCert(t, dir, "server", ca, caKey, true, net.ParseIP("127.0.0.1"))
	brokertest.WriteCert(t, dir, "client", ca, caKey, false)
	load := func(name string) tls.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	e := &endpoint{t: t}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	e.srv.TLS = &tls.Config{Certificates: []tls.Certificate{load("server")}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)

	srv, db := setup(t)
	cfg := testConfig(t, e.url())
	cfg.TLS = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{load("client")}}
	newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "sensors/k", 0, 5)
	checkStream(t, e, 5)

	// Without the client certificate the handshake fails: retried.
	cfg.Name, cfg.TLS = "nocert", &tls.Config{RootCAs: pool}
	s2 := newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "sensors/k", 5, 1)
	brokertest.Eventually(t, 5*time.Second, func() bool { return s2.Stats().Failures > 0 }, "a failed handshake")
	if st := s2.Stats(); st.Delivered != 0 || st.Queue.Records != 1 || st.LastError == "" {
		t.Errorf("stats without a client certificate %+v", st)
	}
}

// TestReconfigure: a new url and filters apply without a restart; the
// queue limits need one.
func TestReconfigure(t *testing.T) {
	srv, db := setup(t)
	a, b := newEndpoint(t), newEndpoint(t)
	cfg := testConfig(t, a.url())
	cfg.Filters = []string{"a/#"}
	s := newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "a/1", 0, 1)
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(a.accepted()) == 1 }, "a/1 at a")

	cfg.URL, cfg.Filters = b.url(), []string{"b/#"}
	if err := s.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	publish(t, srv, "pub", "a/2", 1, 1) // no longer a filter
	publish(t, srv, "pub", "b/1", 2, 1)
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(b.accepted()) == 1 }, "b/1 at b")
	if m := b.accepted()[0]; m.Topic != "b/1" || len(a.accepted()) != 1 {
		t.Errorf("after reconfigure: b got %+v, a got %d", m, len(a.accepted()))
	}
	bad := cfg
	bad.Queue.MaxBytes *= 2
	if err := s.Reconfigure(bad); !errors.Is(err, ErrNeedsRestart) {
		t.Errorf("queue change: %v, want ErrNeedsRestart", err)
	}
	bad = cfg
	bad.URL = "ftp://x"
	if err := s.Reconfigure(bad); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad url: %v, want ErrInvalid", err)
	}
}

// TestReconfigureWakesBackoff: a sink waiting out a long back-off tries
// the new url at once.
func TestReconfigureWakesBackoff(t *testing.T) {
	srv, db := setup(t)
	cfg := testConfig(t, "http://"+freeAddr(t)+"/hook")
	cfg.RetryMin, cfg.RetryMax = time.Minute, time.Hour
	s := newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "sensors/l", 0, 3)
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats().Failures == 1 }, "first failure")
	e := newEndpoint(t)
	cfg.URL = e.url()
	if err := s.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	checkStream(t, e, 3)
}

// TestOverlappingFilters: a message matching several filters is sent
// once.
func TestOverlappingFilters(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	cfg := testConfig(t, e.url())
	cfg.Filters = []string{"sensors/#", "sensors/+/t", "sensors/a/t"}
	newSink(t, srv, db, cfg)
	publish(t, srv, "pub", "sensors/a/t", 0, 5)
	publish(t, srv, "pub", "sensors/b/x", 5, 5)
	checkStream(t, e, 10)
	if n := len(e.accepted()); n != 10 {
		t.Errorf("%d messages sent for 10 published", n)
	}
}

// TestSysTopics: the figures are published under $SYS/broker/sink/<name>/.
func TestSysTopics(t *testing.T) {
	srv, db := setup(t)
	e := newEndpoint(t)
	cfg := testConfig(t, e.url())
	cfg.Filters = []string{"#", "$SYS/#"} // its own figures are never sent
	cfg.SysInterval = 20 * time.Millisecond
	newSink(t, srv, db, cfg)
	sub, err := srv.NewClient("sys")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var mu sync.Mutex
	got := map[string]string{}
	if err := sub.Subscribe("$SYS/broker/sink/hook/#", 0, func(m *broker.Message) {
		mu.Lock()
		got[strings.TrimPrefix(m.Topic, "$SYS/broker/sink/hook/")] = string(m.Payload)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	publish(t, srv, "pub", "sensors/m", 0, 2)
	brokertest.Eventually(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got["delivered"] == "2" && got["queue/messages"] == "0"
	}, "$SYS figures")
	mu.Lock()
	defer mu.Unlock()
	for _, k := range []string{"queue/bytes", "queue/oldest_age_seconds", "dead_lettered", "dropped", "dropped/rejected", "dropped/overflow", "requests", "failures", "last_error", "last_success"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no $SYS/broker/sink/hook/%s", k)
		}
	}
	for _, m := range e.accepted() {
		if strings.HasPrefix(m.Topic, "$SYS/broker/sink/") {
			t.Errorf("the sink sent its own figure %s", m.Topic)
		}
	}
}

// TestPacedReplay: a backlog replayed after an outage leaves at most at
// MaxRate messages per second.
func TestPacedReplay(t *testing.T) {
	srv, db := setup(t)
	cfg := testConfig(t, "http://"+freeAddr(t)+"/hook")
	s := newSink(t, srv, db, cfg)
	const n = 30
	publish(t, srv, "pub", "sensors/n", 0, n)
	closeSink(t, s)

	e := newEndpoint(t)
	cfg.URL, cfg.BatchMessages, cfg.MaxRate = e.url(), 10, 50
	start := time.Now()
	newSink(t, srv, db, cfg)
	checkStream(t, e, n)
	// A burst of 5 (a tenth of a second's worth), then 50/s: 25 more
	// take half a second.
	if el := time.Since(start); el < 450*time.Millisecond || el > 5*time.Second {
		t.Errorf("%d messages at 50/s took %v, want about 500ms", n, el)
	}
}
