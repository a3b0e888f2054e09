package devices_test

import (
	"context"
	"errors"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
)

// fakeAdapter publishes what the test sends on readings, and fails when
// the test sends on fail.
type fakeAdapter struct {
	readings chan devices.Reading
	fail     chan error
	cmds     chan devices.Command
	runs     atomic.Int32
	writable []string
	panics   bool
}

func newFake() *fakeAdapter {
	return &fakeAdapter{readings: make(chan devices.Reading), fail: make(chan error), cmds: make(chan devices.Command, 8)}
}

func (a *fakeAdapter) Writable() []string { return a.writable }

func (a *fakeAdapter) Run(ctx context.Context, out devices.Publisher) error {
	a.runs.Add(1)
	if a.panics {
		panic("boom")
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-a.fail:
			return err
		case r := <-a.readings:
			if err := out.Publish(ctx, r); err != nil {
				return err
			}
		case c := <-out.Commands():
			a.cmds <- c
			out.Publish(ctx, devices.Reading{Fields: []devices.Field{{Name: c.Field, Value: devices.String(c.Payload)}}})
		}
	}
}

func start(t *testing.T, c devices.Client, devs ...devices.Device) *devices.Supervisor {
	t.Helper()
	s, err := devices.Start(devices.Options{Client: c, GatewayID: "gw", Logger: brokertest.TestLogger(t)}, devs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func reading(fields ...any) devices.Reading {
	var r devices.Reading
	for i := 0; i < len(fields); i += 2 {
		r.Fields = append(r.Fields, devices.Field{Name: fields[i].(string), Value: fields[i+1].(devices.Value)})
	}
	return r
}

func lastIs(c *devicestest.Client, topic, want string) func() bool {
	return func() bool { got, _ := c.Last(topic); return got == want }
}

func TestSupervisorStatusAndStale(t *testing.T) {
	c := &devicestest.Client{}
	a := newFake()
	s := start(t, c, devices.Device{ID: "d1", Adapter: a, StaleAfter: 200 * time.Millisecond, QoS: 1, Retain: true})
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "edgemq/gw/d1/status", "offline"), "offline at start")
	a.readings <- reading("temp", devices.Number(21.5, 2), "state", devices.String("ok"))
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "edgemq/gw/d1/status", "online"), "online after a reading")
	for _, m := range c.Messages("edgemq/gw/d1/") {
		switch m.Topic {
		case "edgemq/gw/d1/status":
			if m.QoS != 1 || !m.Retain {
				t.Errorf("status %+v: want QoS 1, retained", m)
			}
		case "edgemq/gw/d1/temp":
			if m.Payload != "21.50" || m.QoS != 1 || !m.Retain {
				t.Errorf("temp %+v", m)
			}
		case "edgemq/gw/d1/state":
			if m.Payload != "ok" {
				t.Errorf("state %+v", m)
			}
		default:
			t.Errorf("unexpected %+v", m)
		}
	}
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "edgemq/gw/d1/status", "offline"), "offline when stale")
	if st := s.Stats()[0]; st.Online {
		t.Errorf("stale device reported online: %+v", st)
	}
	a.readings <- reading("temp", devices.Number(22, 0))
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "edgemq/gw/d1/status", "online"), "online with the next reading")
	st := s.Stats()[0]
	if st.Published != 3 || st.ID != "d1" || st.LastReading.IsZero() {
		t.Errorf("Stats = %+v", st)
	}
}

func TestSupervisorRestart(t *testing.T) {
	c := &devicestest.Client{}
	a := newFake()
	s := start(t, c, devices.Device{ID: "d1", Adapter: a, Topic: "site/d1", RestartMin: 10 * time.Millisecond, RestartMax: 20 * time.Millisecond})
	a.readings <- reading("v", devices.Number(1, 0))
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "site/d1/status", "online"), "online")
	a.fail <- errors.New("unplugged")
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "site/d1/status", "offline"), "offline after a failure")
	brokertest.Eventually(t, 2*time.Second, func() bool { return a.runs.Load() == 2 }, "restarted")
	st := s.Stats()[0]
	if st.Failures != 1 || st.Reconnects != 1 || st.LastError != "unplugged" {
		t.Errorf("Stats = %+v", st)
	}
	a.readings <- reading("v", devices.Number(2, 0))
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "site/d1/status", "online"), "online again")
	if st := s.Stats()[0]; st.LastError != "" {
		t.Errorf("LastError after a reading = %q", st.LastError)
	}
}

