package mqttcli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

func testOptions(t *testing.T, addr string, version byte) Options {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	o := Default()
	o.Host, o.Version = host, version
	o.Port, _ = strconv.Atoi(port)
	return o
}

// TestPubSubRoundTrip: Sub prints what Pub sends, at each QoS and version,
// from each source.
func TestPubSubRoundTrip(t *testing.T) {
	for _, v := range []byte{packet.Version31, packet.Version311, packet.Version5} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			srv, addr := brokertest.StartServer(t, broker.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			file := t.TempDir() + "/payload"
			os.WriteFile(file, []byte("from a file"), 0o600)
			sub := SubConfig{Options: testOptions(t, addr, v), Topics: []string{"rt/#"}, QoS: 2, Verbose: true, Count: 6}
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- Sub(ctx, sub, &out) }() // ends after Count messages or with ctx
			brokertest.Eventually(t, 10*time.Second, func() bool { return srv.Stats().Subscriptions == 1 }, "subscribed")
			pubs := []struct {
				cfg   PubConfig
				stdin string
			}{
				{cfg: PubConfig{Topic: "rt/0", Payload: []byte("q0")}},
				{cfg: PubConfig{Topic: "rt/1", QoS: 1, Payload: []byte("q1")}},
				{cfg: PubConfig{Topic: "rt/2", QoS: 2, Mode: ModeFile, File: file}},
				{cfg: PubConfig{Topic: "rt/3", QoS: 2, Mode: ModeNull}},
				{cfg: PubConfig{Topic: "rt/4", QoS: 1, Mode: ModeLines}, stdin: "a\nb"},
			}
			for _, p := range pubs {
				p.cfg.Options = testOptions(t, addr, v)
				if err := Pub(ctx, p.cfg, strings.NewReader(p.stdin)); err != nil {
					t.Fatalf("Pub %s: %v", p.cfg.Topic, err)
				}
			}
			if err := <-done; err != nil {
				t.Fatalf("Sub: %v", err)
			}
			// Each Pub is its own connection: the broker keeps order
			// within one (rt/4 a before b), not across them.
			want := "rt/0 q0\nrt/1 q1\nrt/2 from a file\nrt/3 (null)\nrt/4 a\nrt/4 b\n"
			lines := strings.SplitAfter(out.String(), "\n")
			a, b := slices.Index(lines, "rt/4 a\n"), slices.Index(lines, "rt/4 b\n")
			slices.Sort(lines)
			if got := strings.Join(lines, ""); got != want || a > b {
				t.Errorf("Sub printed %q, want the lines of %q (rt/4 a before b)", out.String(), want)
			}
		})
	}
}

// TestPubWaitsForAck: when Pub returns, the broker has the QoS 1 and 2
// messages (their PUBACK / PUBCOMP came back).
func TestPubWaitsForAck(t *testing.T) {
	srv, addr := brokertest.StartServer(t, broker.Options{})
	ctx := context.Background()
	for i, qos := range []byte{1, 2, 1, 2} {
		cfg := PubConfig{Options: testOptions(t, addr, packet.Version5), Topic: fmt.Sprintf("ack/%d", i), QoS: qos, Retain: true, Payload: []byte("x")}
		if err := Pub(ctx, cfg, nil); err != nil {
			t.Fatal(err)
		}
		if n := srv.Stats().RetainedMessages; n != i+1 {
			t.Fatalf("after Pub %d (QoS %d): %d retained messages", i, qos, n)
		}
	}
}

// TestPubSubRefused: a refused connection is a *ConnackError with mosquitto's
// text and the CONNACK code as exit status.
func TestPubSubRefused(t *testing.T) {
	no := false
	_, addr := brokertest.StartServer(t, broker.Options{Listeners: []broker.Listener{{Address: "127.0.0.1:0", AllowAnonymous: &no}}})
	for _, tc := range []struct {
		version byte
		code    int
		msg     string
	}{
		{packet.Version311, 5, "Connection error: Connection Refused: not authorised."},
		{packet.Version5, 135, "Connection error: Not authorized"},
	} {
		err := Pub(context.Background(), PubConfig{Options: testOptions(t, addr, tc.version), Topic: "x", Payload: []byte("x")}, nil)
		if code, msg := ExitStatus(err); code != tc.code || msg != tc.msg {
			t.Errorf("v%d: %d %q, want %d %q (%v)", tc.version, code, msg, tc.code, tc.msg, err)
		}
	}
}

// TestPubSubReadDeadline: a server that accepts and never answers makes Dial
// fail after the keep alive instead of hanging.
func TestPubSubReadDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() { // ends when l is closed
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	o := testOptions(t, l.Addr().String(), packet.Version311)
	o.KeepAlive = 1
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = Dial(ctx, o)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || ctx.Err() != nil {
		t.Errorf("Dial to a silent server: %v", err)
	}
	select {
	case c := <-accepted:
		c.Close()
	default:
	}
}

