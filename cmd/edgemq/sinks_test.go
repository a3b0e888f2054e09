package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/bridge/webhook"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// hookServer is an HTTP endpoint that can be down (503), refuse (400) or
// take batches, keeping every message it took.
type hookServer struct {
	*httptest.Server
	mode atomic.Int32 // 0 up, 1 down (503), 2 refuse (400)

	mu   sync.Mutex
	msgs []webhook.Message
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch h.mode.Load() {
		case 1:
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		case 2:
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		var b webhook.Body
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &b); err != nil || b.GatewayID != "gw" {
			http.Error(w, fmt.Sprintf("body %q: %v", data, err), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, b.Messages...)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// payloads returns the payloads received, first occurrences only (the
// sink is at least once), and how many duplicates there were.
func (h *hookServer) payloads() (out []string, dups int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := make(map[uint64]bool)
	for _, m := range h.msgs {
		if seen[m.Seq] {
			dups++
			continue
		}
		seen[m.Seq] = true
		if m.Payload != nil {
			out = append(out, *m.Payload)
		}
	}
	return out, dups
}

// TestSinkEndToEnd: the finished binary POSTs local messages to a webhook
// through its durable queue: an endpoint down and a SIGKILL of the
// gateway lose nothing acknowledged, and order is kept; a 400 answer
// dead-letters instead of retrying forever.
func TestSinkEndToEnd(t *testing.T) {
	hook := newHookServer(t)
	hook.mode.Store(1) // down from the start
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: gw}
broker:
  listeners: [{type: tcp, address: %q}]
  sys_interval: 1s
storage: {dir: %q}
sinks:
  - name: events
    url: %s/ingest
    filters: ["sensors/#"]
    batch: {max_messages: 50, max_delay: 50ms}
    retry: {min: 50ms, max: 200ms}
`, addr, filepath.Join(dir, "data"), hook.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	pub := mqttPublisher(t, addr)
	const n = 300
	for i := range n {
		pub("sensors/"+strconv.Itoa(i%3), strconv.Itoa(i)) // QoS 1: acknowledged means on disk
	}
	pub("other/topic", "not for the sink")
	c := subscribeAll(t, addr, "$SYS/broker/sink/#")
	brokertest.Eventually(t, 10*time.Second, func() bool {
		return c.last("$SYS/broker/sink/events/queue/messages") == strconv.Itoa(n)
	}, "backlog visible in $SYS\n"+c.dump())

	// A power cut while the endpoint is down.
	g.stop(t, syscall.SIGKILL)
	startGateway(t, cfg, addr)
	hook.mode.Store(0)
	brokertest.Eventually(t, 20*time.Second, func() bool { got, _ := hook.payloads(); return len(got) >= n }, "all delivered")
	got, dups := hook.payloads()
	if len(got) != n {
		t.Fatalf("%d messages delivered, want %d: %q", len(got), n, got)
	}
	for i, p := range got {
		if p != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: order lost", i, p)
		}
	}
	t.Logf("%d messages delivered in order after an outage and a SIGKILL, %d resent", n, dups)

	// A 400 answer: dead-lettered, counted, not retried forever.
	hook.mode.Store(2)
	c2 := subscribeAll(t, addr, "$SYS/broker/sink/#")
	pub2 := mqttPublisher(t, addr)
	pub2("sensors/bad", "refused")
	brokertest.Eventually(t, 10*time.Second, func() bool {
		return c2.last("$SYS/broker/sink/events/dead_lettered") == "1" && c2.last("$SYS/broker/sink/events/queue/messages") == "0"
	}, "dead-lettered\n"+c2.dump())
	hook.mode.Store(0)
	pub2("sensors/after", "accepted")
	brokertest.Eventually(t, 10*time.Second, func() bool {
		got, _ := hook.payloads()
		return len(got) == n+1 && got[n] == "accepted"
	}, "delivery goes on after a dead letter")
}

// TestReloadSinks: SIGHUP starts a sink added to the file and stops a
// removed one.
func TestReloadSinks(t *testing.T) {
	hook := newHookServer(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	base := fmt.Sprintf("gateway: {id: gw}\nbroker:\n  listeners: [{type: tcp, address: %q}]\nstorage: {dir: %q}\nhttp: {address: \"127.0.0.1:0\"}\n", addr, filepath.Join(dir, "data"))
	sink := fmt.Sprintf("sinks:\n  - {name: events, url: %q, filters: [\"sensors/#\"], batch: {max_delay: 20ms}}\n", hook.URL)
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(base)
	g := startGateway(t, cfg, addr)
	pub := mqttPublisher(t, addr)
	pub("sensors/a", "before")
	write(base + sink)
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 10*time.Second, func() bool { return strings.Contains(g.log.String(), "sink started") }, "sink started")
	pub("sensors/a", "with")
	brokertest.Eventually(t, 10*time.Second, func() bool { got, _ := hook.payloads(); return len(got) == 1 && got[0] == "with" }, "delivered")
	write(base)
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 10*time.Second, func() bool {
		return strings.Count(g.log.String(), "configuration reloaded") == 2
	}, "second reload\n"+g.log.String())
	pub("sensors/a", "without")
	time.Sleep(200 * time.Millisecond)
	if got, _ := hook.payloads(); len(got) != 1 {
		t.Errorf("delivered %q after the sink was removed", got)
	}
}
