package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
)

func TestLimitsCheck(t *testing.T) {
	aws := Limits{MaxPayload: 128 << 10, MaxTopicBytes: 256, MaxTopicLevels: 8}
	tests := []struct {
		name    string
		l       Limits
		topic   string
		payload int
		want    string
	}{
		{"no limits", Limits{}, strings.Repeat("a/", 100) + "b", 1 << 30, ""},
		{"fits", aws, "a/b/c/d/e/f/g/h", 128 << 10, ""},
		{"payload", aws, "a", 128<<10 + 1, reasonOversize},
		{"nine levels", aws, "a/b/c/d/e/f/g/h/i", 1, reasonTopicLimit},
		{"trailing slash is a level", aws, "a/b/c/d/e/f/g/h/", 1, reasonTopicLimit},
		{"basic ingest not counted", aws, "$aws/rules/myRule/a/b/c/d/e/f/g/h", 1, ""},
		{"basic ingest any case", aws, "$AWS/Rules/myRule/a/b/c/d/e/f/g/h", 1, ""},
		{"basic ingest, too deep", aws, "$aws/rules/myRule/a/b/c/d/e/f/g/h/i", 1, reasonTopicLimit},
		{"256 bytes", aws, strings.Repeat("x", 256), 1, ""},
		{"257 bytes", aws, strings.Repeat("x", 257), 1, reasonTopicLimit},
		{"bytes after the prefix", aws, "$aws/rules/r/" + strings.Repeat("x", 256), 1, ""},
		{"utf-8 bytes", aws, strings.Repeat("é", 129), 1, reasonTopicLimit},
	}
	for _, tt := range tests {
		if got, detail := tt.l.check(tt.topic, tt.payload); got != tt.want {
			t.Errorf("%s: reason %q (%s), want %q", tt.name, got, detail, tt.want)
		}
	}
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	t0 := time.Unix(100, 0)
	steps := []struct {
		at   time.Duration
		ok   bool
		held int
	}{{0, true, 0}, {time.Second, false, 0}, {2 * time.Second, false, 0}, {10 * time.Second, true, 2}, {11 * time.Second, false, 0}}
	for _, s := range steps {
		if ok, held := l.allow(t0.Add(s.at), 10*time.Second); ok != s.ok || held != s.held {
			t.Errorf("at %v: %v %d, want %v %d", s.at, ok, held, s.ok, s.held)
		}
	}
}

// TestLimitsDrop: records beyond the uplink's limits are dropped, counted
// by reason (Stats, $SYS) and acknowledged in the queue; the ones around
// them go out in order.
func TestLimitsDrop(t *testing.T) {
	m := startMosquitto(t)
	r := uplinkReader(t, m.addr, "site-7/#")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, m.addr)
	cfg.Limits = Limits{MaxPayload: 10, MaxTopicBytes: 40, MaxTopicLevels: 4}
	cfg.SysInterval = 50 * time.Millisecond
	b := newBridge(t, srv, db, cfg)
	sys, err := srv.NewClient("sys-reader")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close() })
	got := make(chan string, 100)
	if err := sys.Subscribe("$SYS/broker/bridge/cloud/dropped/#", 0, func(m *broker.Message) {
		got <- m.Topic + "=" + string(m.Payload)
	}); err != nil {
		t.Fatal(err)
	}

	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	for _, p := range []struct{ topic, payload string }{
		{"sensors/a", "first"},
		{"sensors/a", "much too long a payload"},
		{"sensors/a/b/c", "deep"}, // site-7/sensors/a/b/c: 5 levels
		{"sensors/" + strings.Repeat("x", 30), "long"},
		{"sensors/a", "last"},
	} {
		if err := c.Publish(ctx, p.topic, []byte(p.payload), 1, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"first", "last"} {
		if p := readPublish(t, r); string(p.Payload) != want {
			t.Fatalf("uplink got %s %q, want %q", p.Topic, p.Payload, want)
		}
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return b.Stats().Queue.Records == 0 }, "queue empty")
	st := b.Stats()
	if st.Oversize != 1 || st.TopicLimit != 2 || st.Dropped() != 3 || st.Forwarded != 2 {
		t.Errorf("oversize %d, topic_limit %d, dropped %d, forwarded %d; want 1, 2, 3, 2", st.Oversize, st.TopicLimit, st.Dropped(), st.Forwarded)
	}
	if !strings.Contains(st.LastError, "limits") {
		t.Errorf("last error %q", st.LastError)
	}
	want := map[string]bool{
		"$SYS/broker/bridge/cloud/dropped=3": false, "$SYS/broker/bridge/cloud/dropped/oversize=1": false,
		"$SYS/broker/bridge/cloud/dropped/topic_limit=2": false,
	}
	deadline := time.After(5 * time.Second)
	for missing := 3; missing > 0; {
		select {
		case s := <-got:
			if seen, ok := want[s]; ok && !seen {
				want[s] = true
				missing--
			}
		case <-deadline:
			t.Fatalf("$SYS figures: %v", want)
		}
	}
}
