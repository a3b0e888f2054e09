package broker_test

// Interoperability with the Mosquitto command line clients (mosquitto_pub,
// mosquitto_sub). The tests skip when the tools are missing, and fail
// instead with EDGEMQ_REQUIRE_EXTERNAL=1.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// mosqProc is a running mosquitto_pub or mosquitto_sub.
type mosqProc struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	done     chan error
}

// startMosq starts tool against the broker at addr (-h 127.0.0.1 -p PORT
// come first). The process is killed after 20 s or with the test.
func startMosq(t *testing.T, addr, tool string, args ...string) *mosqProc {
	t.Helper()
	path := brokertest.RequireTool(t, tool)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	p := &mosqProc{done: make(chan error, 1)}
	p.cmd = exec.CommandContext(ctx, path, append([]string{"-h", "127.0.0.1", "-p", port}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", tool, err)
	}
	go func() { p.done <- p.cmd.Wait(); cancel() }()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the process to exit successfully and returns its output.
func (p *mosqProc) wait(t *testing.T) string {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", strings.Join(p.cmd.Args, " "), err, p.out.String(), p.err.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not exit", strings.Join(p.cmd.Args, " "))
	}
	return p.out.String()
}

func runMosq(t *testing.T, addr, tool string, args ...string) string {
	t.Helper()
	return startMosq(t, addr, tool, args...).wait(t)
}

// waitSubscriptions waits until the broker holds n subscriptions.
func waitSubscriptions(t *testing.T, s *broker.Server, n int) {
	t.Helper()
	brokertest.Eventually(t, boundedWait, func() bool { return s.Stats().Subscriptions >= n }, fmt.Sprintf("%d subscriptions", n))
}

// mosqLines splits mosquitto_sub output into lines of fields separated by |.
func mosqLines(out string) [][]string {
	var lines [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if l != "" {
			lines = append(lines, strings.Split(l, "|"))
		}
	}
	return lines
}

// TestMosquittoPubSub: mosquitto_pub at QoS 0, 1, 2 to mosquitto_sub at
// QoS 0, 1, 2, for MQTT 3.1, 3.1.1 and 5: each message arrives once, at
// the lower of the two QoS, with the retain flag clear.
func TestMosquittoPubSub(t *testing.T) {
	t.Parallel()
	brokertest.RequireTool(t, "mosquitto_pub")
	brokertest.RequireTool(t, "mosquitto_sub")
	for _, ver := range []string{"mqttv311", "mqttv5", "mqttv31"} {
		t.Run(ver, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			var subs [3]*mosqProc
			for q := range subs {
				subs[q] = startMosq(t, addr, "mosquitto_sub", "-V", ver, "-q", strconv.Itoa(q), "-t", "mq/#",
					"-C", "3", "-W", "15", "-F", "%t|%q|%r|%p")
			}
			waitSubscriptions(t, s, 3)
			for q := range 3 {
				runMosq(t, addr, "mosquitto_pub", "-V", ver, "-q", strconv.Itoa(q), "-t", fmt.Sprintf("mq/%d", q),
					"-m", fmt.Sprintf("hello %d", q))
			}
			for sq, sub := range subs {
				lines := mosqLines(sub.wait(t))
				if len(lines) != 3 {
					t.Fatalf("sub QoS %d: %q", sq, lines)
				}
				for _, f := range lines {
					var pq int
					fmt.Sscanf(f[0], "mq/%d", &pq)
					want := []string{fmt.Sprintf("mq/%d", pq), strconv.Itoa(min(pq, sq)), "0", fmt.Sprintf("hello %d", pq)}
					if strings.Join(f, "|") != strings.Join(want, "|") {
						t.Errorf("sub QoS %d: got %q, want %q", sq, f, want)
					}
				}
			}
		})
	}
}

// TestMosquittoRetained: mosquitto_pub -r sets, replaces and (with an
// empty message) deletes a retained message; mosquitto_sub sees the retain
// flag on retained delivery.
func TestMosquittoRetained(t *testing.T) {
	t.Parallel()
	brokertest.RequireTool(t, "mosquitto_sub")
	for _, ver := range []string{"mqttv311", "mqttv5"} {
		t.Run(ver, func(t *testing.T) {
			t.Parallel()
			s, addr := brokertest.StartServer(t, broker.Options{})
			runMosq(t, addr, "mosquitto_pub", "-V", ver, "-q", "1", "-r", "-t", "ret/a", "-m", "first")
			runMosq(t, addr, "mosquitto_pub", "-V", ver, "-q", "2", "-r", "-t", "ret/a", "-m", "second")
			runMosq(t, addr, "mosquitto_pub", "-V", ver, "-q", "0", "-r", "-t", "ret/b", "-m", "other")
			out := runMosq(t, addr, "mosquitto_sub", "-V", ver, "-q", "2", "-t", "ret/a", "-C", "1", "-W", "10", "-F", "%t|%q|%r|%p")
			if got := strings.TrimSpace(out); got != "ret/a|2|1|second" {
				t.Errorf("retained delivery: %q, want ret/a|2|1|second", got)
			}
			if n := s.Stats().RetainedMessages; n != 2 {
				t.Errorf("RetainedMessages = %d, want 2", n)
			}
			// Delete with a zero-length retained message (-n).
			runMosq(t, addr, "mosquitto_pub", "-V", ver, "-q", "1", "-r", "-t", "ret/a", "-n")
			sub := startMosq(t, addr, "mosquitto_sub", "-V", ver, "-q", "1", "-t", "ret/#", "-C", "2", "-W", "10", "-F", "%t|%r|%p")
			waitSubscriptions(t, s, 1)
			runMosq(t, addr, "mosquitto_pub", "-V", ver, "-q", "1", "-t", "ret/end", "-m", "end")
			if got := strings.TrimSpace(sub.wait(t)); got != "ret/b|1|other\nret/end|0|end" {
				t.Errorf("after delete: %q, want only ret/b (retained) then ret/end", got)
			}
		})
	}
}

