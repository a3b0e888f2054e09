package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/mqttcli"
)

// TestPubSubParse: the flags of edgemq pub and sub, good and bad.
func TestPubSubParse(t *testing.T) {
	pub, _, err := parsePub([]string{"-h", "gw", "-t", "a/b", "-m", "hi", "-q", "2", "-r", "-u", "u", "-P", "p", "-i", "me", "-k", "30", "-V", "mqttv5", "-x", "-1", "-d"})
	if err != nil {
		t.Fatal(err)
	}
	if pub.Host != "gw" || pub.Port != 1883 || pub.Topic != "a/b" || string(pub.Payload) != "hi" || pub.QoS != 2 || !pub.Retain ||
		pub.Username != "u" || !pub.HasPassword || pub.ClientID != "me" || pub.KeepAlive != 30 || pub.Version != packet.Version5 ||
		pub.SessionExpiry != 0xFFFFFFFF || pub.Debug == nil || pub.Mode != mqttcli.ModeMessage {
		t.Errorf("parsePub: %+v", pub)
	}
	sub, _, err := parseSub([]string{"-t", "a/#", "-t", "b/+", "-v", "-N", "-C", "3", "-W", "5", "-R", "-V", "31", "--cafile", "ca.pem", "--insecure"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Topics) != 2 || !sub.Verbose || !sub.NoEOL || sub.Count != 3 || sub.Timeout != 5*time.Second || !sub.NoRetained ||
		sub.Version != packet.Version31 || sub.Port != 8883 || sub.Host != "localhost" || !sub.Insecure {
		t.Errorf("parseSub: %+v", sub)
	}
	for _, tc := range []struct {
		args []string
		want string // the one line on stderr
	}{
		{[]string{"pub", "-t", "a"}, "Error: Both topic and message must be supplied."},
		{[]string{"pub", "-m", "x"}, "Error: Both topic and message must be supplied."},
		{[]string{"pub", "-t", "a", "-m", "x", "-n"}, "Error: Only one type of message can be sent at once."},
		{[]string{"pub", "-t", "a/#", "-m", "x"}, "Error: Invalid publish topic 'a/#', does it contain '+' or '#'?"},
		{[]string{"pub", "-t", "a", "-m", "x", "-q", "3"}, "Error: Invalid QoS given: 3"},
		{[]string{"pub", "-t", "a", "-m", "x", "-W", "3"}, "Error: Unknown option '-W'."},
		{[]string{"pub", "-t", "a", "-m"}, "Error: -m argument given but no message specified."},
		{[]string{"pub", "-t", "a", "-m", "x", "-c"}, "Error: You must provide a client id if you are using the -c option."},
		{[]string{"pub", "-t", "a", "-m", "x", "-x", "10"}, "Error: -x needs MQTT v5 (-V mqttv5)."},
		{[]string{"pub", "-t", "a", "-m", "x", "--cert", "c.pem"}, "Error: --cert, --key and --insecure need --cafile."},
		{[]string{"sub", "-t", "a", "-Z"}, "Error: Unknown option '-Z'."},
		{[]string{"sub", "-C", "1"}, "Error: You must specify a topic to subscribe to."},
		{[]string{"sub", "-t"}, "Error: -t argument given but no topic specified."},
		{[]string{"sub", "-t", "a/#/b"}, "Error: Invalid subscription topic 'a/#/b', are all '+' and '#' wildcards correct?"},
		{[]string{"sub", "-t", "a", "-k", "4"}, `Error: Invalid keepalive "4" given, it must be between 5 and 65535 inclusive.`},
		{[]string{"sub", "-t", "a", "-V", "7"}, `Error: Invalid protocol version argument "7" given.`},
		{[]string{"sub", "-t", "a", "-p", "x"}, "Error: Invalid port given: x"},
		{[]string{"sub", "-t", "a", "-C", "0"}, `Error: Invalid message count "0".`},
		{[]string{"sub", "-t", "a", "-W", "-1"}, `Error: Invalid timeout "-1", it must be between 1 and 3600 seconds.`},
		{[]string{"sub", "-t", "a", "-R", "--retained-only"}, "Error: -R and --retained-only cannot be used together."},
		{[]string{"sub", "stray"}, "Error: Unknown option 'stray'."},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != 1 || stderr.String() != tc.want+"\n" || stdout.Len() != 0 {
			t.Errorf("%q: code %d, stderr %q, want 1 and %q", tc.args, code, stderr.String(), tc.want)
		}
		stderr.Reset()
		quiet := append([]string{tc.args[0], "--quiet"}, tc.args[1:]...)
		if code := run(context.Background(), quiet, &stdout, &stderr); code != 1 || stderr.Len() != 0 {
			t.Errorf("%q: code %d, stderr %q", quiet, code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"sub", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: edgemq sub") {
		t.Errorf("sub --help: %d %q", code, stdout.String())
	}
}

// psRun is one finished process.
type psRun struct {
	stdout, stderr string
	code           int
}

// psStart starts a client process; wait returns its outcome.
func psStart(t *testing.T, ctx context.Context, stdin string, name string, args ...string) (wait func() psRun) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	if name == "edgemq" {
		cmd = exec.CommandContext(ctx, binPath, args...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, strings.NewReader(stdin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan psRun, 1)
	// Ends when the process exits; ctx kills it at the latest.
	go func() {
		err := cmd.Wait()
		r := psRun{stdout: out.String(), stderr: errb.String()}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		} else if err != nil {
			r.code = -1
		}
		done <- r
	}()
	return func() psRun { return <-done }
}

// psTool names a client: "edgemq" runs the binary as edgemq pub/sub,
// anything else is the mosquitto tool.
func psArgs(tool, verb string, args []string) (string, []string) {
	if tool == "edgemq" {
		return "edgemq", append([]string{verb}, args...)
	}
	return tool, args
}

type psCase struct {
	name   string
	sub    []string   // subscriber flags besides -h -p
	before [][]string // publishes before the subscribers start (retained)
	pubs   [][]string // publishes once they are subscribed
	stdin  string     // standard input of the publishes
	want   string     // what every subscriber prints
}

// TestPubSubSideBySide: edgemq sub prints byte for byte what mosquitto_sub
// prints with the same flags, whether edgemq pub or mosquitto_pub sent the
// messages; and mosquitto_sub receives from edgemq pub what it receives
// from mosquitto_pub.
func TestPubSubSideBySide(t *testing.T) {
	brokertest.RequireTool(t, "mosquitto_pub")
	brokertest.RequireTool(t, "mosquitto_sub")
	bin := []byte("bin\x00ary\n\xff last line\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "payload")
	if err := os.WriteFile(file, bin, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []psCase{
		{name: "verbose", sub: []string{"-t", "a/#", "-v", "-C", "3"},
			pubs: [][]string{{"-t", "a/1", "-m", "hello"}, {"-t", "a/2", "-m", "two words"}, {"-t", "a/3", "-n"}},
			want: "a/1 hello\na/2 two words\na/3 (null)\n"},
		{name: "plain-null", sub: []string{"-t", "a/#", "-C", "3"},
			pubs: [][]string{{"-t", "a/1", "-m", "x"}, {"-t", "a/2", "-n"}, {"-t", "a/3", "-m", "y"}},
			want: "x\ny\n"},
		{name: "no-eol", sub: []string{"-t", "a/#", "-N", "-C", "2"},
			pubs: [][]string{{"-t", "a/1", "-m", "x"}, {"-t", "a/1", "-m", "y"}},
			want: "xy"},
		{name: "lines-qos1", sub: []string{"-t", "l", "-v", "-q", "1", "-C", "4"},
			pubs: [][]string{{"-t", "l", "-l", "-q", "1"}}, stdin: "l1\n\nl 3\r\nl4\n",
			want: "l l1\nl (null)\nl l 3\r\nl l4\n"},
		{name: "file-qos2", sub: []string{"-t", "f", "-q", "2", "-C", "1"},
			pubs: [][]string{{"-t", "f", "-q", "2", "-f", file}},
			want: string(bin) + "\n"},
		{name: "stdin-whole", sub: []string{"-t", "s", "-C", "1", "-v"},
			pubs: [][]string{{"-t", "s", "-s"}}, stdin: "multi\nline\n",
			want: "s multi\nline\n\n"},
		{name: "retained", sub: []string{"-t", "r/#", "-v", "-C", "2"},
			// One retained message: the broker's order of several is not
			// defined.
			before: [][]string{{"-t", "r/1", "-m", "a", "-r", "-q", "1"}},
			pubs:   [][]string{{"-t", "r/2", "-m", "b", "-r"}},
			want:   "r/1 a\nr/2 b\n"},
		{name: "no-stale", sub: []string{"-t", "r/#", "-v", "-R", "-C", "1"},
			before: [][]string{{"-t", "r/1", "-m", "old", "-r"}},
			pubs:   [][]string{{"-t", "r/1", "-m", "new"}},
			want:   "r/1 new\n"},
		{name: "retained-only", sub: []string{"-t", "r/#", "-v", "--retained-only"},
			before: [][]string{{"-t", "r/1", "-m", "old", "-r"}},
			pubs:   [][]string{{"-t", "r/1", "-m", "new"}},
			want:   "r/1 old\n"},
		{name: "v5-qos2", sub: []string{"-t", "q/#", "-v", "-V", "mqttv5", "-q", "2", "-C", "3"},
			pubs: [][]string{{"-t", "q/0", "-m", "a", "-V", "5"}, {"-t", "q/1", "-m", "b", "-V", "mqttv5", "-q", "1"}, {"-t", "q/2", "-m", "c", "-V", "5", "-q", "2"}},
			want: "q/0 a\nq/1 b\nq/2 c\n"},
		{name: "v311-qos1", sub: []string{"-t", "q/#", "-V", "311", "-q", "1", "-C", "2"},
			pubs: [][]string{{"-t", "q/1", "-m", "b", "-V", "mqttv311", "-q", "1"}, {"-t", "q/2", "-m", "c", "-V", "311", "-q", "2"}},
			want: "b\nc\n"},
		{name: "v31", sub: []string{"-t", "q/#", "-V", "mqttv31", "-C", "1", "-v"},
			pubs: [][]string{{"-t", "q/1", "-m", "old", "-V", "31", "-q", "1"}},
			want: "q/1 old\n"},
		{name: "several-filters", sub: []string{"-t", "a/1", "-t", "b/#", "-v", "-C", "2"},
			pubs: [][]string{{"-t", "a/1", "-m", "1"}, {"-t", "c/x", "-m", "no"}, {"-t", "b/z", "-m", "2"}},
			want: "a/1 1\nb/z 2\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, publisher := range []string{"mosquitto_pub", "edgemq"} {
				srv, addr := brokertest.StartServer(t, broker.Options{})
				host, port, _ := net.SplitHostPort(addr)
				base := []string{"-h", host, "-p", port}
				got := psExchange(t, srv, base, publisher, tc)
				for sub, r := range got {
					if r.stdout != tc.want || r.code != 0 {
						t.Errorf("%s -> %s: code %d, stdout %q, want %q (stderr %q)", publisher, sub, r.code, r.stdout, tc.want, r.stderr)
					}
				}
			}
		})
	}
}

// psExchange runs mosquitto_sub and edgemq sub side by side with tc.sub,
// the publishes of tc with publisher, and returns what each subscriber
// did.
func psExchange(t *testing.T, srv *broker.Server, base []string, publisher string, tc psCase) map[string]psRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	publish := func(args []string) {
		t.Helper()
		name, a := psArgs(publisher, "pub", append(append([]string{}, base...), args...))
		if r := psStart(t, ctx, tc.stdin, name, a...)(); r.code != 0 {
			t.Fatalf("%s %q: code %d %s", publisher, args, r.code, r.stderr)
		}
	}
	for _, p := range tc.before {
		publish(p)
	}
	// Counted over connected clients only: the subscriptions of the
	// previous exchange's subscribers (exited, their sessions being
	// removed) must not be taken for the new ones.
	connectedSubs := func() (clients, subs int) {
		for _, si := range srv.Sessions() {
			if si.Connected && !si.InProcess {
				clients++
				subs += len(si.Subscriptions)
			}
		}
		return clients, subs
	}
	brokertest.Eventually(t, 10*time.Second, func() bool { n, _ := connectedSubs(); return n == 0 }, "earlier clients gone")
	waits := map[string]func() psRun{}
	for _, tool := range []string{"mosquitto_sub", "edgemq"} {
		name, a := psArgs(tool, "sub", append(append([]string{}, base...), tc.sub...))
		waits[tool] = psStart(t, ctx, "", name, a...)
	}
	filters := 0
	for _, a := range tc.sub {
		if a == "-t" {
			filters++
		}
	}
	if len(tc.pubs) > 0 {
		// 50 s: with a password file each login hashes (PBKDF2), and each
		// TLS client verifies certificates: slow under the race detector
		// with other packages' tests (and Chromium) on the same 2 cores.
		deadline := time.Now().Add(50 * time.Second)
		for _, n := connectedSubs(); n < 2*filters; _, n = connectedSubs() {
			if time.Now().After(deadline) {
				cancel() // the subscribers end: say what each did
				var what []string
				for tool, w := range waits {
					r := w()
					what = append(what, fmt.Sprintf("%s: code %d, stdout %q, stderr %q", tool, r.code, r.stdout, r.stderr))
				}
				_, n := connectedSubs()
				t.Fatalf("timed out after 50s: both subscribers subscribed (%d of %d subscriptions)\n%s",
					n, 2*filters, strings.Join(what, "\n"))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, p := range tc.pubs {
		publish(p)
	}
	got := map[string]psRun{}
	for tool, w := range waits {
		got[tool] = w()
	}
	return got
}

// TestPubSubAuth: against a broker with a password file, -u/-P work, and a
// refused connection gives mosquitto's message and exit status, for 3.1.1
// and 5.
func TestPubSubAuth(t *testing.T) {
	brokertest.RequireTool(t, "mosquitto_pub")
	brokertest.RequireTool(t, "mosquitto_sub")
	file := filepath.Join(t.TempDir(), "passwd")
	if code, msg := passwdCmd(t, "", "-c", "-b", file, "ops", "pw-ops"); code != 0 {
		t.Fatal(msg)
	}
	a, err := newAuthorizer(config.Auth{
		PasswordFile: file,
		Roles:        []config.Role{{Name: "ops", Allow: []config.Rule{{Topic: "#"}}}},
		Users:        map[string][]string{"ops": {"ops"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	for _, v := range []string{"311", "5"} {
		// A broker each: the refused logins below put 127.0.0.1 in the
		// per-address back-off, which would hold the next version's good
		// logins for up to 30 s.
		srv, addr := brokertest.StartServer(t, broker.Options{Auth: a, Listeners: []broker.Listener{{Address: "127.0.0.1:0", AllowAnonymous: &no}}})
		host, port, _ := net.SplitHostPort(addr)
		base := []string{"-h", host, "-p", port}
		good := append(append([]string{}, base...), "-u", "ops", "-P", "pw-ops", "-V", v)
		tc := psCase{sub: append([]string{"-t", "s/#", "-v", "-C", "1", "-q", "1"}, good[4:]...),
			pubs: [][]string{append([]string{"-t", "s/1", "-m", "ok", "-q", "1"}, good[4:]...)}}
		for _, publisher := range []string{"mosquitto_pub", "edgemq"} {
			for sub, r := range psExchange(t, srv, base, publisher, tc) {
				if r.stdout != "s/1 ok\n" || r.code != 0 {
					t.Errorf("v%s %s -> %s: %+v", v, publisher, sub, r)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for _, bad := range [][]string{{"-u", "ops", "-P", "wrong"}, {}} {
			var runs []psRun
			for _, tool := range []string{"mosquitto_pub", "edgemq pub", "mosquitto_sub", "edgemq sub"} {
				args := append(append(append([]string{}, base...), bad...), "-V", v, "-t", "s/1")
				if strings.HasSuffix(tool, "pub") {
					args = append(args, "-m", "x")
				}
				name, verb, _ := strings.Cut(tool, " ")
				if verb != "" {
					args = append([]string{verb}, args...)
				}
				runs = append(runs, psStart(t, ctx, "", name, args...)())
			}
			// mosquitto_sub prints one line, "Connection error: ...",
			// mosquitto_pub adds a second "Error: ..."; both exit with the
			// CONNACK code. edgemq prints mosquitto_sub's line.
			mp, ms := runs[0], runs[2]
			if ms.code == 0 || !strings.HasPrefix(ms.stderr, "Connection error: ") || strings.Count(ms.stderr, "\n") != 1 ||
				!strings.HasPrefix(mp.stderr, ms.stderr) || mp.code != ms.code {
				t.Errorf("v%s %q: mosquitto_pub %+v, mosquitto_sub %+v", v, bad, mp, ms)
			}
			for _, i := range []int{1, 3} {
				if runs[i] != ms {
					t.Errorf("v%s %q: edgemq %+v, mosquitto_sub %+v", v, bad, runs[i], ms)
				}
			}
		}
		cancel()
	}
}

// TestPubSubTLS: --cafile, --cert/--key against a listener that requires a
// client certificate, and --insecure for a certificate of another name,
// each side by side with the Mosquitto clients.
func TestPubSubTLS(t *testing.T) {
	brokertest.RequireTool(t, "mosquitto_pub")
	brokertest.RequireTool(t, "mosquitto_sub")
	dir := t.TempDir()
	ca, caKey := brokertest.WriteCert(t, dir, "ca", nil, nil, false)
	brokertest.WriteCert(t, dir, "server", ca, caKey, true, net.IPv4(127, 0, 0, 1))
	brokertest.WriteCert(t, dir, "other", ca, caKey, true)
	brokertest.WriteCert(t, dir, "client", ca, caKey, false)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	listen := func(name string, require bool) (*broker.Server, []string) {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		srv, addr := brokertest.StartServer(t, broker.Options{Listeners: []broker.Listener{{
			Address: "127.0.0.1:0", Type: broker.ListenerTLS, AllowAnonymous: &yes, RequireCertificate: require,
			TLS: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool},
		}}})
		host, port, _ := net.SplitHostPort(addr)
		return srv, []string{"-h", host, "-p", port, "--cafile", filepath.Join(dir, "ca.pem")}
	}
	client := []string{"--cert", filepath.Join(dir, "client.pem"), "--key", filepath.Join(dir, "client.key")}

	srv, base := listen("server", true)
	tc := psCase{sub: append([]string{"-t", "t/#", "-v", "-C", "1", "-q", "1"}, client...),
		pubs: [][]string{append([]string{"-t", "t/1", "-m", "secure", "-q", "2"}, client...)}}
	for _, publisher := range []string{"mosquitto_pub", "edgemq"} {
		for sub, r := range psExchange(t, srv, base, publisher, tc) {
			if r.stdout != "t/1 secure\n" || r.code != 0 {
				t.Errorf("TLS %s -> %s: %+v", publisher, sub, r)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// No client certificate: both refused, with a non-zero status.
	for _, name := range []string{"mosquitto_pub", "edgemq"} {
		n, a := psArgs(name, "pub", append(append([]string{}, base...), "-t", "t/1", "-m", "x", "-q", "1"))
		if r := psStart(t, ctx, "", n, a...)(); r.code == 0 {
			t.Errorf("%s without a client certificate: %+v", name, r)
		}
	}

	// A server certificate for another name: refused, unless --insecure.
	srv, base = listen("other", false)
	for _, name := range []string{"mosquitto_pub", "edgemq"} {
		n, a := psArgs(name, "pub", append(append([]string{}, base...), "-t", "t/1", "-m", "x"))
		if r := psStart(t, ctx, "", n, a...)(); r.code == 0 {
			t.Errorf("%s accepted a certificate for another name: %+v", name, r)
		}
	}
	tc = psCase{sub: []string{"-t", "t/#", "-C", "1", "--insecure"}, pubs: [][]string{{"-t", "t/2", "-m", "insecure", "--insecure"}}}
	for _, publisher := range []string{"mosquitto_pub", "edgemq"} {
		for sub, r := range psExchange(t, srv, base, publisher, tc) {
			if r.stdout != "insecure\n" || r.code != 0 {
				t.Errorf("--insecure %s -> %s: %+v", publisher, sub, r)
			}
		}
	}
}

// TestPubSubTimeout: -W with nothing to receive ends both subscribers with
// "Timed out" and status 27; a closed port gives the same error and
// status as Mosquitto's.
func TestPubSubTimeout(t *testing.T) {
	brokertest.RequireTool(t, "mosquitto_sub")
	_, addr := brokertest.StartServer(t, broker.Options{})
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"-h", host, "-p", port, "-t", "nothing", "-W", "1"}
	m := psStart(t, ctx, "", "mosquitto_sub", args...)
	e := psStart(t, ctx, "", binPath, append([]string{"sub"}, args...)...)
	mr, er := m(), e()
	if mr.code != 27 || er != mr {
		t.Errorf("-W 1: edgemq %+v, mosquitto_sub %+v", er, mr)
	}

	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closed, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	args = []string{"-h", host, "-p", closed, "-t", "x"}
	mr = psStart(t, ctx, "", "mosquitto_sub", args...)()
	er = psStart(t, ctx, "", binPath, append([]string{"sub"}, args...)...)()
	if mr.code == 0 || er != mr {
		t.Errorf("closed port: edgemq %+v, mosquitto_sub %+v", er, mr)
	}
}

// TestPubSubInterrupt: SIGINT ends edgemq sub cleanly (status 0).
func TestPubSubInterrupt(t *testing.T) {
	srv, addr := brokertest.StartServer(t, broker.Options{})
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(binPath, "sub", "-h", host, "-p", port, "-t", "x")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 10*time.Second, func() bool { return srv.Stats().Subscriptions == 1 }, "subscribed")
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v %s", err, errb.String())
	}
	brokertest.Eventually(t, 10*time.Second, func() bool { return srv.Stats().ClientsConnected == 0 }, "disconnected")
}
