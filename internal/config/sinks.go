package config

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgemq/edgemq/broker/topic"
)

// Sink is one durable webhook sink (package bridge/webhook): the local
// messages matching its filters are queued on disk (the local
// publisher's PUBACK waits for that) and POSTed to URL in JSON batches;
// a batch leaves the queue only after a 2xx answer. Zero values take
// the sink's defaults.
type Sink struct {
	// Name names the sink and its queue; required, unique among sinks.
	Name string `yaml:"name"`
	// URL is the endpoint: http://host[:port]/path or https://...
	URL string `yaml:"url" redact:"url"`
	// Filters are the local topic filters whose messages are sent; at
	// least one. A message matching several is sent once.
	Filters []string `yaml:"filters"`
	// Headers are added to every request (e.g. Authorization); their
	// values are secrets, never shown.
	Headers map[string]Secret `yaml:"headers"`
	// TLS configures https:// endpoints.
	TLS SinkTLS `yaml:"tls"`
	// Gzip compresses the request bodies (Content-Encoding: gzip).
	Gzip bool `yaml:"gzip"`
	// Timeout bounds one request, answer included; 0: 10s.
	Timeout Duration `yaml:"timeout"`
	// Batch bounds one request.
	Batch SinkBatch `yaml:"batch"`
	// Pace bounds the sending rate (replay of a backlog included).
	Pace SinkPace `yaml:"pace"`
	// Queue bounds the sink's queue on disk.
	Queue SinkQueue `yaml:"queue"`
	// Retry bounds the back-off after a failed request.
	Retry SinkRetry `yaml:"retry"`
}

// SinkTLS configures the TLS connection of a sink (TLS 1.2 or later).
type SinkTLS struct {
	// CA is a PEM file of the CAs that verify the endpoint; empty: the
	// system's.
	CA string `yaml:"ca"`
	// Cert and Key are the PEM files of a client certificate; both or
	// neither.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ServerName verified in the endpoint's certificate; empty: the
	// url's host.
	ServerName string `yaml:"server_name"`
}

// SinkBatch bounds one request of a sink.
type SinkBatch struct {
	// MaxMessages per request; 0: 100.
	MaxMessages int `yaml:"max_messages"`
	// MaxBytes of topics and payloads per request (a larger message goes
	// alone); 0: 1MiB.
	MaxBytes Size `yaml:"max_bytes"`
	// MaxDelay is how long the first message of a batch waits for more;
	// 0: 1s.
	MaxDelay Duration `yaml:"max_delay"`
}

// SinkPace caps the sending of a sink; 0 is no limit.
type SinkPace struct {
	MessagesPerSecond int `yaml:"messages_per_second"`
}

// SinkQueue bounds a sink's queue, as BridgeQueue bounds a bridge's.
type SinkQueue struct {
	// MaxBytes bounds the queued topics and payloads; 0: 256MiB.
	MaxBytes Size `yaml:"max_bytes"`
	// WhenFull is drop_oldest (default) or reject_new.
	WhenFull string `yaml:"when_full"`
}

// SinkRetry bounds the back-off after a failed request (exponential,
// jittered); Max also bounds a Retry-After the endpoint asks for.
type SinkRetry struct {
	Min Duration `yaml:"min"` // 0: 1s
	Max Duration `yaml:"max"` // 0: 2m
}

// Defaults of a sink, as package bridge/webhook has them.
const (
	DefaultSinkQueueBytes    = 256 * MiB
	DefaultSinkBatchMessages = 100
	DefaultSinkBatchBytes    = 1 * MiB
	DefaultSinkBatchDelay    = Duration(time.Second)
	DefaultSinkTimeout       = Duration(10 * time.Second)
	maxSinkBatchMessages     = 10000
	maxSinkBatchBytes        = 64 * MiB
)

// sinkReservedHeaders are set by the sink itself.
var sinkReservedHeaders = []string{"Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Host"}

// fillSinkDefaults makes empty lists and maps nil, as fillDefaults does
// for the other sections, so that reloads compare equal.
func fillSinkDefaults(ss []Sink) {
	for i := range ss {
		if len(ss[i].Headers) == 0 {
			ss[i].Headers = nil
		}
		if len(ss[i].Filters) == 0 {
			ss[i].Filters = nil
		}
	}
}

