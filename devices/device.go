package devices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// commandQueue bounds the commands waiting for one adapter.
const commandQueue = 8

// statusTimeout bounds the publishing of a status message.
const statusTimeout = 5 * time.Second

// Stats are the figures of one device.
type Stats struct {
	ID     string
	Online bool
	// LastReading is when the last valid reading was published.
	LastReading time.Time
	// LastError is why the adapter last failed; empty once it publishes
	// again.
	LastError string
	// Adapter counters (see Counter).
	LinesRead, ParseErrors, Polls, CommandsRejected uint64
	// Failures counts adapter runs that ended with an error.
	Failures uint64
	// Reconnects counts restarts of the adapter after a failure.
	Reconnects uint64
	// Published counts messages published (fields, or JSON objects).
	Published uint64
	// PublishErrors counts readings the broker refused.
	PublishErrors uint64
	// CommandsDropped counts commands that arrived while the adapter was
	// not running or its queue was full.
	CommandsDropped uint64
}

var _ GroupStatusPublisher = (*publisher)(nil)

// device runs one adapter. Lock order: none (mu is never held while
// calling out).
type device struct {
	s        *Supervisor
	cfg      Device
	writable []string
	cmds     chan Command
	running  atomic.Bool
	wake     chan struct{} // capacity 1: the status may have changed

	counters                 [numCounters]atomic.Uint64
	failures, reconnects     atomic.Uint64
	published, publishErrors atomic.Uint64
	commandsDropped          atomic.Uint64

	mu          sync.Mutex
	up          bool // wanted status: a valid reading since the last failure
	online      bool // published status
	lastReading time.Time
	lastErr     string
	groupsUp    map[string]bool // groups published online by the current run
}

func newDevice(s *Supervisor, cfg Device) *device {
	d := &device{s: s, cfg: cfg, cmds: make(chan Command, commandQueue), wake: make(chan struct{}, 1)}
	if c, ok := cfg.Adapter.(Commander); ok {
		d.writable = c.Writable()
	}
	return d
}

func (d *device) subscribe() error {
	for _, f := range d.writable {
		field := f
		filter := d.cfg.Topic + "/" + field + "/set"
		err := d.s.opts.Client.Subscribe(filter, 1, func(_ string, payload []byte) {
			if !d.running.Load() {
				d.commandsDropped.Add(1)
				return
			}
			select {
			case d.cmds <- Command{Field: field, Payload: string(payload)}:
			default:
				d.commandsDropped.Add(1)
			}
		})
		if err != nil {
			return fmt.Errorf("devices: device %q: subscribe %s: %w", d.cfg.ID, filter, err)
		}
	}
	return nil
}

// supervise runs the adapter until ctx is done, restarting it with
// back-off when it fails.
func (d *device) supervise(ctx context.Context) {
	log := d.s.opts.Logger.With("device", d.cfg.ID)
	fails := 0
	for run := 0; ; run++ {
		if run > 0 {
			d.reconnects.Add(1)
		}
		for len(d.cmds) > 0 { // stale commands are not replayed
			<-d.cmds
			d.commandsDropped.Add(1)
		}
		p := &publisher{d: d}
		d.running.Store(true)
		err := d.runOnce(ctx, p)
		d.running.Store(false)
		d.groupsOffline()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("adapter stopped")
		}
		d.failures.Add(1)
		d.setDown(err.Error())
		if p.readings.Load() > 0 {
			fails = 0
		}
		fails++
		wait := backoff(fails, d.cfg.RestartMin, orDefault(d.cfg.RestartMax, DefaultRestartMax), jitter)
		log.Warn("device failed", "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// runOnce runs the adapter once, turning a panic into an error.
func (d *device) runOnce(ctx context.Context, p *publisher) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("adapter panic: %v\n%s", r, debug.Stack())
		}
	}()
	return d.cfg.Adapter.Run(ctx, p)
}

// groupsOffline publishes offline the groups the last run published
// online; their adapter no longer polls them.
func (d *device) groupsOffline() {
	d.mu.Lock()
	var groups []string
	for g, up := range d.groupsUp {
		if up {
			groups = append(groups, g)
		}
	}
	d.groupsUp = nil
	d.mu.Unlock()
	for _, g := range groups {
		ctx, cancel := context.WithTimeout(context.Background(), statusTimeout)
		if err := d.s.opts.Client.Publish(ctx, d.cfg.Topic+"/"+g+"/status", []byte("offline"), 1, true); err != nil {
			d.s.opts.Logger.Warn("group status not published", "device", d.cfg.ID, "group", g, "err", err)
		}
		cancel()
	}
}

// markUp marks the device online without a reading (its adapter
// reached the bus).
func (d *device) markUp() {
	d.mu.Lock()
	d.up = true
	d.lastErr = ""
	d.mu.Unlock()
	d.signal()
}

func (d *device) setDown(reason string) {
	d.mu.Lock()
	d.up = false
	d.lastErr = reason
	d.mu.Unlock()
	d.signal()
}

func (d *device) setUp(t time.Time) {
	d.mu.Lock()
	d.up = true
	d.lastErr = ""
	if t.After(d.lastReading) {
		d.lastReading = t
	}
	d.mu.Unlock()
	d.signal()
}

