package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// httpAddr waits for the gateway's "http listening" log line and
// returns the address it names.
func httpAddr(t *testing.T, g *gateway) string {
	t.Helper()
	re := regexp.MustCompile(`msg="http listening" component=http address=(\S+)`)
	var addr string
	brokertest.Eventually(t, 10*time.Second, func() bool {
		m := re.FindStringSubmatch(g.log.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, "http listening\n"+g.log.String())
	return addr
}

// TestHTTPEndToEnd: the finished binary's HTTP side with a login from
// the password file, a bridge whose uplink is down, a simulated device
// and the metrics.
func TestHTTPEndToEnd(t *testing.T) {
	dir := t.TempDir()
	pw := auth.NewPasswords()
	if err := pw.Set("alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := pw.Set("bob", "s3cret"); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "passwd")
	if err := pw.Save(pwFile); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: gw}
broker:
  listeners: [{type: tcp, address: %q, allow_anonymous: true}]
  auth:
    password_file: %q
    roles:
      - {name: ops, admin: true, allow: [{topic: "#"}]}
      - {name: sensors, allow: [{topic: "#"}]}
    users: {alice: [ops], bob: [sensors]}
    anonymous_roles: [sensors]
storage: {dir: %q}
bridges:
  - {name: up, address: "tcp://127.0.0.1:1", password: hunter2, out: [{local: "sensors/#", remote: "x/sensors/#", qos: 1}]}
hardware: simulated
devices:
  - {id: door, type: gpio_in, pin: GPIO17}
http: {address: "127.0.0.1:0", open: false}
`, addr, pwFile, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	base := "http://" + httpAddr(t, g)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	csrf := ""
	do := func(method, path, body string, out any) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				if s, ok := out.(*string); ok {
					*s = string(data)
				} else {
					t.Fatalf("%s %s: %v: %q", method, path, err, data)
				}
			}
		}
		return resp.StatusCode
	}

	if code := do("GET", "/api/v1/bridges", "", nil); code != 401 {
		t.Fatalf("without a login: %d, want 401", code)
	}
	if code := do("POST", "/api/v1/login", `{"username":"bob","password":"s3cret"}`, nil); code != 401 {
		t.Fatalf("bob has no admin role: login %d, want 401", code)
	}
	var sess struct{ User, CSRF string }
	if code := do("POST", "/api/v1/login", `{"username":"alice","password":"s3cret"}`, &sess); code != 200 {
		t.Fatalf("alice: login %d", code)
	}
	csrf = sess.CSRF

	pub := mqttPublisher(t, addr)
	for i := range 5 {
		pub(fmt.Sprintf("sensors/t%d", i), "21.5")
	}
	var br struct {
		Bridges []struct {
			Name      string
			Connected bool
			LastError string `json:"last_error"`
			Queue     struct{ Messages int }
		}
	}
	brokertest.Eventually(t, 10*time.Second, func() bool {
		do("GET", "/api/v1/bridges", "", &br)
		return len(br.Bridges) == 1 && br.Bridges[0].Queue.Messages == 5 && br.Bridges[0].LastError != ""
	}, "bridge queue of 5 with its error")
	if br.Bridges[0].Connected {
		t.Error("bridge to a closed port shown connected")
	}
	var devs struct {
		Devices []struct {
			ID     string
			Values map[string]string
		}
	}
	brokertest.Eventually(t, 10*time.Second, func() bool {
		do("GET", "/api/v1/devices", "", &devs)
		// Pulled up, not active low: the undriven input reads ON.
		return len(devs.Devices) == 1 && devs.Devices[0].Values["state"] == "ON"
	}, "device value")
	var cfgJSON map[string]any
	do("GET", "/api/v1/config", "", &cfgJSON)
	raw, _ := json.Marshal(cfgJSON)
	if strings.Contains(string(raw), "hunter2") || !strings.Contains(string(raw), "[hidden]") {
		t.Errorf("config shows a secret or hides nothing: %s", raw)
	}
	var metrics string
	do("GET", "/metrics", "", &metrics)
	for _, want := range []string{`edgemq_bridge_queue_messages{bridge="up"} 5`, `edgemq_device_online{device="door",type="gpio_in"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	var ready string
	if code := do("GET", "/readyz", "", &ready); code != 200 {
		t.Errorf("readyz %d %q", code, ready)
	}
}
