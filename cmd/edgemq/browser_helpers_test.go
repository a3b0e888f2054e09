package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker/brokertest"
)

// browserTimeout bounds everything one test does in the browser.
const browserTimeout = 60 * time.Second

// waitTimeout bounds one wait for a DOM state.
const waitTimeout = 20 * time.Second

// browser is a headless Chromium tab on the dashboard of one gateway. It
// records every request the page makes outside the gateway's origin and
// every uncaught JavaScript exception; either fails the test.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the gateway's origin, "http://127.0.0.1:port"

	mu         sync.Mutex
	requests   []string // every URL the page asked for
	foreign    []string // those outside base (and not data:)
	exceptions []string
}

// newBrowser starts Chromium (skipping the test when it is not installed)
// with a fresh profile. Its context ends after browserTimeout; Cleanup
// closes the browser and checks the requests and exceptions seen.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	brokertest.RequireTool(t, "chromium")
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	timeoutCtx, cancelTimeout := context.WithTimeout(allocCtx, browserTimeout)
	b := &browser{t: t, base: strings.TrimSuffix(base, "/")}
	ctx, cancelTab := chromedp.NewContext(timeoutCtx,
		chromedp.WithLogf(t.Logf),
		// From the tab's first event on: runs in the tab's event loop,
		// so it only records.
		chromedp.WithListener(func(ev any) {
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				if ev.Request != nil {
					b.request(ev.Request.URL)
				}
			case *runtime.EventExceptionThrown:
				msg := "exception"
				if d := ev.ExceptionDetails; d != nil {
					msg = d.Text
					if d.Exception != nil && d.Exception.Description != "" {
						msg += ": " + d.Exception.Description
					}
				}
				b.mu.Lock()
				b.exceptions = append(b.exceptions, msg)
				b.mu.Unlock()
			}
		}),
	)
	b.ctx = ctx
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
		cancelAlloc() // waits for the browser to exit
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.foreign) > 0 {
			t.Errorf("the page made requests outside the gateway's origin %s: %q", b.base, b.foreign)
		}
		if len(b.exceptions) > 0 {
			t.Errorf("uncaught JavaScript exceptions: %q", b.exceptions)
		}
	})
	// Start the browser now: a missing or broken Chromium shows here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) request(url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, url)
	if url != b.base && !strings.HasPrefix(url, b.base+"/") && !strings.HasPrefix(url, "data:") {
		b.foreign = append(b.foreign, url)
	}
}

// sawRequest reports whether the page asked for the URL base+path.
func (b *browser) sawRequest(path string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.requests {
		if u == b.base+path {
			return true
		}
	}
	return false
}

// run runs the actions, failing the test with what with the page's
// state on an error.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.state())
	}
}

// state describes the page for a failure message.
func (b *browser) state() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		hash: location.hash, view: document.body.dataset.view, page: document.body.dataset.page,
		ready: document.body.dataset.ready,
		error: document.querySelector('#error').hidden ? '' : document.querySelector('#error-text').textContent,
		loginError: document.querySelector('#login-error').textContent})`))
	if err != nil {
		return fmt.Sprintf("(page state unavailable: %v)", err)
	}
	return "page state: " + s
}

// waitJS waits until the JavaScript expression is true.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	if err := b.poll(expr); err != nil {
		b.t.Fatalf("waiting for %s: %v\n%s", what, err, b.state())
	}
}

func (b *browser) poll(expr string) error {
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	return err
}

// pollFor reports whether expr became true within d.
func (b *browser) pollFor(d time.Duration, expr string) bool {
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil && b.ctx.Err() != nil {
		b.t.Fatalf("browser context: %v", err)
	}
	return err == nil
}

// eval evaluates expr and returns its result.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v\n%s", expr, err, b.state())
	}
	return v
}

// open loads the dashboard and waits for its first render: the login
// form (wantLogin) or the overview.
func (b *browser) open(wantLogin bool) {
	b.t.Helper()
	b.run("open "+b.base, chromedp.Navigate(b.base+"/"))
	if wantLogin {
		b.run("login form", chromedp.WaitVisible(chromedp.CSS("form#login")))
		b.waitJS("login view", `document.body.dataset.view === "login"`)
		return
	}
	b.waitPage("overview")
}

// waitPage waits until page is the current page and has rendered.
func (b *browser) waitPage(page string) {
	b.t.Helper()
	b.waitJS(page+" rendered", fmt.Sprintf(`document.body.dataset.view === "app" && document.body.dataset.page === %q && document.body.dataset.ready === "1"`, page))
	b.run(page+" visible", chromedp.WaitVisible(chromedp.CSS("#page-"+page)))
}

// goTo clicks the page's link in the navigation and waits for its first
// render.
func (b *browser) goTo(page string) {
	b.t.Helper()
	b.run("click "+page, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#nav a[href="#/%s"]`, page))))
	b.waitPage(page)
}

// text returns the text of the element sel matches ("" when none).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {textContent: ""}).textContent.trim()`, strconv.Quote(sel)))
}

// waitText waits until the element sel matches exists with the text want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	err := b.poll(fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.textContent.trim() === %s; })()`,
		strconv.Quote(sel), strconv.Quote(want)))
	if err != nil {
		b.t.Fatalf("waiting for %s to read %q (it reads %q): %v\n%s", sel, want, b.text(sel), err, b.state())
	}
}

// waitGone waits until nothing matches sel.
func (b *browser) waitGone(sel string) {
	b.t.Helper()
	b.waitJS(sel+" gone", fmt.Sprintf(`document.querySelector(%s) === null`, strconv.Quote(sel)))
}

// exists reports whether something matches sel.
func (b *browser) exists(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`document.querySelector(%s) !== null`, strconv.Quote(sel)))
}

// typeInto replaces the value of the input sel with s, by key presses.
func (b *browser) typeInto(sel, s string) {
	b.t.Helper()
	// Not chromedp.Clear: it resets the value attribute, which leaves an
	// input the user typed into unchanged.
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); e.value = ""; return true; })()`, strconv.Quote(sel)))
	b.run("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), s))
	if got := eval[string](b, fmt.Sprintf(`document.querySelector(%s).value`, strconv.Quote(sel))); got != s {
		b.t.Fatalf("%s holds %q after typing %q", sel, got, s)
	}
}

// screenshot saves a full-page PNG as name.png in the output directory:
// $EDGEMQ_TEST_OUTPUT, or test-output/dashboard in the repository.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("EDGEMQ_TEST_OUTPUT")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-output", "dashboard")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	b.t.Logf("screenshot %s: %s", name, path)
}

// browserMQTT connects a paho client with the client id id to addr.
func browserMQTT(t *testing.T, addr, id string, handler mqtt.MessageHandler) mqtt.Client {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).SetOrderMatters(true).
		SetAutoReconnect(false).SetConnectRetry(false)
	if handler != nil {
		opts.SetDefaultPublishHandler(handler)
	}
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: connect: %v", id, tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return cl
}

// mqttPublish publishes with QoS 1 and waits for the acknowledgement.
func mqttPublish(t *testing.T, cl mqtt.Client, topic, payload string, retain bool) {
	t.Helper()
	if tok := cl.Publish(topic, 1, retain, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}