// TestPubSubClientClose: the -d lines are mosquitto's; Disconnect ends the
// client's goroutines (it waits for them) and Done reports the end.
func TestPubSubClientClose(t *testing.T) {
	_, addr := brokertest.StartServer(t, broker.Options{})
	o := testOptions(t, addr, packet.Version5)
	var debug bytes.Buffer
	o.Debug, o.ClientID = &debug, "me"
	c, err := Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(context.Background(), 1, "a/#", "b"); err != nil {
		t.Fatal(err)
	}
	if err := c.Disconnect(); err != nil {
		t.Fatal(err)
	}
	want := "Client me sending CONNECT\nClient me received CONNACK (0)\n" +
		"Client me sending SUBSCRIBE (Mid: 1, Topic: a/#, QoS: 1, Options: 0x00)\n" +
		"Client me sending SUBSCRIBE (Mid: 1, Topic: b, QoS: 1, Options: 0x00)\n" +
		"Client me received SUBACK\nClient me sending DISCONNECT\n"
	if debug.String() != want { // read after Disconnect, which waits for the reader
		t.Errorf("debug lines:\n%s\nwant:\n%s", debug.String(), want)
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Disconnect")
	}
	c.Close() // twice is fine
}

func TestSubWriteMessage(t *testing.T) {
	for _, tc := range []struct {
		payload      string
		verbose, eol bool
		want         string
	}{
		{"hi", false, true, "hi\n"},
		{"hi", true, true, "t/1 hi\n"},
		{"hi", true, false, "t/1 hi"},
		{"hi", false, false, "hi"},
		{"", false, true, ""},
		{"", true, true, "t/1 (null)\n"},
		{"", true, false, ""},
	} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeMessage(w, &packet.Publish{Topic: "t/1", Payload: []byte(tc.payload)}, tc.verbose, tc.eol)
		w.Flush()
		if b.String() != tc.want {
			t.Errorf("%q verbose %v eol %v: got %q, want %q", tc.payload, tc.verbose, tc.eol, b.String(), tc.want)
		}
	}
}

func TestPubSubExitStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{ErrTimedOut, 27, "Timed out"},
		{fmt.Errorf("dial: %w", &ConnackError{Code: 4, Version: packet.Version311}), 4, "Connection error: Connection Refused: bad user name or password."},
		{&ConnackError{Code: 0x86, Version: packet.Version5}, 134, "Connection error: Bad User Name or Password"},
		{&publishError{pid: 3, code: 0x87}, 0, "Warning: Publish 3 failed: Not authorized."},
		{errors.New("boom"), 1, "Error: boom"},
		{context.Canceled, 1, "Error: interrupted"},
	} {
		if code, msg := ExitStatus(tc.err); code != tc.code || msg != tc.msg {
			t.Errorf("%v: %d %q, want %d %q", tc.err, code, msg, tc.code, tc.msg)
		}
	}
}

// TestSubReconnects: Sub goes on after the broker drops its connection:
// it connects again, subscribes again and prints what follows.
func TestSubReconnects(t *testing.T) {
	for _, v := range []byte{packet.Version311, packet.Version5} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			srv, addr := brokertest.StartServer(t, broker.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sub := SubConfig{Options: testOptions(t, addr, v), Topics: []string{"rc/#"}, Count: 2}
			sub.ClientID = "resubscriber"
			var out brokertest.Buffer
			done := make(chan error, 1)
			go func() { done <- Sub(ctx, sub, &out) }() // ends after Count messages or with ctx
			brokertest.Eventually(t, 10*time.Second, func() bool { return srv.Stats().Subscriptions == 1 }, "subscribed")
			pub := func(payload string) {
				t.Helper()
				if err := Pub(ctx, PubConfig{Options: testOptions(t, addr, v), Topic: "rc/x", Payload: []byte(payload)}, nil); err != nil {
					t.Fatal(err)
				}
			}
			pub("one")
			brokertest.Eventually(t, 10*time.Second, func() bool { return out.String() == "one\n" }, "first message printed")
			if err := srv.Disconnect(sub.ClientID); err != nil {
				t.Fatal(err)
			}
			// Publish until the subscriber is back; Sub ends at its second
			// message.
			for {
				pub("two")
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("Sub: %v", err)
					}
					if got := out.String(); got != "one\ntwo\n" {
						t.Errorf("Sub printed %q", got)
					}
					return
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
					t.Fatalf("Sub did not come back: printed %q", out.String())
				}
			}
		})
	}
}

// TestSubTakenOver: when another client takes its session over (MQTT 5
// says so), Sub ends with that reason instead of taking it back.
func TestSubTakenOver(t *testing.T) {
	srv, addr := brokertest.StartServer(t, broker.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub := SubConfig{Options: testOptions(t, addr, packet.Version5), Topics: []string{"t/#"}}
	sub.ClientID = "twin"
	done := make(chan error, 1)
	go func() { done <- Sub(ctx, sub, io.Discard) }()
	brokertest.Eventually(t, 10*time.Second, func() bool { return srv.Stats().Subscriptions == 1 }, "subscribed")
	twin, err := Dial(ctx, sub.Options)
	if err != nil {
		t.Fatal(err)
	}
	defer twin.Close()
	select {
	case err := <-done:
		var de *DisconnectError
		if !errors.As(err, &de) || de.Code != packet.SessionTakenOver {
			t.Fatalf("Sub: %v, want the broker's session-taken-over disconnect", err)
		}
		if code, msg := ExitStatus(err); code != 1 || msg != "Error: the broker disconnected: Session taken over" {
			t.Errorf("exit status %d %q", code, msg)
		}
	case <-ctx.Done():
		t.Fatal("Sub still runs after its session was taken over")
	}
}