// TestMosquittoV5Properties: user properties and the other pass-through
// properties set with mosquitto_pub -D reach an MQTT 5 mosquitto_sub.
func TestMosquittoV5Properties(t *testing.T) {
	t.Parallel()
	s, addr := brokertest.StartServer(t, broker.Options{})
	sub5 := startMosq(t, addr, "mosquitto_sub", "-V", "mqttv5", "-t", "props/#", "-C", "1", "-W", "10", "-F", "%t|%P|%C|%R|%p")
	sub3 := startMosq(t, addr, "mosquitto_sub", "-V", "mqttv311", "-t", "props/#", "-C", "1", "-W", "10", "-F", "%t|%p")
	waitSubscriptions(t, s, 2)
	runMosq(t, addr, "mosquitto_pub", "-V", "mqttv5", "-q", "1", "-t", "props/x", "-m", "payload",
		"-D", "publish", "user-property", "k", "v",
		"-D", "publish", "user-property", "k2", "v2",
		"-D", "publish", "content-type", "text/plain",
		"-D", "publish", "response-topic", "reply/here")
	got := strings.TrimSpace(sub5.wait(t))
	f := strings.Split(got, "|")
	if len(f) != 5 || f[0] != "props/x" || !strings.Contains(f[1], "k:v") || !strings.Contains(f[1], "k2:v2") ||
		f[2] != "text/plain" || f[3] != "reply/here" || f[4] != "payload" {
		t.Errorf("v5 subscriber: %q", got)
	}
	if got := strings.TrimSpace(sub3.wait(t)); got != "props/x|payload" {
		t.Errorf("3.1.1 subscriber: %q", got)
	}
}

// TestMosquittoSys subscribes to $SYS/broker/# with mosquitto_sub and checks
// the statistics Mosquitto's tools expect.
func TestMosquittoSys(t *testing.T) {
	t.Parallel()
	brokertest.RequireTool(t, "mosquitto_sub")
	_, addr := brokertest.StartServer(t, broker.Options{SysInterval: 100 * time.Millisecond, Version: "9.8.7-test"})
	// Wait for a first $SYS round, so that the load averages see the
	// publishes that follow.
	rc := rcConnect(t, addr, packet.Version311, "sys-probe")
	rcSubscribe(t, rc, 1, "$SYS/broker/uptime", 0)
	rcExpectPublish(t, rc)
	pub := rcConnect(t, addr, packet.Version311, "publisher")
	const published = 5
	for i := range published {
		rcPublish(t, pub, "data/x", 1, uint16(i+1), "0123456789")
	}
	rcPublish(t, pub, "data/retained", 1, 99, "kept")
	pub.Write(&packet.Publish{Topic: "data/retained", QoS: 1, PacketID: 100, Retain: true, Payload: []byte("kept")})
	rcExpectAck(t, pub, packet.PUBACK, 100)

	// About 37 topics a round: 150 messages are three or four rounds.
	out := runMosq(t, addr, "mosquitto_sub", "-V", "mqttv311", "-t", "$SYS/broker/#", "-C", "150", "-W", "15", "-F", "%t|%p")
	last := map[string]string{}
	for _, f := range mosqLines(out) {
		if len(f) != 2 || !strings.HasPrefix(f[0], "$SYS/broker/") {
			t.Fatalf("bad line %q", f)
		}
		last[strings.TrimPrefix(f[0], "$SYS/broker/")] = f[1]
	}
	intAtLeast := func(name string, min int64) {
		t.Helper()
		v, ok := last[name]
		if !ok {
			t.Errorf("$SYS/broker/%s missing", name)
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			t.Errorf("$SYS/broker/%s = %q, want an integer >= %d", name, v, min)
		}
	}
	if v := last["version"]; v != "edgemq 9.8.7-test" {
		t.Errorf("$SYS/broker/version = %q", v)
	}
	if v := last["uptime"]; !regexp.MustCompile(`^[0-9]+ seconds$`).MatchString(v) {
		t.Errorf("$SYS/broker/uptime = %q", v)
	}
	intAtLeast("clients/connected", 3) // the probe, the publisher and mosquitto_sub
	intAtLeast("clients/total", 3)
	intAtLeast("clients/maximum", 3)
	intAtLeast("messages/received", published+2)
	intAtLeast("messages/sent", 1)
	intAtLeast("bytes/received", published*10)
	intAtLeast("bytes/sent", 1)
	intAtLeast("subscriptions/count", 2)
	intAtLeast("retained messages/count", 2) // data/retained and the $SYS topics
	intAtLeast("publish/messages/dropped", 0)
	for _, name := range []string{"load/messages/received/1min", "load/messages/received/5min", "load/bytes/received/15min", "load/connections/1min"} {
		v, ok := last[name]
		if !ok {
			t.Errorf("$SYS/broker/%s missing", name)
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 {
			t.Errorf("$SYS/broker/%s = %q, want a rate >= 0", name, v)
		}
	}
	if f, _ := strconv.ParseFloat(last["load/messages/received/1min"], 64); f <= 0 {
		t.Errorf("load/messages/received/1min = %q after %d publishes, want > 0", last["load/messages/received/1min"], published)
	}
}
