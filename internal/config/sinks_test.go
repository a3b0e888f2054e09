package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseSinks decodes and validates a file holding only a sinks section,
// the way Parse does for the whole file.
func parseSinks(t *testing.T, data string) ([]Sink, error) {
	t.Helper()
	var x struct {
		Sinks []Sink `yaml:"sinks"`
	}
	d := newDecoder("sinks.yaml")
	d.decodeDocument([]byte(data), reflect.ValueOf(&x).Elem())
	if err := d.err(); err != nil {
		return nil, err
	}
	fillSinkDefaults(x.Sinks)
	v := newValidator(&meta{file: "sinks.yaml", lines: d.lines, keys: d.keys})
	validateSinks(v, x.Sinks)
	return x.Sinks, v.err()
}

func TestSinksValid(t *testing.T) {
	got, err := parseSinks(t, `sinks:
  - name: events
    url: https://user:pw@ingest.example.com:8443/edgemq?site=7
    filters: ["sensors/#", "alarms/+/active"]
    headers: {Authorization: "Bearer s3cret", X-Site: "7"}
    tls: {ca: /etc/edgemq/hook-ca.pem, cert: /etc/edgemq/gw1.pem, key: /etc/edgemq/gw1.key, server_name: ingest.example.com}
    gzip: true
    timeout: 5s
    batch: {max_messages: 500, max_bytes: 256KiB, max_delay: 250ms}
    pace: {messages_per_second: 200}
    queue: {max_bytes: 64MiB, when_full: reject_new}
    retry: {min: 500ms, max: 1m}
  - name: plain
    url: http://10.0.0.5/hook
    filters: ["#"]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sink{{
		Name: "events", URL: "https://user:pw@ingest.example.com:8443/edgemq?site=7",
		Filters: []string{"sensors/#", "alarms/+/active"},
		Headers: map[string]Secret{"Authorization": "Bearer s3cret", "X-Site": "7"},
		TLS:     SinkTLS{CA: "/etc/edgemq/hook-ca.pem", Cert: "/etc/edgemq/gw1.pem", Key: "/etc/edgemq/gw1.key", ServerName: "ingest.example.com"},
		Gzip:    true, Timeout: Duration(5 * time.Second),
		Batch: SinkBatch{MaxMessages: 500, MaxBytes: 256 * KiB, MaxDelay: Duration(250 * time.Millisecond)},
		Pace:  SinkPace{MessagesPerSecond: 200},
		Queue: SinkQueue{MaxBytes: 64 * MiB, WhenFull: "reject_new"},
		Retry: SinkRetry{Min: Duration(500 * time.Millisecond), Max: Duration(time.Minute)},
	}, {Name: "plain", URL: "http://10.0.0.5/hook", Filters: []string{"#"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestSinksInvalid(t *testing.T) {
	const ok = "    url: http://h/x\n    filters: [a/#]\n"
	for _, c := range []struct {
		name, yaml string
		want       string // the whole message of the one error
	}{
		{"no name", "  - url: http://h/x\n    filters: [a]\n", `sinks.yaml:2: sinks[0].name: must not be empty`},
		{"bad name", "  - name: a/b\n" + ok, `sinks.yaml:2: sinks[0].name: may hold only letters, digits, '.', '_' and '-', got "a/b"`},
		{"duplicate", "  - name: a\n" + ok + "  - name: a\n" + ok, `sinks.yaml:5: sinks[1].name: duplicate sink name "a"`},
		{"no url", "  - name: a\n    filters: [a]\n", `sinks.yaml:2: sinks[0].url: missing; want http://host/path or https://host/path`},
		{"scheme", "  - name: a\n    url: mqtt://h:1883\n    filters: [a]\n", `sinks.yaml:3: sinks[0].url: want an http:// or https:// url, got "mqtt://h:1883"`},
		{"no host", "  - name: a\n    url: http:///x\n    filters: [a]\n", `sinks.yaml:3: sinks[0].url: missing host in "http:///x"`},
		{"port", "  - name: a\n    url: http://h:99999/x\n    filters: [a]\n", `sinks.yaml:3: sinks[0].url: port must be between 1 and 65535, got "99999"`},
		{"fragment", "  - name: a\n    url: http://h/x#y\n    filters: [a]\n", `sinks.yaml:3: sinks[0].url: must not have a #fragment, got "http://h/x#y"`},
		{"password hidden", "  - name: a\n    url: ftp://u:hunter2@h/x\n    filters: [a]\n", `sinks.yaml:3: sinks[0].url: want an http:// or https:// url, got "ftp://u:xxxxx@h/x"`},
		{"unparsable", "  - name: a\n    url: \"http://h:1:2/x\"\n    filters: [a]\n", `sinks.yaml:3: sinks[0].url: invalid url: invalid port ":1:2" after host`},
		{"tls on http", "  - name: a\n" + ok + "    tls: {ca: /ca.pem}\n", `sinks.yaml:5: sinks[0].tls: needs an https:// url`},
		{"cert without key", "  - name: a\n    url: https://h/x\n    filters: [a]\n    tls: {cert: /c.pem}\n", `sinks.yaml:5: sinks[0].tls.cert: cert and key go together`},
		{"no filters", "  - name: a\n    url: http://h/x\n", `sinks.yaml:2: sinks[0].filters: must list at least one topic filter`},
		{"empty filters", "  - name: a\n    url: http://h/x\n    filters: []\n", `sinks.yaml:4: sinks[0].filters: must list at least one topic filter`},
		{"bad filter", "  - name: a\n    url: http://h/x\n    filters: [a/#/b]\n", `sinks.yaml:4: sinks[0].filters[0]: invalid filter "a/#/b": `},
		{"shared filter", "  - name: a\n    url: http://h/x\n    filters: [$share/g/a]\n", `sinks.yaml:4: sinks[0].filters[0]: a shared subscription filter "$share/g/a" cannot be a sink filter`},
		{"duplicate filter", "  - name: a\n    url: http://h/x\n    filters: [a, b, a]\n", `sinks.yaml:4: sinks[0].filters[2]: duplicate filter "a"`},
		{"header name", "  - name: a\n" + ok + "    headers: {\"X Bad\": v}\n", `sinks.yaml:5: sinks[0].headers."X Bad": invalid header name "X Bad"`},
		{"reserved header", "  - name: a\n" + ok + "    headers: {content-encoding: br}\n", `sinks.yaml:5: sinks[0].headers.content-encoding: Content-Encoding is set by the sink itself`},
		{"header value", "  - name: a\n" + ok + "    headers: {Authorization: \"Bearer s3cret\\r\\nX: y\"}\n", `sinks.yaml:5: sinks[0].headers.Authorization: the value must not contain CR, LF or NUL`},
		{"timeout", "  - name: a\n" + ok + "    timeout: 11m\n", `sinks.yaml:5: sinks[0].timeout: must be 0 (default 10s) or up to 10m, got 11m0s`},
		{"batch messages", "  - name: a\n" + ok + "    batch: {max_messages: -5}\n", `sinks.yaml:5: sinks[0].batch.max_messages: must be 0 (default 100) or 1 to 10000, got -5`},
		{"batch too many", "  - name: a\n" + ok + "    batch: {max_messages: 20000}\n", `sinks.yaml:5: sinks[0].batch.max_messages: must be 0 (default 100) or 1 to 10000, got 20000`},
		{"batch bytes", "  - name: a\n" + ok + "    batch: {max_bytes: 100}\n", `sinks.yaml:5: sinks[0].batch.max_bytes: must be between 1KiB and 64MiB, got 100B (a size without a unit is in bytes)`},
		{"batch delay", "  - name: a\n" + ok + "    batch: {max_delay: 2h}\n", `sinks.yaml:5: sinks[0].batch.max_delay: must be 0 (default 1s) or up to 1h, got 2h0m0s`},
		{"pace", "  - name: a\n" + ok + "    pace: {messages_per_second: -1}\n", `sinks.yaml:5: sinks[0].pace.messages_per_second: must not be negative, got -1`},
		{"queue bytes", "  - name: a\n" + ok + "    queue: {max_bytes: 1KiB}\n", `sinks.yaml:5: sinks[0].queue.max_bytes: must be between 64KiB and 1TiB, got 1KiB`},
		{"policy", "  - name: a\n" + ok + "    queue: {when_full: drop_old}\n", `sinks.yaml:5: sinks[0].queue.when_full: want drop_oldest or reject_new, got "drop_old" (did you mean "drop_oldest"?)`},
		{"retry", "  - name: a\n" + ok + "    retry: {min: 10s, max: 1s}\n", `sinks.yaml:5: sinks[0].retry.max: must be 0 (default 2m) or at least retry.min, got 1s`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseSinks(t, "sinks:\n"+c.yaml)
			if err == nil {
				t.Fatalf("accepted:\n%s", c.yaml)
			}
			errs := Errors(err)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), c.want) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
			for _, secret := range []string{"s3cret", "hunter2"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

// TestSinksDecode: unknown keys and wrong types are refused by the
// decoder, with suggestions.
func TestSinksDecode(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"  - name: a\n    url: http://h/x\n    filters: [a]\n    batch: {max_mesages: 5}\n", `did you mean "max_messages"?`},
		{"  - name: a\n    url: http://h/x\n    filters: [a]\n    timeout: 5\n", "sinks[0].timeout"},
		{"  - name: a\n    url: http://h/x\n    filters: [a]\n    retry: {min: -1s}\n", "sinks[0].retry.min"},
		{"  - name: a\n    url: http://h/x\n    filters: a/#\n", "sinks[0].filters"},
	} {
		_, err := parseSinks(t, "sinks:\n"+c.yaml)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestSinkFiles(t *testing.T) {
	v := newValidator(nil)
	checkSinkFiles(v, []Sink{{Name: "a", TLS: SinkTLS{CA: "/nonexistent/ca.pem", Cert: "/nonexistent/c.pem", Key: "/nonexistent/c.key"}}})
	err := v.err()
	if err == nil || len(Errors(err)) != 2 || !strings.Contains(err.Error(), "sinks[0].tls.ca") || !strings.Contains(err.Error(), "sinks[0].tls.cert") {
		t.Errorf("err = %v", err)
	}
}
