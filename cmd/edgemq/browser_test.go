package main

// Browser tests: headless Chromium drives the dashboard of the real
// binary. Each test also fails when the page asks for anything outside
// the gateway's origin or throws an uncaught exception (see newBrowser).
// Screenshots go to $EDGEMQ_TEST_OUTPUT or test-output/dashboard.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// startOpenGateway starts the binary with the YAML extra after an open
// dashboard on a free port, and returns it with its MQTT address and
// the dashboard's base URL.
func startOpenGateway(t *testing.T, extra string) (*gateway, string, string) {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: browser-gw}
broker:
  listeners: [{type: tcp, address: %q}]
storage: {dir: %q}
http: {address: "127.0.0.1:0", open: true}
%s`, addr, filepath.Join(dir, "data"), extra)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	return g, addr, "http://" + httpAddr(t, g)
}

// TestBrowserLogin: with a closed dashboard the browser gets the login
// form; a wrong password shows an error, the right one the overview, and
// logging out the form again.
func TestBrowserLogin(t *testing.T) {
	dir := t.TempDir()
	pw := auth.NewPasswords()
	if err := pw.Set("alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "passwd")
	if err := pw.Save(pwFile); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: browser-gw}
broker:
  listeners: [{type: tcp, address: %q, allow_anonymous: true}]
  auth:
    password_file: %q
    roles:
      - {name: ops, admin: true, allow: [{topic: "#"}]}
      - {name: sensors, allow: [{topic: "#"}]}
    users: {alice: [ops]}
    anonymous_roles: [sensors]
storage: {dir: %q}
http: {address: "127.0.0.1:0", open: false}
`, addr, pwFile, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	base := "http://" + httpAddr(t, g)
	b := newBrowser(t, base)

	b.open(true)
	if b.exists("#page-overview:not([hidden])") {
		t.Fatal("the overview shows before a login")
	}
	b.screenshot("login")

	b.typeInto("form#login input[name=username]", "alice")
	b.typeInto("form#login input[name=password]", "wrong")
	b.run("submit a wrong password", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	b.waitJS("#login-error", `document.querySelector("#login-error").textContent.trim() !== ""`)
	t.Logf("wrong password: %q", b.text("#login-error"))
	if b.exists("#page-overview:not([hidden])") {
		t.Fatal("the overview shows after a wrong password")
	}
	b.screenshot("login-error")

	b.typeInto("form#login input[name=password]", "s3cret")
	b.run("submit the right password", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	b.waitPage("overview")
	b.waitJS("the version", `(() => { const v = document.querySelector('#page-overview [data-field="version"]').textContent.trim(); return v !== "" && v !== "–"; })()`)
	b.waitText("#user", "alice")
	if got := b.text("#login-error"); got != "" {
		t.Errorf("login error still shown after the login: %q", got)
	}
	if !b.exists("svg#chart-messages") {
		t.Error("no svg#chart-messages on the overview")
	}
	t.Logf("version %q, clients connected %q", b.text(`#page-overview [data-field="version"]`), b.text(`#page-overview [data-field="clients-connected"]`))
	b.screenshot("overview")

	b.run("log out", chromedp.Click(chromedp.CSS("#logout")))
	b.run("login form after the logout", chromedp.WaitVisible(chromedp.CSS("form#login")))
	b.waitJS("login view", `document.body.dataset.view === "login" && document.querySelector("#page-overview").hidden && document.querySelector("#nav").hidden`)
	// The session is gone on the server too: a reload shows the form.
	b.open(true)
	if !b.sawRequest("/app.js") {
		t.Errorf("no request for %s/app.js seen: the request listener does not work", base)
	}
}

// TestBrowserLiveAndRetained: a connected client on the Clients page,
// messages in the live stream, and a retained message deleted from the
// Topics page.
func TestBrowserLiveAndRetained(t *testing.T) {
	_, addr, base := startOpenGateway(t, "")
	const id = "browser-client"
	pub := browserMQTT(t, addr, id, nil)
	b := newBrowser(t, base)
	b.open(false)
	b.waitText("#user", "open access")
	if !b.exists("#logout[hidden]") {
		t.Error("open mode shows #logout")
	}

	// Clients
	b.goTo("clients")
	row := fmt.Sprintf(`table#clients tr[data-client-id=%q]`, id)
	b.waitJS("client row "+id, fmt.Sprintf(`(() => { const td = document.querySelector(%q); return !!td && td.textContent.startsWith("yes"); })()`, row+` td[data-field="connected"]`))
	if !b.exists(row + " button.disconnect") {
		t.Errorf("no disconnect button for %s", id)
	}
	b.screenshot("clients")
	// The button works for any identifier, ".." too (which a URL path
	// segment cannot carry).
	dots := browserMQTT(t, addr, "..", nil)
	dotsRow := `table#clients tr[data-client-id=".."]`
	b.waitJS("client row ..", fmt.Sprintf(`document.querySelector(%q) !== null`, dotsRow+" button.disconnect"))
	b.run("disconnect ..", chromedp.Click(chromedp.CSS(dotsRow+" button.disconnect")))
	deadline := time.Now().Add(waitTimeout)
	for dots.IsConnectionOpen() {
		if time.Now().After(deadline) {
			t.Fatalf("client .. still connected after its disconnect button was clicked\n%s", b.state())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Live: the page streams "#" on arrival; restart it with sensors/#.
	b.goTo("live")
	b.typeInto("input#live-filter", "sensors/#")
	b.run("start the stream", chromedp.Click(chromedp.CSS("button#live-start")))
	b.waitText("#live-status", "receiving")
	// The subscription may follow the stream's open event: publish until
	// the first message shows.
	deadline = time.Now().Add(waitTimeout)
	for i := 0; ; i++ {
		mqttPublish(t, pub, "sensors/probe", fmt.Sprintf("probe-%d", i), false)
		if b.pollFor(250*time.Millisecond, `document.querySelector('ul#live-messages li[data-topic="sensors/probe"]') !== null`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live message for sensors/probe\n%s", b.state())
		}
	}
	mqttPublish(t, pub, "other/ignored", "not for sensors/#", false)
	msgs := map[string]string{"sensors/kitchen/temp": "21.5", "sensors/door": "open", "sensors/hall/humidity": "48"}
	for _, topic := range []string{"sensors/kitchen/temp", "sensors/door", "sensors/hall/humidity"} {
		mqttPublish(t, pub, topic, msgs[topic], false)
	}
	for topic, payload := range msgs {
		b.waitText(fmt.Sprintf(`ul#live-messages li[data-topic=%q] .payload`, topic), payload)
	}
	// In order after other/ignored, so that would show by now.
	if b.exists(`ul#live-messages li[data-topic="other/ignored"]`) {
		t.Error("the sensors/# stream shows other/ignored")
	}
	b.screenshot("live")
	b.run("stop the stream", chromedp.Click(chromedp.CSS("button#live-stop")))
	b.waitText("#live-status", "stopped")

	// A retained message on Topics, deleted with two clicks.
	const rt = "sensors/retained/door"
	mqttPublish(t, pub, rt, "closed", true)
	b.goTo("topics")
	rrow := fmt.Sprintf(`table#retained tr[data-topic=%q]`, rt)
	b.waitText(rrow+" td.payload", "closed")
	b.waitText(fmt.Sprintf(`table#topics tr[data-topic=%q] td.payload`, "sensors/kitchen/temp"), "21.5")
	b.screenshot("topics")
	b.run("first delete click", chromedp.Click(chromedp.CSS(rrow+" button.delete-retained")))
	b.waitText(rrow+" button.delete-retained", "Confirm delete")
	b.run("confirm the delete", chromedp.Click(chromedp.CSS(rrow+" button.delete-retained")))
	b.waitGone(rrow)
	if !b.exists("#error[hidden]") {
		t.Errorf("error banner after the delete: %s", b.text("#error-text"))
	}

	// Gone from the API...
	resp, err := http.Get(base + "/api/v1/retained")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Total    int
		Retained []struct{ Topic string }
	}
	err = json.NewDecoder(resp.Body).Decode(&r)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/retained: %d %v", resp.StatusCode, err)
	}
	for _, m := range r.Retained {
		if m.Topic == rt {
			t.Errorf("%s still retained: %+v", rt, r)
		}
	}
	// ...and from MQTT: a new subscriber gets no retained message before
	// a message published after its subscription.
	var mu sync.Mutex
	var got []string
	sub := browserMQTT(t, addr, "browser-check", nil)
	if tok := sub.Subscribe(rt, 1, func(_ mqtt.Client, m mqtt.Message) {
		mu.Lock()
		got = append(got, fmt.Sprintf("%s retain=%v", m.Payload(), m.Retained()))
		mu.Unlock()
	}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	mqttPublish(t, pub, rt, "marker", false)
	brokertest.Eventually(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1] == "marker retain=false"
	}, "the marker message")
	mu.Lock()
	if len(got) != 1 {
		t.Errorf("a new subscriber to %s got %q, want only the marker", rt, got)
	}
	mu.Unlock()
}

