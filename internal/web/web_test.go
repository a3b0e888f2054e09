package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// fixture is a broker with the HTTP side in front of it.
type fixture struct {
	t      *testing.T
	srv    *broker.Server
	mqtt   string
	web    *Server
	base   string
	client *http.Client
	csrf   string
}

type users map[string]string

func (u users) Login(user, pass string) bool { p, ok := u[user]; return ok && p == pass }

func start(t *testing.T, open bool) *fixture {
	t.Helper()
	srv, addr := brokertest.StartServer(t, broker.Options{})
	ws, err := New(Options{Address: "127.0.0.1:0", Open: open, Users: users{"alice": "secret"}, Version: "test",
		GatewayID: "gw", HistoryInterval: 200 * time.Millisecond, Logger: brokertest.TestLogger(t)},
		Sources{Broker: srv, Config: func() any { return map[string]any{"password": "[hidden]"} }})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ws.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	jar, _ := cookiejar.New(nil)
	return &fixture{t: t, srv: srv, mqtt: addr, web: ws, base: "http://" + ws.Addr().String(),
		client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do makes a request and decodes a JSON answer into out (if not nil).
func (f *fixture) do(method, path, body string, out any) int {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.csrf != "" {
		req.Header.Set("X-CSRF-Token", f.csrf)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			f.t.Fatalf("%s %s: %v in %q", method, path, err, data)
		}
	}
	return resp.StatusCode
}

func mqttClient(t *testing.T, addr, id string, will bool) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetAutoReconnect(false)
	if will {
		o.SetWill("wills/"+id, "gone", 1, false)
	}
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

func TestOpenModeAPI(t *testing.T) {
	f := start(t, true)
	var sess struct {
		User, CSRF string
		Open       bool
	}
	if code := f.do("GET", "/api/v1/session", "", &sess); code != 200 || !sess.Open || sess.CSRF == "" {
		t.Fatalf("session: %d %+v", code, sess)
	}
	c := mqttClient(t, f.mqtt, "sensor-1", true)
	if tok := c.Subscribe("cmd/sensor-1/#", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := c.Publish("sensors/kitchen/temp", 1, true, "21.5"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}

	var clients struct {
		Total   int
		Clients []struct {
			ID, Protocol  string
			Connected     bool
			Subscriptions []struct{ Filter string }
		}
	}
	f.do("GET", "/api/v1/clients", "", &clients)
	if clients.Total != 1 || clients.Clients[0].ID != "sensor-1" || !clients.Clients[0].Connected ||
		clients.Clients[0].Protocol != "3.1.1" || clients.Clients[0].Subscriptions[0].Filter != "cmd/sensor-1/#" {
		t.Errorf("clients %+v", clients)
	}

	var topics struct {
		Total  int
		Topics []struct {
			Topic, Payload string
			Messages       int
			Retained       bool
		}
	}
	f.do("GET", "/api/v1/topics?filter=sensors/%23", "", &topics)
	if topics.Total != 1 || topics.Topics[0].Topic != "sensors/kitchen/temp" || topics.Topics[0].Payload != "21.5" || !topics.Topics[0].Retained {
		t.Errorf("topics %+v", topics)
	}
	if code := f.do("GET", "/api/v1/topics?filter=a/%23/b", "", nil); code != 400 {
		t.Errorf("bad filter: %d, want 400", code)
	}

	var ret struct {
		Total    int
		Retained []struct{ Topic, Payload string }
	}
	f.do("GET", "/api/v1/retained", "", &ret)
	if ret.Total != 1 || ret.Retained[0].Payload != "21.5" {
		t.Errorf("retained %+v", ret)
	}
	// Actions need the CSRF token.
	if code := f.do("DELETE", "/api/v1/retained?topic=sensors/kitchen/temp", "", nil); code != 403 {
		t.Errorf("DELETE without the CSRF token: %d, want 403", code)
	}
	f.csrf = sess.CSRF
	if code := f.do("DELETE", "/api/v1/retained?topic=sensors/kitchen/temp", "", nil); code != 204 {
		t.Errorf("DELETE: %d, want 204", code)
	}
	if code := f.do("DELETE", "/api/v1/retained?topic=sensors/kitchen/temp", "", nil); code != 404 {
		t.Errorf("DELETE again: %d, want 404", code)
	}
	f.do("GET", "/api/v1/retained", "", &ret)
	if ret.Total != 0 {
		t.Errorf("retained after delete %+v", ret)
	}

	// Disconnect: the client goes, its will is published.
	w := mqttClient(t, f.mqtt, "watcher", false)
	wills := make(chan string, 1)
	w.Subscribe("wills/#", 1, func(_ mqtt.Client, m mqtt.Message) { wills <- string(m.Payload()) }).Wait()
	if code := f.do("POST", "/api/v1/clients/sensor-1/disconnect", "", nil); code != 204 {
		t.Fatalf("disconnect: %d", code)
	}
	select {
	case p := <-wills:
		if p != "gone" {
			t.Errorf("will %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Error("no will after an administrative disconnect")
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return !c.IsConnectionOpen() }, "client disconnected")
	if code := f.do("POST", "/api/v1/clients/nobody/disconnect", "", nil); code != 404 {
		t.Errorf("disconnect nobody: %d, want 404", code)
	}
	// Identifiers a path segment cannot carry go in the query.
	for _, id := range []string{".", "..", "a/b"} {
		c := mqttClient(t, f.mqtt, id, false)
		if code := f.do("POST", "/api/v1/clients/disconnect?id="+url.QueryEscape(id), "", nil); code != 204 {
			t.Fatalf("disconnect %q: %d", id, code)
		}
		brokertest.Eventually(t, 5*time.Second, func() bool { return !c.IsConnectionOpen() }, "client "+id+" disconnected")
	}
	if code := f.do("POST", "/api/v1/clients/disconnect", "", nil); code != 400 {
		t.Errorf("disconnect without an id: %d, want 400", code)
	}

	var ov struct {
		Version  string
		Clients  struct{ Connected int }
		Messages struct{ Received int }
	}
	f.do("GET", "/api/v1/overview", "", &ov)
	if ov.Version != "test" || ov.Clients.Connected != 1 || ov.Messages.Received < 1 {
		t.Errorf("overview %+v", ov)
	}
	var cfg map[string]any
	f.do("GET", "/api/v1/config", "", &cfg)
	if cfg["password"] != "[hidden]" {
		t.Errorf("config %v", cfg)
	}
	var hist struct {
		Points []struct{ T string }
	}
	brokertest.Eventually(t, 5*time.Second, func() bool {
		f.do("GET", "/api/v1/history", "", &hist)
		return len(hist.Points) >= 2
	}, "history points")
	if code := f.do("GET", "/api/v1/nothing", "", nil); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
}

func TestLoginMode(t *testing.T) {
	f := start(t, false)
	if code := f.do("GET", "/api/v1/overview", "", nil); code != 401 {
		t.Fatalf("overview without a session: %d, want 401", code)
	}
	if code := f.do("GET", "/metrics", "", nil); code != 401 {
		t.Fatalf("metrics without a session: %d, want 401", code)
	}
	if code := f.do("POST", "/api/v1/login", `{"username":"alice","password":"wrong"}`, nil); code != 401 {
		t.Fatalf("bad password: %d, want 401", code)
	}
	var sess struct{ User, CSRF string }
	if code := f.do("POST", "/api/v1/login", `{"username":"alice","password":"secret"}`, &sess); code != 200 || sess.User != "alice" || sess.CSRF == "" {
		t.Fatalf("login: %d %+v", code, sess)
	}
	u, _ := http.NewRequest("GET", f.base, nil)
	cookies := f.client.Jar.Cookies(u.URL)
	if len(cookies) != 1 || cookies[0].Name != sessionCookie {
		t.Fatalf("cookies %v", cookies)
	}
	if code := f.do("GET", "/api/v1/overview", "", nil); code != 200 {
		t.Fatalf("overview with a session: %d", code)
	}
	if code := f.do("POST", "/api/v1/logout", "", nil); code != 403 {
		t.Fatalf("logout without CSRF: %d, want 403", code)
	}
	f.csrf = sess.CSRF
	if code := f.do("POST", "/api/v1/logout", "", nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	if code := f.do("GET", "/api/v1/overview", "", nil); code != 401 {
		t.Fatalf("overview after logout: %d, want 401", code)
	}
	// The dashboard's own files need no session (the app shows the login).
	resp, err := f.client.Get(f.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("index: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestLoginLimiter(t *testing.T) {
	l := newLoginLimiter()
	for i := 0; i < loginFree; i++ {
		if d := l.wait("10.0.0.1"); d != 0 {
			t.Fatalf("attempt %d waits %v", i+1, d)
		}
		l.failed("10.0.0.1")
	}
	if d := l.wait("10.0.0.1"); d != loginPenalty {
		t.Fatalf("after %d failures: wait %v, want %v", loginFree, d, loginPenalty)
	}
	for range 100 {
		l.failed("10.0.0.1")
	}
	if d := l.wait("10.0.0.1"); d != loginMaxWait {
		t.Fatalf("wait %v, want the ceiling %v", d, loginMaxWait)
	}
	if d := l.wait("10.0.0.2"); d != 0 {
		t.Fatalf("another address waits %v", d)
	}
	l.succeeded("10.0.0.1")
	if d := l.wait("10.0.0.1"); d != 0 {
		t.Fatalf("after a success: wait %v", d)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	f := start(t, true)
	mqttClient(t, f.mqtt, "m1", false)
	resp, err := f.client.Get(f.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	for _, want := range []string{
		"# TYPE edgemq_broker_clients_connected gauge\nedgemq_broker_clients_connected 1\n",
		"# TYPE edgemq_broker_messages_received_total counter\n",
		`edgemq_build_info{version="test",gateway="gw"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, text)
		}
	}
	// Every line is a comment or "name[{labels}] value".
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# ") {
			continue
		}
		if f := strings.Fields(line); len(f) != 2 {
			t.Errorf("malformed sample line %q", line)
		}
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
		resp, err := f.client.Get(f.base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b)
		}
	}
}

func TestStream(t *testing.T) {
	f := start(t, true)
	req, _ := http.NewRequest("GET", f.base+"/api/v1/stream?filter=live/%23", nil)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	c := mqttClient(t, f.mqtt, "pub", false)
	go func() {
		for i := 0; i < 200; i++ { // far more than a stream may show per second
			c.Publish("live/x", 0, false, "v").Wait()
		}
		c.Publish("other/x", 0, false, "not streamed").Wait()
	}()
	events := make(map[string]int)
	sc := bufio.NewScanner(resp.Body)
	deadline := time.After(10 * time.Second)
	lines := make(chan string)
	go func() {
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for events["skipped"] == 0 || events["message"] < 5 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended: %v", events)
			}
			if ev, ok := strings.CutPrefix(line, "event: "); ok {
				events[ev]++
			}
			if strings.Contains(line, "not streamed") {
				t.Fatal("a message outside the filter was streamed")
			}
		case <-deadline:
			t.Fatalf("events %v: want messages and a skipped count", events)
		}
	}
}

func TestHostAndOriginChecks(t *testing.T) {
	f := start(t, true)
	// DNS rebinding: a page of evil.example whose name now resolves to
	// 127.0.0.1 sends its own Host.
	req, _ := http.NewRequest("GET", f.base+"/api/v1/session", nil)
	req.Host = "evil.example:8080"
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host in open mode: %d, want 421", resp.StatusCode)
	}
	var sess struct{ CSRF string }
	f.do("GET", "/api/v1/session", "", &sess)
	f.csrf = sess.CSRF
	req, _ = http.NewRequest("POST", f.base+"/api/v1/clients/x/disconnect", nil)
	req.Header.Set("X-CSRF-Token", sess.CSRF)
	req.Header.Set("Origin", "http://evil.example")
	resp, err = f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", resp.StatusCode)
	}
	if code := f.do("GET", "/api/v1/stream?filter=$share/g/%23", "", nil); code != 400 {
		t.Errorf("shared filter: %d, want 400", code)
	}
}

func TestMetricsBasicAuthAndSessionEnd(t *testing.T) {
	f := start(t, false)
	req, _ := http.NewRequest("GET", f.base+"/metrics", nil)
	req.SetBasicAuth("alice", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("metrics with Basic auth: %d", resp.StatusCode)
	}
	req.SetBasicAuth("alice", "wrong")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("metrics with a wrong password: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// A live stream ends when its session does.
	var sess struct{ CSRF string }
	f.do("POST", "/api/v1/login", `{"username":"alice","password":"secret"}`, &sess)
	resp, err = f.client.Get(f.base + "/api/v1/stream?filter=%23")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(ended) }()
	f.web.ResetSessions()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream outlived its session")
	}
	if code := f.do("GET", "/api/v1/overview", "", nil); code != 401 {
		t.Errorf("after ResetSessions: %d, want 401", code)
	}
}
