package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices/devicestest"
)

// collectors numbers the collectors' client ids.
var collectors atomic.Int64

// collector keeps every message a paho subscriber received, by topic.
type collector struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func subscribeAll(t *testing.T, addr string, filters ...string) *collector {
	t.Helper()
	c := &collector{msgs: make(map[string][]string)}
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("devices-test-%d", collectors.Add(1))).SetOrderMatters(true)
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	for _, f := range filters {
		tok := cl.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) {
			c.mu.Lock()
			c.msgs[m.Topic()] = append(c.msgs[m.Topic()], string(m.Payload()))
			c.mu.Unlock()
		})
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	return c
}

func (c *collector) all(topic string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs[topic])
}

func (c *collector) last(topic string) string {
	all := c.all(topic)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

func (c *collector) topics(prefix string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for t := range c.msgs {
		if strings.HasPrefix(t, prefix) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func (c *collector) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b bytes.Buffer
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %q\n", k, c.msgs[k])
	}
	return b.String()
}

// counter reads a $SYS counter of a device (-1 when not seen yet).
func (c *collector) counter(id, name string) int {
	v, err := strconv.Atoi(c.last("$SYS/broker/devices/" + id + "/" + name))
	if err != nil {
		return -1
	}
	return v
}

func TestDevicesSerialEndToEnd(t *testing.T) {
	dir := t.TempDir()
	byID := filepath.Join(dir, "by-id")
	if err := os.Mkdir(byID, 0o755); err != nil {
		t.Fatal(err)
	}
	ptys := map[string]*devicestest.PTY{}
	for _, id := range []string{"raw1", "kv1", "csv1", "json1", "re1", "gps", "kvjson"} {
		ptys[id] = devicestest.OpenPTY(t, filepath.Join(byID, "usb-Test_"+id+"-if00"))
	}
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: gw}
broker:
  listeners:
    - {type: tcp, address: %q}
  sys_interval: 1s
storage: {dir: %q}
devices:
  - {id: raw1, type: serial, port: %q, baud: 115200}
  - id: kv1
    type: serial
    port: %q
    format: kv
    commands:
      - {field: relay, template: "relay={value}"}
  - {id: csv1, type: serial, port: %q, format: csv, columns: [volts, "-", amps], line_ending: crlf}
  - {id: json1, type: serial, port: %q, format: json, qos: 1, retain: true}
  - {id: re1, type: serial, port: %q, format: regex, pattern: '^W=(?P<weight>-?[0-9.]+)kg$', decimals: 2, topic: site/scale}
  - {id: gps, type: serial, port: %q, format: nmea, line_ending: crlf}
  - {id: kvjson, type: serial, port: %q, format: kv, payload: json}
`, addr, filepath.Join(dir, "data"), ptys["raw1"].Link, ptys["kv1"].Link, ptys["csv1"].Link,
		ptys["json1"].Link, ptys["re1"].Link, ptys["gps"].Link, ptys["kvjson"].Link)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runBinary(t, "check-config", cfg)
	if err != nil {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
	startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/gw/#", "site/#", "$SYS/broker/devices/#")
	for _, id := range []string{"raw1", "kv1", "csv1", "json1", "gps", "kvjson"} {
		brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/"+id+"/status") == "offline" }, id+" offline at start")
	}

	// Lines split across writes, garbage, too-long lines and bad
	// checksums in between the good ones.
	ptys["raw1"].Write(t, "hello ")
	time.Sleep(50 * time.Millisecond)
	ptys["raw1"].Write(t, "world\n\x00\x01\x02\xff\nsecond line\n")
	ptys["kv1"].Write(t, "temp=2")
	time.Sleep(50 * time.Millisecond)
	ptys["kv1"].Write(t, "1.50,hum=40\nnot kv at all\n"+strings.Repeat("z", 5000)+"\ntemp=22,hum=41\n")
	ptys["csv1"].Write(t, "230.1,x,1.25\r\n1,2\r\n229.9,x,1.30\r\n")
	ptys["json1"].Write(t, `{"temp":21.5,"env":{"hum":40},"ok":true}`+"\n{broken\n")
	ptys["re1"].Write(t, "W=12.5kg\nW=oops\nW=-0.126kg\n")
	ptys["gps"].Write(t, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"+
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48\r\n"+ // bad checksum
		"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n")
	ptys["kvjson"].Write(t, "t=1.0,h=2\n")

	want := map[string][]string{
		"edgemq/gw/raw1/raw":       {"hello world", "second line"},
		"edgemq/gw/kv1/temp":       {"21.50", "22"},
		"edgemq/gw/kv1/hum":        {"40", "41"},
		"edgemq/gw/csv1/volts":     {"230.1", "229.9"},
		"edgemq/gw/csv1/amps":      {"1.25", "1.30"},
		"edgemq/gw/json1/temp":     {"21.5"},
		"edgemq/gw/json1/env_hum":  {"40"},
		"edgemq/gw/json1/ok":       {"true"},
		"site/scale/weight":        {"12.50", "-0.13"},
		"edgemq/gw/gps/lat":        {"48.117300", "48.117300"},
		"edgemq/gw/gps/lon":        {"11.516667", "11.516667"},
		"edgemq/gw/gps/altitude":   {"545.4"},
		"edgemq/gw/gps/fix":        {"1"},
		"edgemq/gw/gps/satellites": {"8"},
		"edgemq/gw/gps/speed":      {"22.40"},
		"edgemq/gw/gps/course":     {"84.40"},
		"edgemq/gw/gps/utc":        {"12:35:19.000", "1994-03-23T12:35:19.000Z"},
	}
	for topic, payloads := range want {
		brokertest.Eventually(t, 10*time.Second, func() bool { return len(c.all(topic)) >= len(payloads) }, topic+"\n"+c.dump())
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/kvjson") != "" }, "json payload\n"+c.dump())
	for _, id := range []string{"raw1", "kv1", "csv1", "json1", "gps", "kvjson"} {
		brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/"+id+"/status") == "online" }, id+" online")
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("site/scale/status") == "online" }, "re1 online")
	// Parse errors are counted in $SYS; nothing else was published.
	for id, n := range map[string]int{"raw1": 1, "kv1": 2, "csv1": 1, "json1": 1, "re1": 1, "gps": 1} {
		brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter(id, "parse_errors") == n }, fmt.Sprintf("%s parse_errors %d\n%s", id, n, c.dump()))
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter("kv1", "lines_read") == 4 }, "kv1 lines_read")
	time.Sleep(200 * time.Millisecond) // would any stray message arrive
	for topic, payloads := range want {
		if got := c.all(topic); !slices.Equal(got, payloads) {
			t.Errorf("%s: got %q, want %q", topic, got, payloads)
		}
	}
	var published []string
	for _, p := range []string{"edgemq/gw/", "site/"} {
		for _, tp := range c.topics(p) {
			if !strings.HasSuffix(tp, "/status") && tp != "edgemq/gw/kvjson" {
				published = append(published, tp)
			}
		}
	}
	if len(published) != len(want) {
		t.Errorf("published on %q, want only the topics of valid readings", published)
	}
	if got := c.last("edgemq/gw/kvjson"); !strings.HasPrefix(got, `{"time":"`) || !strings.HasSuffix(got, `Z","t":1.0,"h":2}`) {
		t.Errorf("json payload %s", got)
	}

	// A command: written to the port as a line, then confirmed.
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("devices-test-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	pub.Publish("edgemq/gw/kv1/relay/set", 1, false, "on").WaitTimeout(5 * time.Second)
	line := readLine(t, ptys["kv1"].Master)
	if line != "relay=on\n" {
		t.Errorf("port got %q, want %q", line, "relay=on\n")
	}
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/kv1/relay") == "on" }, "command confirmed")
}

// readLine reads from f until a newline, for up to 5 s.
func readLine(t *testing.T, f *os.File) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 64)
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Contains(got, []byte("\n")) && time.Now().Before(deadline) {
		f.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _ := f.Read(buf)
		got = append(got, buf[:n]...)
	}
	return string(got)
}

func TestDevicesSerialUnplug(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "usb-Arduino_Uno_1234-if00")
	d := devicestest.OpenPTY(t, link)
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	yaml := fmt.Sprintf(`gateway: {id: gw}
broker:
  listeners:
    - {type: tcp, address: %q}
  sys_interval: 1s
storage: {dir: %q}
devices:
  - {id: ard1, type: serial, port: %q, format: kv, restart: {min: 200ms, max: 2s}}
`, addr, filepath.Join(dir, "data"), link)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/gw/#", "$SYS/broker/devices/#")
	d.Write(t, "temp=1\n")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/ard1/status") == "online" }, "online")

	d.Unplug()
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/ard1/status") == "offline" }, "offline within 5 s of the unplug")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter("ard1", "failures") >= 1 }, "failure counted\n"+c.dump())

	d = devicestest.OpenPTY(t, link) // replugged: the same by-id name, a new device node
	replugged := time.Now()
	brokertest.Eventually(t, 10*time.Second, func() bool {
		d.Write(t, "temp=2\n") // the sensor keeps sending
		time.Sleep(100 * time.Millisecond)
		return c.last("edgemq/gw/ard1/status") == "online"
	}, "online within 10 s of the replug\n"+c.dump())
	t.Logf("back online %v after the replug", time.Since(replugged).Round(time.Millisecond))
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/ard1/temp") == "2" }, "readings flow again")
	d.Write(t, "temp=3\n")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/ard1/temp") == "3" }, "readings flow again")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.counter("ard1", "reconnects") >= 1 }, "reconnect counted")
}

func TestDevicesList(t *testing.T) {
	out, err := runBinary(t, "devices", "list")
	if err != nil {
		t.Fatalf("devices list: %v\n%s", err, out)
	}
	for _, s := range []string{"serial ports:\n", "gpio chips:\n", "i2c buses:\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("devices list output lacks %q:\n%s", s, out)
		}
	}
	if out, err := runBinary(t, "devices"); err == nil || !strings.Contains(out, "usage: edgemq devices list") {
		t.Errorf("devices without list: %v\n%s", err, out)
	}
}

func TestDevicesConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(cfg, []byte("devices:\n  - id: a\n    type: serial\n    port: /dev/ttyUSB0\n    baud: 250000\n"), 0o600)
	out, err := runBinary(t, "check-config", cfg)
	if err == nil || !strings.Contains(out, "bad.yaml:5: devices[0].baud: 250000 is not a baud rate the serial driver can set") {
		t.Errorf("check-config: %v\n%s", err, out)
	}
	// The example names certificate files of the target system, which
	// check-config reports; its devices must pass.
	out, _ = runBinary(t, "check-config", "../../edgemq.example.yaml")
	if strings.Contains(out, "devices") {
		t.Errorf("check-config on the example reports devices:\n%s", out)
	}
}

// runBinary runs the edgemq binary with args and returns its combined
// output.
func runBinary(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binPath, args...).CombinedOutput()
	return string(out), err
}

func TestDevicesReload(t *testing.T) {
	dir := t.TempDir()
	a := devicestest.OpenPTY(t, filepath.Join(dir, "a"))
	b := devicestest.OpenPTY(t, filepath.Join(dir, "b"))
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "edgemq.yaml")
	base := fmt.Sprintf("gateway: {id: gw}\nbroker:\n  listeners:\n    - {type: tcp, address: %q}\nstorage: {dir: %q}\nhttp: {address: \"127.0.0.1:0\"}\ndevices:\n  - {id: a, type: serial, port: %q, format: kv}\n",
		addr, filepath.Join(dir, "data"), a.Link)
	if err := os.WriteFile(cfg, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, cfg, addr)
	c := subscribeAll(t, addr, "edgemq/gw/#")
	a.Write(t, "v=1\n")
	brokertest.Eventually(t, 5*time.Second, func() bool { return c.last("edgemq/gw/a/v") == "1" }, "a publishes")

	next := base + fmt.Sprintf("  - {id: b, type: serial, port: %q, format: kv}\n", b.Link)
	if err := os.WriteFile(cfg, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	brokertest.Eventually(t, 5*time.Second, func() bool {
		return strings.Contains(g.log.String(), "applied=\"broker.auth, log.level, memory_limit, devices\"")
	}, "reload applied devices")
	brokertest.Eventually(t, 5*time.Second, func() bool {
		a.Write(t, "v=2\n")
		b.Write(t, "w=3\n")
		time.Sleep(100 * time.Millisecond)
		return c.last("edgemq/gw/a/v") == "2" && c.last("edgemq/gw/b/w") == "3"
	}, "both devices publish after the reload\n"+c.dump())
}
