package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
)

// sasKey is the shared access key of the SAS vectors.
var sasKey = []byte("secret-key-for-tests-0123456789")

// TestSASToken checks SASToken against a vector computed with openssl
// outside the code (written down here), and against openssl run now.
func TestSASToken(t *testing.T) {
	const uri = "myhub.azure-devices.net/devices/dev-1"
	expiry := time.Unix(1700000000, 0)
	want := "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev-1" +
		"&sig=Xg2f3Uu5jRcgrbLNtdx2l5L7kma3kEnUK6thQ9ej6NU%3D&se=1700000000"
	if got := SASToken(uri, sasKey, expiry); got != want {
		t.Errorf("SASToken:\ngot  %s\nwant %s", got, want)
	}

	openssl := brokertest.RequireTool(t, "openssl")
	cmd := exec.Command(openssl, "dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:"+hex.EncodeToString(sasKey), "-binary")
	cmd.Stdin = strings.NewReader("myhub.azure-devices.net%2Fdevices%2Fdev-1\n1700000000")
	mac, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(mac))
	if !strings.Contains(want, "&sig="+sig+"&") {
		t.Errorf("openssl signature %s, not in %s", sig, want)
	}
}

func TestRenewAt(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		name    string
		expires time.Time
		want    time.Time
	}{
		{"none", time.Time{}, time.Time{}},
		{"expired", now.Add(-time.Second), time.Time{}},
		{"now", now, time.Time{}},
		{"one hour", now.Add(time.Hour), now.Add(48 * time.Minute)},
		{"ten seconds", now.Add(10 * time.Second), now.Add(8 * time.Second)},
	}
	for _, tt := range tests {
		if got := RenewAt(now, tt.expires); !got.Equal(tt.want) {
			t.Errorf("%s: RenewAt = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSASCredentials(t *testing.T) {
	now := time.Unix(1700000000, 500)
	user, pass, exp, err := SASCredentials("u", "myhub.azure-devices.net/devices/dev-1", sasKey, time.Hour)(now.Add(-time.Hour))
	if err != nil || user != "u" || !exp.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("got %q, %v, %v", user, exp, err)
	}
	if !strings.HasSuffix(pass, "&sig=Xg2f3Uu5jRcgrbLNtdx2l5L7kma3kEnUK6thQ9ej6NU%3D&se=1700000000") {
		t.Errorf("password %q", pass)
	}
}

// connectRecorder is a TCP relay to an uplink that keeps the first bytes
// each connection sends (its CONNECT).
type connectRecorder struct {
	ln net.Listener
	to string
	wg sync.WaitGroup

	mu       sync.Mutex
	connects [][]byte
}

func startConnectRecorder(t *testing.T, to string) *connectRecorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &connectRecorder{ln: ln, to: to}
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			first := make([]byte, 1024)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _ := c.Read(first)
			c.SetReadDeadline(time.Time{})
			r.mu.Lock()
			r.connects = append(r.connects, first[:n])
			r.mu.Unlock()
			up.Write(first[:n])
			r.wg.Add(2)
			go func() { defer r.wg.Done(); io.Copy(up, c); up.Close() }()
			go func() { defer r.wg.Done(); io.Copy(c, up); c.Close() }()
		}
	}()
	return r
}

func (r *connectRecorder) seen() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.connects...)
}

// TestCredentialsRenewal: with credentials that expire after a second the
// bridge reconnects about every 0.8 s with a fresh password, while a
// publisher keeps publishing: every message arrives, in order, and the
// renewals are not failures.
func TestCredentialsRenewal(t *testing.T) {
	m := startMosquitto(t)
	rec := startConnectRecorder(t, m.addr)
	sub := startSubscriber(t, m.addr, "site-7/#")
	waitSubscribed(t, sub, m.addr, "site-7/probe")
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db := tempDB(t)
	cfg := testConfig(t, rec.ln.Addr().String())
	var calls atomic.Int64
	cfg.Credentials = func(now time.Time) (string, string, time.Time, error) {
		n := calls.Add(1)
		return "gw", fmt.Sprintf("token-%d", n), now.Add(time.Second), nil
	}
	b := newBridge(t, srv, db, cfg)
	publishStream(t, srv, 2, 300, func(int) { time.Sleep(700 * time.Millisecond) })
	checkStream(t, sub, 2, 300)
	st := b.Stats()
	if st.Renewals < 2 {
		t.Errorf("renewals = %d, want at least 2", st.Renewals)
	}
	if st.LastError != "" {
		t.Errorf("last error %q after renewals", st.LastError)
	}
	connects := rec.seen()
	if len(connects) < 3 {
		t.Fatalf("%d connects, want at least 3", len(connects))
	}
	for i, c := range connects[:3] {
		if want := fmt.Appendf(nil, "token-%d", i+1); !bytes.Contains(c, want) {
			t.Errorf("connect %d does not carry password %s", i+1, want)
		}
	}
}