// TestBrowserBridgeBacklog: with the uplink (a real Mosquitto) down the
// Bridges page shows the bridge disconnected and the backlog growing to
// what was published; with the uplink back it drains to 0.
func TestBrowserBridgeBacklog(t *testing.T) {
	const n = 50
	up := startUplink(t, "mosquitto")
	sub := startUplinkSubscriber(t, up.addr, "browser-backlog-sub", "site/#")
	sub.waitFor(t, up.addr, "site/probe")
	up.stop()
	_, addr, base := startOpenGateway(t, fmt.Sprintf(`bridges:
  - name: cloud
    address: tcp://%s
    out:
      - {local: "sensors/#", remote: "site/sensors/#", qos: 1}
    reconnect: {min: 100ms, max: 300ms}
`, up.addr))
	pub := browserMQTT(t, addr, "browser-backlog-pub", nil)
	for i := range n {
		mqttPublish(t, pub, fmt.Sprintf("sensors/b%d", i), fmt.Sprintf("v%d", i), false)
	}

	b := newBrowser(t, base)
	b.open(false)
	b.goTo("bridges")
	row := `table#bridges tr[data-bridge="cloud"]`
	b.waitText(row+` td[data-field="queue-messages"]`, fmt.Sprint(n))
	b.waitText(row+` td[data-field="connected"]`, "no")
	t.Logf("uplink down: last error %q", b.text(row+` td[data-field="last-error"]`))
	if !b.exists("svg#chart-queues") || !b.exists("table#sinks") {
		t.Error("no svg#chart-queues or table#sinks on the Bridges page")
	}
	b.screenshot("bridges-backlog")

	up.start()
	b.waitText(row+` td[data-field="queue-messages"]`, "0")
	b.waitText(row+` td[data-field="connected"]`, "yes")
	b.waitText(row+` td[data-field="forwarded"]`, fmt.Sprint(n))
	b.waitJS("the queue chart", `document.querySelector("svg#chart-queues").childElementCount > 0`)
	b.screenshot("bridges")

	// The backlog reached the uplink.
	brokertest.Eventually(t, 20*time.Second, func() bool {
		seen := map[string]bool{}
		for _, l := range sub.got() {
			if strings.HasPrefix(l, "site/sensors/b") {
				seen[l] = true
			}
		}
		return len(seen) == n
	}, fmt.Sprintf("%d messages at the uplink", n))
}

// TestBrowserDevices: a simulated gpio_in device online on the Devices
// page; the configuration on the Config page.
func TestBrowserDevices(t *testing.T) {
	_, _, base := startOpenGateway(t, `hardware: simulated
devices:
  - {id: door, type: gpio_in, pin: GPIO17}
`)
	b := newBrowser(t, base)
	b.open(false)
	b.screenshot("overview-open")
	b.goTo("devices")
	row := `table#devices tr[data-device="door"]`
	b.waitText(row+` td[data-field="online"]`, "yes")
	b.waitText(row+` td[data-field="values"]`, "state=ON")
	b.screenshot("devices")

	b.goTo("config")
	b.waitJS("the configuration", `document.querySelector("pre#config").textContent.includes('"door"')`)
	b.screenshot("config")
}
