package webhook

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// request is one request an endpoint received.
type request struct {
	header http.Header
	raw    []byte // decompressed body
	body   Body
	status int // what the endpoint answered
	at     time.Time
}

// endpoint is a webhook receiver on httptest. answer decides the status
// of each request (nil: 200); it may block, watching ctx.
type endpoint struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	reqs   []request
	answer func(ctx context.Context, b Body, n int) (status int, header http.Header)
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{t: t}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

// startEndpointAt starts an endpoint on addr (which was free).
func startEndpointAt(t *testing.T, addr string) *endpoint {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	e := &endpoint{t: t}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	e.srv.Listener.Close()
	e.srv.Listener = l
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) url() string { return e.srv.URL + "/hook" }

func (e *endpoint) setAnswer(f func(ctx context.Context, b Body, n int) (int, http.Header)) {
	e.mu.Lock()
	e.answer = f
	e.mu.Unlock()
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rd = zr
	}
	raw, err := io.ReadAll(rd)
	if err != nil {
		return
	}
	var b Body
	if err := json.Unmarshal(raw, &b); err != nil {
		e.t.Errorf("endpoint: bad body %q: %v", raw, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	answer, n := e.answer, len(e.reqs)
	e.mu.Unlock()
	status, header := http.StatusOK, http.Header(nil)
	if answer != nil {
		status, header = answer(r.Context(), b, n)
	}
	e.mu.Lock()
	e.reqs = append(e.reqs, request{header: r.Header.Clone(), raw: raw, body: b, status: status, at: time.Now()})
	e.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "status %d", status)
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request(nil), e.reqs...)
}

// accepted returns the messages of the 2xx requests, in order.
func (e *endpoint) accepted() []Message {
	var out []Message
	for _, r := range e.requests() {
		if r.status/100 == 2 {
			out = append(out, r.body.Messages...)
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func openDB(t *testing.T, dir string) *kv.DB {
	db, err := kv.Open(dir, kv.Options{Logger: brokertest.TestLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// setup starts a broker and opens a database, both closed by Cleanup.
func setup(t *testing.T) (*broker.Server, *kv.DB) {
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := openDB(t, t.TempDir())
	t.Cleanup(func() { db.Close(context.Background()) })
	return srv, db
}

func testConfig(t *testing.T, url string) Config {
	return Config{
		Name: "hook", URL: url, Filters: []string{"sensors/#"}, GatewayID: "gw1",
		BatchDelay: 20 * time.Millisecond, Timeout: 5 * time.Second,
		RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Queue:  storefwd.Limits{MaxBytes: 64 << 20},
		Logger: brokertest.TestLogger(t),
	}
}

func newSink(t *testing.T, srv *broker.Server, db *kv.DB, cfg Config) *Sink {
	t.Helper()
	s, err := New(srv, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSink(t, s) })
	return s
}

func closeSink(t *testing.T, s *Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// publish publishes n messages "m-<k>" on topic at QoS 1 from an
// in-process client and returns when all are acknowledged.
func publish(t *testing.T, srv *broker.Server, id, topicName string, from, n int) {
	t.Helper()
	if err := publishErr(srv, id, topicName, from, n); err != nil {
		t.Fatal(err)
	}
}

// publishErr is publish for other goroutines than the test's.
func publishErr(srv *broker.Server, id, topicName string, from, n int) error {
	c, err := srv.NewClient(id)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for k := from; k < from+n; k++ {
		if err := c.Publish(ctx, topicName, fmt.Appendf(nil, "m-%d", k), 1, false); err != nil {
			return fmt.Errorf("publish %d: %w", k, err)
		}
	}
	return nil
}

// checkStream waits until the endpoint accepted "m-0".."m-<n-1>" and
// checks that they came in order, counting resent copies (the same seq
// again) as duplicates.
func checkStream(t *testing.T, e *endpoint, n int) (dups int) {
	t.Helper()
	distinct := func() int {
		seen := make(map[uint64]bool)
		for _, m := range e.accepted() {
			seen[m.Seq] = true
		}
		return len(seen)
	}
	brokertest.Eventually(t, 20*time.Second, func() bool { return distinct() >= n }, fmt.Sprintf("%d messages at the endpoint", n))
	next := 0
	var last uint64
	for i, m := range e.accepted() {
		if m.Payload == nil {
			t.Fatalf("message %d has no text payload: %+v", i, m)
		}
		var k int
		if _, err := fmt.Sscanf(*m.Payload, "m-%d", &k); err != nil {
			t.Fatalf("bad payload %q", *m.Payload)
		}
		switch {
		case k == next:
			if next > 0 && m.Seq != last+1 {
				t.Fatalf("message %d: seq %d after %d", k, m.Seq, last)
			}
			next++
			last = m.Seq
		case k < next:
			dups++
		default:
			t.Fatalf("got m-%d, want m-%d (gap or reorder)", k, next)
		}
	}
	if next != n {
		t.Fatalf("%d of %d in order", next, n)
	}
	return dups
}

// logBuffer is a slog handler target safe for concurrent writes.
type logBuffer struct{ brokertest.Buffer }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
