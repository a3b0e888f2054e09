package devices_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
)

// busAdapter publishes the group statuses and readings the test sends,
// as a bus adapter with sub-devices does.
type busAdapter struct {
	status   chan [2]any // group, online
	readings chan devices.Reading
	fail     chan error
}

func (a *busAdapter) Run(ctx context.Context, out devices.Publisher) error {
	gs, ok := out.(devices.GroupStatusPublisher)
	if !ok {
		return errors.New("no GroupStatusPublisher")
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-a.fail:
			return err
		case s := <-a.status:
			if err := gs.PublishGroupStatus(ctx, s[0].(string), s[1].(bool)); err != nil {
				return err
			}
		case r := <-a.readings:
			if err := out.Publish(ctx, r); err != nil {
				return err
			}
		}
	}
}

func TestGroups(t *testing.T) {
	c := &devicestest.Client{}
	a := &busAdapter{status: make(chan [2]any), readings: make(chan devices.Reading), fail: make(chan error)}
	j := &busAdapter{status: make(chan [2]any), readings: make(chan devices.Reading), fail: make(chan error)}
	s := start(t, c, devices.Device{ID: "bus", Adapter: a, RestartMin: time.Millisecond},
		devices.Device{ID: "busj", Adapter: j, JSON: true})

	r := reading("voltage", devices.Number(230.14, 1))
	r.Group = "meter1"
	a.readings <- r
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/meter1/voltage", "230.1"), "group field")
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/status", "online"), "bus online")
	j.readings <- r
	brokertest.Eventually(t, 5*time.Second, func() bool {
		got, _ := c.Last("edgemq/gw/busj/meter1")
		return len(got) > 0 && got[len(got)-17:] == `,"voltage":230.1}`
	}, "group JSON object")

	bad := reading("x", devices.Number(1, 0), "y", devices.Number(2, 0))
	bad.Group = "a/b"
	a.readings <- bad
	brokertest.Eventually(t, 5*time.Second, func() bool { return s.Stats()[0].ParseErrors == 2 }, "invalid group counted")

	a.status <- [2]any{"meter1", true}
	a.status <- [2]any{"meter2", false}
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/meter1/status", "online"), "meter1 online")
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/meter2/status", "offline"), "meter2 offline")
	for _, m := range c.Messages("edgemq/gw/bus/meter1/status") {
		if m.QoS != 1 || !m.Retain {
			t.Errorf("group status %+v, want QoS 1 retained", m)
		}
	}

	// The adapter fails: its groups go offline with it, and come back
	// with the next run.
	a.fail <- errors.New("bus error")
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/meter1/status", "offline"), "meter1 offline after the failure")
	a.status <- [2]any{"meter1", true}
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/meter1/status", "online"), "meter1 online again")
	brokertest.Eventually(t, 5*time.Second, lastIs(c, "edgemq/gw/bus/status", "online"), "a group status marks the bus online")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Last("edgemq/gw/bus/meter1/status"); got != "offline" {
		t.Errorf("after Close: meter1 status %q, want offline", got)
	}
}