func TestSupervisorPanicIsAFailure(t *testing.T) {
	c := &devicestest.Client{}
	a := newFake()
	a.panics = true
	s := start(t, c, devices.Device{ID: "d1", Adapter: a, RestartMin: 5 * time.Millisecond, RestartMax: 10 * time.Millisecond})
	brokertest.Eventually(t, 2*time.Second, func() bool { return s.Stats()[0].Failures >= 3 }, "restarted after panics")
	if st := s.Stats()[0]; !regexp.MustCompile(`^adapter panic: boom`).MatchString(st.LastError) {
		t.Errorf("LastError = %q", st.LastError)
	}
}

func TestSupervisorJSONAndBadFields(t *testing.T) {
	c := &devicestest.Client{}
	a := newFake()
	s := start(t, c, devices.Device{ID: "d1", Adapter: a, JSON: true})
	r := reading("temp", devices.Number(21.5, 2), "door", devices.String(`o"pen`), "status", devices.String("x"), "a/b", devices.Number(1, 0))
	r.Time = time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.FixedZone("x", 3600))
	a.readings <- r
	brokertest.Eventually(t, 2*time.Second, func() bool { _, ok := c.Last("edgemq/gw/d1"); return ok }, "json published")
	got, _ := c.Last("edgemq/gw/d1")
	if want := `{"time":"2026-01-02T02:04:05.678Z","temp":21.50,"door":"o\"pen"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	if st := s.Stats()[0]; st.ParseErrors != 2 || st.Published != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestSupervisorCommands(t *testing.T) {
	c := &devicestest.Client{}
	a := newFake()
	a.writable = []string{"relay"}
	start(t, c, devices.Device{ID: "d1", Adapter: a})
	brokertest.Eventually(t, 2*time.Second, func() bool { return a.runs.Load() == 1 }, "running")
	c.Send("edgemq/gw/d1/relay/set", "on")
	select {
	case cmd := <-a.cmds:
		if cmd != (devices.Command{Field: "relay", Payload: "on"}) {
			t.Errorf("command = %+v", cmd)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no command")
	}
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "edgemq/gw/d1/relay", "on"), "confirmed")
}

func TestSupervisorCloseOffline(t *testing.T) {
	c := &devicestest.Client{}
	a := newFake()
	s, err := devices.Start(devices.Options{Client: c, GatewayID: "gw", SysInterval: time.Hour}, []devices.Device{{ID: "d1", Adapter: a}})
	if err != nil {
		t.Fatal(err)
	}
	a.readings <- reading("v", devices.Number(1, 0))
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "edgemq/gw/d1/status", "online"), "online")
	brokertest.Eventually(t, 2*time.Second, lastIs(c, "$SYS/broker/devices/d1/lines_read", "0"), "$SYS published")
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal("second Close:", err)
	}
	if got, _ := c.Last("edgemq/gw/d1/status"); got != "offline" {
		t.Errorf("status after Close = %q", got)
	}
}

func TestStartRefuses(t *testing.T) {
	c := &devicestest.Client{}
	for _, devs := range [][]devices.Device{
		{{ID: "", Adapter: newFake()}},
		{{ID: "a b", Adapter: newFake()}},
		{{ID: "a", Adapter: newFake()}, {ID: "a", Adapter: newFake()}},
		{{ID: "a"}},
		{{ID: "a", Adapter: newFake(), Topic: "x/+"}},
		{{ID: "a", Adapter: newFake(), QoS: 3}},
	} {
		if s, err := devices.Start(devices.Options{Client: c}, devs); err == nil {
			s.Close(context.Background())
			t.Errorf("Start(%+v) succeeded", devs)
		}
	}
}