func validateSinks(v *validator, ss []Sink) {
	names := make(map[string]bool)
	for i := range ss {
		s := &ss[i]
		path := "sinks[" + strconv.Itoa(i) + "]"
		switch {
		case s.Name == "":
			v.errorf(path+".name", "must not be empty")
		case len(s.Name) > maxIDLen:
			v.errorf(path+".name", "must be at most %d characters, got %d", maxIDLen, len(s.Name))
		case strings.IndexFunc(s.Name, func(r rune) bool { return !validIDRune(r) }) >= 0:
			v.errorf(path+".name", "may hold only letters, digits, '.', '_' and '-', got %q", s.Name)
		case names[s.Name]:
			v.errorf(path+".name", "duplicate sink name %q", s.Name)
		}
		names[s.Name] = true
		isHTTPS := checkSinkURL(v, path+".url", s.URL)
		if t := s.TLS; (t.CA != "" || t.Cert != "" || t.Key != "" || t.ServerName != "") && !isHTTPS {
			v.errorf(path+".tls", "needs an https:// url")
		}
		if (s.TLS.Cert == "") != (s.TLS.Key == "") {
			v.errorf(path+".tls.cert", "cert and key go together")
		}
		checkSinkFilters(v, path+".filters", s.Filters)
		checkSinkHeaders(v, path+".headers", s.Headers)
		if s.Timeout < 0 || s.Timeout > Duration(10*time.Minute) {
			v.errorf(path+".timeout", "must be 0 (default 10s) or up to 10m, got %s", s.Timeout)
		}
		if n := s.Batch.MaxMessages; n < 0 || n > maxSinkBatchMessages {
			v.errorf(path+".batch.max_messages", "must be 0 (default %d) or 1 to %d, got %d", DefaultSinkBatchMessages, maxSinkBatchMessages, n)
		}
		if b := s.Batch.MaxBytes; b != 0 {
			v.sizeBetween(path+".batch.max_bytes", b, KiB, maxSinkBatchBytes)
		}
		if d := s.Batch.MaxDelay; d < 0 || d > Duration(time.Hour) {
			v.errorf(path+".batch.max_delay", "must be 0 (default 1s) or up to 1h, got %s", d)
		}
		if s.Pace.MessagesPerSecond < 0 {
			v.errorf(path+".pace.messages_per_second", "must not be negative, got %d", s.Pace.MessagesPerSecond)
		}
		if q := s.Queue.MaxBytes; q != 0 {
			v.sizeBetween(path+".queue.max_bytes", q, 64*KiB, 1<<40)
		}
		if w := s.Queue.WhenFull; w != "" && !contains(bridgePolicies, w) {
			v.errorf(path+".queue.when_full", "want drop_oldest or reject_new, got %q%s", w, didYouMean(w, bridgePolicies))
		}
		if s.Retry.Min < 0 {
			v.errorf(path+".retry.min", "must not be negative, got %s", s.Retry.Min)
		}
		if s.Retry.Max < 0 || (s.Retry.Max != 0 && s.Retry.Max < s.Retry.Min) {
			v.errorf(path+".retry.max", "must be 0 (default 2m) or at least retry.min, got %s", s.Retry.Max)
		}
	}
}

// checkSinkURL checks an endpoint url and reports whether it is https.
// Messages never show a password the url may hold.
func checkSinkURL(v *validator, path, raw string) (isHTTPS bool) {
	if raw == "" {
		v.errorf(path, "missing; want http://host/path or https://host/path")
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		msg := err.Error()
		if ue, ok := err.(*url.Error); ok {
			msg = ue.Err.Error() // without the url itself
		}
		v.errorf(path, "invalid url: %s", msg)
		return false
	}
	shown := quote(u.Redacted())
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		v.errorf(path, "want an http:// or https:// url, got %s", shown)
	case u.Host == "" || u.Hostname() == "":
		v.errorf(path, "missing host in %s", shown)
	case u.Fragment != "":
		v.errorf(path, "must not have a #fragment, got %s", shown)
	default:
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				v.errorf(path, "port must be between 1 and 65535, got %q", p)
			}
		}
	}
	return u.Scheme == "https"
}

func checkSinkFilters(v *validator, path string, fs []string) {
	if len(fs) == 0 {
		v.errorf(path, "must list at least one topic filter")
		return
	}
	seen := make(map[string]bool)
	for j, f := range fs {
		p := path + "[" + strconv.Itoa(j) + "]"
		switch err := topic.ValidFilter(f); {
		case err != nil:
			v.errorf(p, "invalid filter %q: %v", f, err)
		case strings.HasPrefix(f, "$share/"):
			v.errorf(p, "a shared subscription filter %q cannot be a sink filter", f)
		case seen[f]:
			v.errorf(p, "duplicate filter %q", f)
		}
		seen[f] = true
	}
}

// checkSinkHeaders checks header names and values; a value is never
// shown, as it may be a secret.
func checkSinkHeaders(v *validator, path string, h map[string]Secret) {
	seen := make(map[string]string)
	for name, value := range h {
		p := keyPath(path, name)
		canon := http.CanonicalHeaderKey(name)
		switch {
		case !validHeaderName(name):
			v.errorf(p, "invalid header name %q", name)
		case contains(sinkReservedHeaders, canon):
			v.errorf(p, "%s is set by the sink itself", canon)
		case seen[canon] != "":
			v.errorf(p, "header %q given twice (as %q)", name, seen[canon])
		case strings.ContainsAny(string(value), "\r\n\x00"):
			v.errorf(p, "the value must not contain CR, LF or NUL")
		}
		seen[canon] = name
	}
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r) {
			continue
		}
		return false
	}
	return true
}

// checkSinkFiles reads the TLS files of the sinks (see CheckFiles).
func checkSinkFiles(v *validator, ss []Sink) {
	for i, s := range ss {
		p := fmt.Sprintf("sinks[%d].tls", i)
		if s.TLS.CA != "" {
			if _, err := LoadCertPool(s.TLS.CA); err != nil {
				v.errorf(p+".ca", "%v", err)
			}
		}
		if s.TLS.Cert != "" && s.TLS.Key != "" {
			if _, err := tls.LoadX509KeyPair(s.TLS.Cert, s.TLS.Key); err != nil {
				v.errorf(p+".cert", "%s with key %s: %v", s.TLS.Cert, s.TLS.Key, err)
			}
		}
	}
}