func (d *device) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// statusLoop publishes the device's status when it changes; it exits
// when ctx is done, after publishing "offline".
func (d *device) statusLoop(ctx context.Context) {
	topic := d.cfg.Topic + "/status"
	pub := func(ctx context.Context, online bool) {
		payload := "offline"
		if online {
			payload = "online"
		}
		pctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		if err := d.s.opts.Client.Publish(pctx, topic, []byte(payload), 1, true); err != nil {
			d.s.opts.Logger.Warn("device status not published", "device", d.cfg.ID, "err", err)
		}
		d.mu.Lock()
		d.online = online
		d.mu.Unlock()
	}
	pub(ctx, false) // a retained "online" from a previous run is stale
	published := false
	stale := time.NewTimer(time.Hour)
	stale.Stop()
	defer stale.Stop()
	for {
		d.mu.Lock()
		up, last := d.up, d.lastReading
		var left time.Duration
		if up && d.cfg.StaleAfter > 0 {
			left = d.cfg.StaleAfter - time.Since(last)
			if left <= 0 {
				up, d.up = false, false
			}
		}
		d.mu.Unlock()
		if up != published {
			pub(ctx, up)
			published = up
		}
		if left > 0 {
			stale.Reset(left)
		}
		select {
		case <-ctx.Done():
			pub(context.Background(), false)
			return
		case <-d.wake:
			stale.Stop()
		case <-stale.C:
		}
	}
}

func (d *device) stats() Stats {
	d.mu.Lock()
	st := Stats{ID: d.cfg.ID, Online: d.online, LastReading: d.lastReading, LastError: d.lastErr}
	d.mu.Unlock()
	st.LinesRead = d.counters[LinesRead].Load()
	st.ParseErrors = d.counters[ParseErrors].Load()
	st.Polls = d.counters[Polls].Load()
	st.CommandsRejected = d.counters[CommandsRejected].Load()
	st.Failures = d.failures.Load()
	st.Reconnects = d.reconnects.Load()
	st.Published = d.published.Load()
	st.PublishErrors = d.publishErrors.Load()
	st.CommandsDropped = d.commandsDropped.Load()
	return st
}

// publisher is the Publisher (and GroupStatusPublisher) of one adapter
// run.
type publisher struct {
	d        *device
	readings atomic.Uint64
}

func (p *publisher) Count(c Counter, n uint64) {
	if c >= 0 && c < numCounters {
		p.d.counters[c].Add(n)
	}
}

func (p *publisher) Commands() <-chan Command { return p.d.cmds }

// timeFormat is RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func (p *publisher) Publish(ctx context.Context, r Reading) error {
	d := p.d
	if d.s.ctx.Err() != nil {
		return ErrStopped
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	topic := d.cfg.Topic
	if r.Group != "" {
		if !ValidFieldName(r.Group) {
			d.counters[ParseErrors].Add(uint64(len(r.Fields)))
			return nil
		}
		topic += "/" + r.Group
	}
	fields := r.Fields[:0:0]
	for _, f := range r.Fields {
		if !ValidFieldName(f.Name) || !f.Value.Valid() {
			d.counters[ParseErrors].Add(1)
			continue
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return nil
	}
	c := d.s.opts.Client
	if d.cfg.JSON {
		if err := c.Publish(ctx, topic, jsonPayload(r.Time, fields), d.cfg.QoS, d.cfg.Retain); err != nil {
			d.publishErrors.Add(1)
			return err
		}
		d.published.Add(1)
	} else {
		for _, f := range fields {
			if err := c.Publish(ctx, topic+"/"+f.Name, []byte(f.Value.String()), d.cfg.QoS, d.cfg.Retain); err != nil {
				d.publishErrors.Add(1)
				return err
			}
			d.published.Add(1)
		}
	}
	p.readings.Add(1)
	d.setUp(time.Now())
	return nil
}

// PublishGroupStatus implements GroupStatusPublisher.
func (p *publisher) PublishGroupStatus(ctx context.Context, group string, online bool) error {
	d := p.d
	if d.s.ctx.Err() != nil {
		return ErrStopped
	}
	if !ValidFieldName(group) {
		return fmt.Errorf("devices: invalid group name %q", group)
	}
	payload := "offline"
	if online {
		payload = "online"
	}
	if err := d.s.opts.Client.Publish(ctx, d.cfg.Topic+"/"+group+"/status", []byte(payload), 1, true); err != nil {
		return err
	}
	d.mu.Lock()
	if d.groupsUp == nil {
		d.groupsUp = make(map[string]bool)
	}
	d.groupsUp[group] = online
	d.mu.Unlock()
	d.markUp()
	return nil
}

// jsonPayload is {"time":"...","field":value,...}, numbers as their
// decimal text.
func jsonPayload(t time.Time, fields []Field) []byte {
	var b strings.Builder
	b.WriteString(`{"time":"`)
	b.WriteString(t.UTC().Format(timeFormat))
	b.WriteByte('"')
	for _, f := range fields {
		b.WriteString(`,"`)
		b.WriteString(f.Name) // field names need no escaping
		b.WriteString(`":`)
		if f.Value.IsNumber() {
			b.WriteString(f.Value.String())
		} else {
			s, _ := json.Marshal(f.Value.String())
			b.Write(s)
		}
	}
	b.WriteByte('}')
	return []byte(b.String())
}
