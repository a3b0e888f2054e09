package webhook

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/storefwd"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		code int
		want verdict
	}{
		{200, delivered}, {201, delivered}, {204, delivered}, {299, delivered},
		{400, deadLetter}, {401, deadLetter}, {403, deadLetter}, {404, deadLetter}, {413, deadLetter}, {422, deadLetter},
		{408, retry}, {429, retry},
		{500, retry}, {502, retry}, {503, retry}, {504, retry},
		{301, retry}, {302, retry}, {307, retry}, {100, retry},
	} {
		if got := classify(c.code); got != c.want {
			t.Errorf("classify(%d) = %d, want %d", c.code, got, c.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", -1},
		{"0", 0},
		{"5", 5 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-3", -1},
		{"soon", -1},
		{"1.5", -1},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(c.in, now); got != c.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestMatchFilter(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"#", "a/b", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"$SYS/#", "$SYS/x", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "b", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a", false},
		{"a/+/c", "a/b/c", true},
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"+", "", true},
		{"a//b", "a//b", true},
		{"+/+", "/x", true},
	} {
		if got := matchFilter(c.filter, c.topic); got != c.want {
			t.Errorf("matchFilter(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	at := time.UnixMilli(1764126000123)
	for _, c := range []struct {
		name    string
		topic   string
		payload []byte
		qos     byte
		retain  bool
	}{
		{"text", "sensors/t1", []byte("21.5"), 1, false},
		{"binary retained", "a/b", []byte{0, 0xff}, 2, true},
		{"empty", "x", nil, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := decodeRecord(7, encodeMeta(c.topic, c.qos, c.retain, at), c.payload)
			if err != nil {
				t.Fatal(err)
			}
			if m.seq != 7 || m.topic != c.topic || !bytes.Equal(m.payload, c.payload) || m.qos != c.qos || m.retain != c.retain || !m.received.Equal(at) {
				t.Errorf("got %+v", m)
			}
		})
	}
	good := encodeMeta("t", 1, false, at)
	for name, meta := range map[string][]byte{
		"short":       good[:5],
		"version":     append([]byte{9}, good[1:]...),
		"qos 3":       append([]byte{1, 3}, good[2:]...),
		"length":      good[:len(good)-1],
		"extra flags": append([]byte{1, 0x10}, good[2:]...),
	} {
		if _, err := decodeRecord(0, meta, nil); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestEncodeBody(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 4, 5, 678e6, time.FixedZone("CET", 3600))
	msgs := []message{
		{seq: 1, topic: "s/text", payload: []byte("héllo <&>"), qos: 1, received: at},
		{seq: 2, topic: "s/bin", payload: []byte{0xff, 0xfe, 0}, qos: 2, retain: true, received: at},
		{seq: 3, topic: "s/empty", payload: nil, received: at},
	}
	for _, zip := range []bool{false, true} {
		var buf bytes.Buffer
		if err := encodeBody(&buf, "gw1", "hook", msgs, zip); err != nil {
			t.Fatal(err)
		}
		var r io.Reader = &buf
		if zip {
			zr, err := gzip.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"gateway_id":"gw1","sink":"hook","messages":[` +
			`{"seq":1,"topic":"s/text","payload":"héllo <&>","qos":1,"retain":false,"timestamp":"2026-11-26T02:04:05.678Z"},` +
			`{"seq":2,"topic":"s/bin","payload_b64":"//4A","qos":2,"retain":true,"timestamp":"2026-11-26T02:04:05.678Z"},` +
			`{"seq":3,"topic":"s/empty","payload":"","qos":0,"retain":false,"timestamp":"2026-11-26T02:04:05.678Z"}]}` + "\n"
		if string(raw) != want {
			t.Errorf("gzip %v: body\n%s\nwant\n%s", zip, raw, want)
		}
		var b Body
		if err := json.Unmarshal(raw, &b); err != nil || len(b.Messages) != 3 {
			t.Errorf("unmarshal: %v %+v", err, b)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	base := func() Config {
		return Config{Name: "hook", URL: "http://127.0.0.1:9/in", Filters: []string{"a/#"}, Queue: storefwd.Limits{MaxBytes: 1 << 20}}
	}
	c := base()
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if c.BatchMessages != DefaultBatchMessages || c.BatchBytes != DefaultBatchBytes || c.BatchDelay != DefaultBatchDelay ||
		c.Timeout != DefaultTimeout || c.RetryMin != DefaultRetryMin || c.RetryMax != DefaultRetryMax || c.GatewayID != "edgemq" {
		t.Errorf("defaults: %+v", c)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no name", func(c *Config) { c.Name = "" }, "name"},
		{"slash in name", func(c *Config) { c.Name = "a/b" }, "name"},
		{"ftp", func(c *Config) { c.URL = "ftp://h/x" }, "want http"},
		{"no host", func(c *Config) { c.URL = "http:///x" }, "want http"},
		{"tls on http", func(c *Config) { c.TLS = &tls.Config{} }, "https"},
		{"no filters", func(c *Config) { c.Filters = nil }, "no filters"},
		{"bad filter", func(c *Config) { c.Filters = []string{"a/#/b"} }, "filter"},
		{"shared", func(c *Config) { c.Filters = []string{"$share/g/a"} }, "shared"},
		{"header name", func(c *Config) { c.Headers = map[string]string{"Bad Name": "x"} }, "header"},
		{"header value", func(c *Config) { c.Headers = map[string]string{"X-Token": "a\r\nb"} }, "header"},
		{"reserved header", func(c *Config) { c.Headers = map[string]string{"content-encoding": "br"} }, "set by the sink"},
		{"batch messages", func(c *Config) { c.BatchMessages = MaxBatchMessages + 1 }, "batch messages"},
		{"negative batch", func(c *Config) { c.BatchMessages = -1 }, "batch messages"},
		{"batch bytes", func(c *Config) { c.BatchBytes = -1 }, "batch bytes"},
		{"retry", func(c *Config) { c.RetryMin, c.RetryMax = time.Minute, time.Second }, "retry max"},
		{"negative delay", func(c *Config) { c.BatchDelay = -1 }, "negative"},
		{"rate", func(c *Config) { c.MaxRate = -1 }, "max rate"},
		{"queue", func(c *Config) { c.Queue.MaxBytes = 0 }, "queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			err := c.setDefaults()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
	// A secret never shows in an error.
	c = base()
	c.Headers = map[string]string{"Authorization": "Bearer s3cret\n"}
	if err := c.setDefaults(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("err = %v", err)
	}
	c = base()
	c.URL = "http://user:pw@h:1:2/x"
	if err := c.setDefaults(); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("err = %v", err)
	}
}

func TestPacer(t *testing.T) {
	var p pacer
	now := time.Unix(0, 0)
	if d := p.reserve(now, 0, 1000); d != 0 {
		t.Fatalf("no rate: wait %v", d)
	}
	// 100/s: a burst of 10, then 100 more take a second.
	if d := p.reserve(now, 100, 10); d != 0 {
		t.Fatalf("burst: wait %v", d)
	}
	if d := p.reserve(now, 100, 100); d != time.Second {
		t.Fatalf("after the burst: wait %v, want 1s", d)
	}
	now = now.Add(time.Second)
	if d := p.reserve(now, 100, 1); d != 10*time.Millisecond {
		t.Fatalf("paid back: wait %v, want 10ms", d)
	}
}

func TestNextBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	var got []time.Duration
	b := time.Duration(0)
	for range 6 {
		b = nextBackoff(b, lo, hi)
		got = append(got, b)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("back-off %v, want %v", got, want)
		}
	}
}
