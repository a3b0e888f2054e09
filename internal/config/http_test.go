package config

import (
	"strings"
	"testing"
)

func TestHTTPSection(t *testing.T) {
	tests := []struct {
		yaml     string
		wantErr  string
		loopback bool
		open     bool
	}{
		{yaml: "", loopback: true, open: true},
		{yaml: "http: {address: \"[::1]:9000\"}", loopback: true, open: true},
		{yaml: "http: {address: \"localhost:9000\", open: false}", loopback: true, open: false},
		{yaml: "http: {address: \"0.0.0.0:8080\"}", loopback: false, open: false},
		{yaml: "http: {address: \"192.168.1.5:8080\", open: true}", loopback: false, open: false},
		{yaml: "http: {address: \"\"}", loopback: false, open: false},
		{yaml: "http: {address: \"127.0.0.1\"}", wantErr: "edgemq.yaml:1: http.address: missing port"},
		{yaml: "http: {address: \"127.0.0.1:8080\", cert: /x.pem}", wantErr: "http.cert: cert and key go together"},
	}
	for _, tt := range tests {
		c, err := Parse("edgemq.yaml", []byte(tt.yaml))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.yaml, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		if c.HTTP.Loopback() != tt.loopback || c.HTTP.OpenAccess() != tt.open {
			t.Errorf("%q: loopback %v open access %v, want %v %v", tt.yaml, c.HTTP.Loopback(), c.HTTP.OpenAccess(), tt.loopback, tt.open)
		}
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c, err := Parse("edgemq.yaml", []byte(`bridges:
  - {name: up, address: "tcp://127.0.0.1:1883", password: hunter2, out: [{local: "a/#", remote: "b/#"}]}
sinks:
  - {name: s, url: "https://bob:hunter3@127.0.0.1:1/x?api_key=TOPSECRET", filters: ["a/#"], headers: {Authorization: "Bearer topsecret"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted().(map[string]any)
	b := r["bridges"].([]any)[0].(map[string]any)
	if b["password"] != "[hidden]" || b["address"] != "tcp://127.0.0.1:1883" {
		t.Errorf("bridge %v", b)
	}
	h := r["sinks"].([]any)[0].(map[string]any)["headers"].(map[string]any)
	if h["Authorization"] != "[hidden]" {
		t.Errorf("sink headers %v", h)
	}
	if u := r["sinks"].([]any)[0].(map[string]any)["url"]; u != "https://bob:xxxxx@127.0.0.1:1/x?api_key=hidden" {
		t.Errorf("sink url %v", u)
	}
	if r["broker"].(map[string]any)["sys_interval"] != "10s" {
		t.Errorf("durations as text: %v", r["broker"].(map[string]any)["sys_interval"])
	}
}
