package onewire

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/edgemq/edgemq/devices"
)

// offlineAfter is how many failed reads in a row put a sensor offline.
const offlineAfter = 3

// field is the name of the published temperature.
const field = "temperature"

// run is the state of one Run. Only Run's goroutine uses it.
type run struct {
	a   *Adapter
	out devices.Publisher
	gs  devices.GroupStatusPublisher // nil: statuses are not published
	// sensors are the configured sensors, or those discovered so far.
	sensors map[string]*sensor
	listed  []*sensor // configured sensors, in order; nil: discover
}

// sensor is the poll state of one sensor.
type sensor struct {
	id, name string
	fails    int // failed reads in a row
	// status is the last published status: 0 none yet, 1 online, -1
	// offline.
	status int
}

func newRun(a *Adapter, out devices.Publisher) *run {
	r := &run{a: a, out: out, sensors: make(map[string]*sensor)}
	r.gs, _ = out.(devices.GroupStatusPublisher)
	for _, sc := range a.cfg.Sensors {
		s := &sensor{id: sc.ID, name: sc.name()}
		r.sensors[s.id] = s
		r.listed = append(r.listed, s)
	}
	return r
}

// cycle lists the bus, publishes removed sensors offline and reads the
// others. It returns ctx's error, or why the bus cannot be listed.
func (r *run) cycle(ctx context.Context) error {
	present, err := r.scan()
	if err != nil {
		return err
	}
	var poll []*sensor
	if r.listed != nil {
		for _, s := range r.listed {
			if present[s.id] {
				poll = append(poll, s)
			}
		}
	} else {
		for _, id := range slices.Sorted(maps.Keys(present)) {
			s := r.sensors[id]
			if s == nil {
				s = &sensor{id: id, name: id}
				r.sensors[id] = s
			}
			poll = append(poll, s)
		}
	}
	for _, s := range r.ordered() {
		if !present[s.id] { // removed, or never there
			s.fails = 0
			if err := r.setStatus(ctx, s, false); err != nil {
				return err
			}
		}
	}
	for _, s := range poll {
		if err := ctx.Err(); err != nil {
			return err // a read may block for 750 ms
		}
		if err := r.poll(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// scan returns the DS18B20 ids in the bus directory.
func (r *run) scan() (map[string]bool, error) {
	root := r.a.cfg.Root
	entries, err := os.ReadDir(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("onewire: no 1-Wire bus at %s: load the w1-gpio and w1-therm modules (dtoverlay=w1-gpio): %w", root, err)
	case err != nil:
		return nil, fmt.Errorf("onewire: list 1-Wire bus %s: %w", root, err)
	}
	present := make(map[string]bool)
	for _, e := range entries {
		// In sysfs the entries are symlinks: names only.
		if validID(e.Name()) {
			present[e.Name()] = true
		}
	}
	return present, nil
}

// ordered returns the known sensors: the configured ones in order, or
// the discovered ones by id.
func (r *run) ordered() []*sensor {
	if r.listed != nil {
		return r.listed
	}
	out := make([]*sensor, 0, len(r.sensors))
	for _, id := range slices.Sorted(maps.Keys(r.sensors)) {
		out = append(out, r.sensors[id])
	}
	return out
}

// poll reads s once and publishes its temperature, and its status when
// it changed. It returns only ctx's error.
func (r *run) poll(ctx context.Context, s *sensor) error {
	r.out.Count(devices.Polls, 1)
	b, err := r.a.read(filepath.Join(r.a.cfg.Root, s.id, "w1_slave"))
	if err != nil {
		return r.failed(ctx, s)
	}
	r.out.Count(devices.LinesRead, 1)
	milli, err := parse(b)
	if err != nil {
		r.out.Count(devices.ParseErrors, 1)
		return r.failed(ctx, s)
	}
	s.fails = 0
	v := devices.Number(float64(milli)/1000, *r.a.cfg.Decimals)
	reading := devices.Reading{Time: time.Now(), Group: s.name, Fields: []devices.Field{{Name: field, Value: v}}}
	if err := r.out.Publish(ctx, reading); err != nil && ctx.Err() != nil {
		return err
	}
	return r.setStatus(ctx, s, true)
}

// failed counts a failed read of s, and puts s offline after
// offlineAfter in a row.
func (r *run) failed(ctx context.Context, s *sensor) error {
	s.fails++
	if s.fails < offlineAfter {
		return nil
	}
	return r.setStatus(ctx, s, false)
}

// setStatus publishes s's status if it changed. A status that could not
// be published is published again with the next read.
func (r *run) setStatus(ctx context.Context, s *sensor, online bool) error {
	want := -1
	if online {
		want = 1
	}
	if s.status == want {
		return nil
	}
	if r.gs != nil {
		if err := r.gs.PublishGroupStatus(ctx, s.name, online); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return nil
		}
	}
	s.status = want
	return nil
}
