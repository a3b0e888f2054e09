package bridge

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// Errors of the bridge.
var (
	// ErrInvalid: the configuration cannot work.
	ErrInvalid = errors.New("bridge: invalid configuration")
	// ErrClosed: the bridge was closed.
	ErrClosed = errors.New("bridge: closed")
	// ErrAckTimeout: the uplink did not acknowledge a message in time.
	ErrAckTimeout = errors.New("bridge: uplink acknowledgement timed out")
)

// Rule maps a filter on one side to a prefix on the other.
type Rule struct {
	// Local is the local filter (out) or topic prefix (in).
	Local string
	// Remote is the remote topic prefix (out) or filter (in).
	Remote string
	// QoS is the QoS used on the far side (out: publish; in: subscribe).
	QoS byte
	// Retain, for out rules, overrides the retain flag of the forwarded
	// messages; nil keeps the local publisher's.
	Retain *bool
	// TopicProperty, for out rules, makes Remote one fixed topic (it need
	// not end in "#" when Local does) and appends the local topic to it
	// as a URL-encoded property bag "<TopicProperty>=<topic>", the way
	// Azure IoT Hub reads application properties from the last level of
	// devices/<id>/messages/events/.
	TopicProperty string
}

// SequenceKey is the MQTT 5 user property that carries a forwarded
// message's sequence number in its bridge's queue (Config.SequenceProperty):
// increasing, never reused, the same when a message is sent again, so the
// receiving side can drop duplicates.
const SequenceKey = "edgemq-seq"

// Config configures a bridge.
type Config struct {
	// Name names the bridge and its queue.
	Name string
	// Address is host:port of the uplink, with an optional "tcp://" or
	// "tls://" prefix ("tls://" without TLS uses a default tls.Config).
	Address string
	// TLS, if set, secures the connection (CA pool, client certificate,
	// server name); ServerName defaults to the address's host.
	TLS *tls.Config
	// Protocol is packet.Version311 (default) or packet.Version5.
	Protocol byte
	// ClientID on the uplink (default: "edgemq-" + GatewayID + "-" + Name).
	ClientID string
	// Username and Password of the CONNECT; Credentials, if set, replaces
	// them.
	Username string
	Password string
	// Credentials, if set, is asked for the user name and password before
	// every connect. A non-zero expires plans a reconnect with fresh
	// credentials at 80% of the time left until then (see RenewAt): an
	// orderly one, not counted as a failure, the unacknowledged records
	// sent again as on any reconnect. An error fails the connect attempt
	// (back-off as usual).
	Credentials func(now time.Time) (user, pass string, expires time.Time, err error)
	// Limits are the uplink's per-message limits; a record beyond one is
	// dropped when it comes to be sent (Stats.Oversize, Stats.TopicLimit).
	Limits Limits
	// NoStatus leaves out the will and birth on edgemq/<gateway-id>/status,
	// for uplinks that accept only their own topics (Azure IoT Hub).
	NoStatus bool
	// KeepAlive on the uplink (default 30 s; at least 1 s).
	KeepAlive time.Duration
	// CleanStart starts a new uplink session on every connect; by default
	// the session (and the uplink's "in" deliveries queued in it) is
	// resumed.
	CleanStart bool
	// SessionExpiry is the MQTT 5 session expiry on the uplink: 0 means
	// one hour, a negative value 0 (the session ends with the connection).
	SessionExpiry time.Duration
	// MaxRate and MaxByteRate pace the forwarding (a replayed backlog as
	// well as live messages, which queue behind it): at most this many
	// messages and payload bytes per second; 0 is no limit.
	MaxRate, MaxByteRate int
	// SequenceProperty adds the SequenceKey user property to every
	// forwarded message (MQTT 5 uplinks only).
	SequenceProperty bool
	// GatewayID goes into the status topic edgemq/<gateway-id>/status.
	GatewayID string
	Out       []Rule
	In        []Rule
	// Queue limits of the forward queue; MaxBytes is required.
	Queue storefwd.Limits
	// Window bounds the messages in flight (default 64, at most 32768).
	Window int
	// ReconnectMin and ReconnectMax bound the back-off (defaults 1 s, 2 min).
	ReconnectMin, ReconnectMax time.Duration
	// AckTimeout: a PUBACK/PUBCOMP missing this long reconnects (default 30 s).
	AckTimeout time.Duration
	// DialTimeout bounds dialling and CONNACK (default 10 s).
	DialTimeout time.Duration
	// SysInterval is the period of the bridge's figures under
	// $SYS/broker/bridge/<name>/ (connected, queue/messages, forwarded,
	// dropped, ...); 0: none.
	SysInterval time.Duration
	Logger      *slog.Logger
}

const maxWindow = 32768 // packet ids 1..32768 for records, above for control

func (c *Config) setDefaults() error {
	if c.Name == "" {
		return fmt.Errorf("%w: no name", ErrInvalid)
	}
	if a, ok := strings.CutPrefix(c.Address, "tls://"); ok {
		c.Address = a
		if c.TLS == nil {
			c.TLS = &tls.Config{}
		}
	}
	c.Address = strings.TrimPrefix(c.Address, "tcp://")
	if c.TLS != nil {
		c.TLS = c.TLS.Clone()
		if c.TLS.ServerName == "" {
			host, _, err := net.SplitHostPort(c.Address)
			if err != nil {
				return fmt.Errorf("%w: bridge %q: address %q: %w", ErrInvalid, c.Name, c.Address, err)
			}
			c.TLS.ServerName = host
		}
		c.TLS.MinVersion = max(c.TLS.MinVersion, tls.VersionTLS12)
	}
	if c.Address == "" || strings.Contains(c.Address, "://") {
		return fmt.Errorf("%w: bridge %q: address %q (want tcp://host:port)", ErrInvalid, c.Name, c.Address)
	}
	switch c.Protocol {
	case 0:
		c.Protocol = packet.Version311
	case packet.Version311, packet.Version5:
	default:
		return fmt.Errorf("%w: bridge %q: protocol %d", ErrInvalid, c.Name, c.Protocol)
	}
	if c.GatewayID == "" {
		c.GatewayID = "edgemq"
	}
	if c.ClientID == "" {
		c.ClientID = "edgemq-" + c.GatewayID + "-" + c.Name
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.KeepAlive < time.Second || c.KeepAlive > 65535*time.Second {
		return fmt.Errorf("%w: bridge %q: keep_alive %v", ErrInvalid, c.Name, c.KeepAlive)
	}
	if c.SessionExpiry == 0 {
		c.SessionExpiry = time.Hour
	}
	if c.SessionExpiry > 0xFFFFFFFF*time.Second || c.MaxRate < 0 || c.MaxByteRate < 0 {
		return fmt.Errorf("%w: bridge %q: session expiry %v, max rate %d, max byte rate %d", ErrInvalid, c.Name, c.SessionExpiry, c.MaxRate, c.MaxByteRate)
	}
	if c.Window == 0 {
		c.Window = storefwd.DefaultWindow
	}
	if c.Window < 1 || c.Window > maxWindow {
		return fmt.Errorf("%w: bridge %q: window %d", ErrInvalid, c.Name, c.Window)
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = time.Second
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = 2 * time.Minute
	}
	if c.ReconnectMax < c.ReconnectMin {
		return fmt.Errorf("%w: bridge %q: reconnect max %v < min %v", ErrInvalid, c.Name, c.ReconnectMax, c.ReconnectMin)
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 30 * time.Second
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Limits.MaxPayload < 0 || c.Limits.MaxTopicBytes < 0 || c.Limits.MaxTopicLevels < 0 {
		return fmt.Errorf("%w: bridge %q: negative limit %+v", ErrInvalid, c.Name, c.Limits)
	}
	for _, r := range c.Out {
		check := checkRule
		if r.TopicProperty != "" {
			check = checkFixedRule
		}
		if err := check(r.Local, r.Remote, r.QoS); err != nil {
			return fmt.Errorf("%w: bridge %q: out %q -> %q: %w", ErrInvalid, c.Name, r.Local, r.Remote, err)
		}
	}
	for _, r := range c.In {
		if err := checkRule(r.Remote, r.Local, r.QoS); err != nil {
			return fmt.Errorf("%w: bridge %q: in %q -> %q: %w", ErrInvalid, c.Name, r.Remote, r.Local, err)
		}
	}
	return nil
}

// CheckRule validates a mapping from filter to target as a rule needs it.
func CheckRule(filter, target string, qos byte) error { return checkRule(filter, target, qos) }

func checkRule(filter, target string, qos byte) error {
	if qos > 2 {
		return fmt.Errorf("qos %d", qos)
	}
	if filter == "" || target == "" {
		return errors.New("empty filter or target")
	}
	if strings.ContainsAny(filter, "+") || strings.ContainsAny(target, "+") {
		return errors.New(`"+" is not supported in bridge rules`)
	}
	fw, tw := strings.HasSuffix(filter, "#"), strings.HasSuffix(target, "#")
	if fw != tw {
		return errors.New(`both sides must end in "#", or neither`)
	}
	if strings.Count(filter, "#") > 1 || strings.Count(target, "#") > 1 ||
		(fw && filter != "#" && !strings.HasSuffix(filter, "/#")) ||
		(tw && target != "#" && !strings.HasSuffix(target, "/#")) {
		return errors.New(`"#" only as the last level`)
	}
	if strings.HasPrefix(filter, "$share/") {
		return errors.New("shared subscriptions are not supported")
	}
	return nil
}

// checkFixedRule validates an out rule with a TopicProperty: any filter
// to one topic without wildcards.
func checkFixedRule(filter, target string, qos byte) error {
	if strings.ContainsAny(target, "+#") {
		return errors.New("a rule with a topic property needs a remote topic without wildcards")
	}
	return checkRule(filter, filter, qos)
}

// mapOut maps the local topic of a message to its remote topic under the
// out rule r; ok is false when it does not match.
func mapOut(r Rule, topic string) (string, bool) {
	if r.TopicProperty == "" {
		return mapTopic(r.Local, r.Remote, topic)
	}
	if _, ok := mapTopic(r.Local, r.Local, topic); !ok {
		return "", false
	}
	return r.Remote + propertyEscape(r.TopicProperty) + "=" + propertyEscape(topic), true
}

// propertyEscape URL-encodes s for a property bag (space as %20, not +).
func propertyEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// mapTopic maps topic, which matches filter, to the target side; ok is
// false when it does not match.
func mapTopic(filter, target, topic string) (string, bool) {
	if !strings.HasSuffix(filter, "#") {
		if topic != filter {
			return "", false
		}
		return target, true
	}
	fp := strings.TrimSuffix(filter, "#") // "sensors/" or ""
	tp := strings.TrimSuffix(target, "#")
	if fp != "" && topic == strings.TrimSuffix(fp, "/") {
		// "sensors/#" matches "sensors" too.
		if tp == "" {
			return "", false
		}
		return strings.TrimSuffix(tp, "/"), true
	}
	if !strings.HasPrefix(topic, fp) {
		return "", false
	}
	return tp + topic[len(fp):], true
}

// Record encoding (storefwd Record.Data): version byte 1, flags (QoS in
// bits 0-1, retain bit 2), uint16 topic length, topic, payload.
const recVersion = 1

func encodeRecord(topicName string, payload []byte, qos byte, retain bool) []byte {
	b := make([]byte, 0, 4+len(topicName)+len(payload))
	f := qos & 3
	if retain {
		f |= 4
	}
	b = append(b, recVersion, f)
	b = binary.BigEndian.AppendUint16(b, uint16(len(topicName)))
	b = append(b, topicName...)
	return append(b, payload...)
}

var errBadRecord = errors.New("bridge: undecodable queue record")

func decodeRecord(b []byte) (topicName string, payload []byte, qos byte, retain bool, err error) {
	if len(b) < 4 || b[0] != recVersion {
		return "", nil, 0, false, errBadRecord
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if len(b) < 4+n || b[1]&3 == 3 {
		return "", nil, 0, false, errBadRecord
	}
	return string(b[4 : 4+n]), b[4+n:], b[1] & 3, b[1]&4 != 0, nil
}

// Stats is a snapshot of a bridge's state.
type Stats struct {
	Connected bool
	Since     time.Time // of the last connect or disconnect
	LastError string
	Queue     storefwd.Stats // depth (Records), Bytes, OldestAge, drops
	Forwarded uint64         // records acknowledged by the uplink (or written, QoS 0)
	Resent    uint64         // records sent again after a reconnect or restart
	Refused   uint64         // records the uplink refused (v5 reason code >= 0x80); acknowledged
	Received  uint64         // messages from "in" rules published locally
	Rejected  uint64         // local publishes refused because the queue was full
	Connects  uint64         // successful CONNACKs, the first included
	Renewals  uint64         // planned reconnects for fresh credentials
	// Oversize and TopicLimit count the records dropped, not sent,
	// because their payload or topic broke Config.Limits.
	Oversize   uint64
	TopicLimit uint64
}

// Dropped is every record lost: queue drops, uplink refusals and records
// beyond the uplink's limits.
func (s Stats) Dropped() uint64 {
	return s.Queue.Dropped.Total() + s.Refused + s.Oversize + s.TopicLimit
}

// Bridge is one running bridge.
type Bridge struct {
	cfg   Config
	log   *slog.Logger
	q     *storefwd.Queue
	local *broker.Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// reconf serializes Reconfigure; out is the running out rules.
	reconf       sync.Mutex
	out          []Rule
	reconfigured chan struct{} // capacity 1: wakes run from its back-off

	mu         sync.Mutex
	endSession context.CancelFunc // ends the current uplink session
	next       *Config            // settings for the next session (Reconfigure)
	pending    []pendingRec
	wake       chan struct{}
	st         Stats
	maxSent    uint64 // highest sequence number ever written to an uplink
	sentAny    bool
	closeErr   error
	closed     bool

	limitLog logLimiter // records dropped for Limits
}

type pendingRec struct {
	rec  storefwd.Record
	done func(error)
}

// New opens the bridge's queue in db, subscribes to the out rules on srv
// and starts connecting to the uplink. Close stops it.
func New(srv *broker.Server, db *kv.DB, cfg Config) (*Bridge, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if len(cfg.Out) > 0 && cfg.Queue.MaxBytes <= 0 {
		return nil, fmt.Errorf("%w: bridge %q: queue max_bytes is required", ErrInvalid, cfg.Name)
	}
	if cfg.Queue.MaxBytes <= 0 {
		cfg.Queue.MaxBytes = 1 << 20
	}
	log := cfg.Logger.With("component", "bridge", "bridge", cfg.Name)
	q, err := storefwd.Open(db, "bridge/"+cfg.Name, storefwd.Options{Limits: cfg.Queue, Window: cfg.Window, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("bridge %q: %w", cfg.Name, err)
	}
	local, err := srv.NewClient("$bridge/" + cfg.Name)
	if err != nil {
		q.Close(context.Background())
		return nil, fmt.Errorf("bridge %q: local client: %w", cfg.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{cfg: cfg, log: log, q: q, local: local, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1),
		reconfigured: make(chan struct{}, 1)}
	b.wg.Add(2)
	go func() { defer b.wg.Done(); b.appender() }()
	b.out = cfg.Out
	for _, r := range cfg.Out {
		if err := b.subscribeOut(r); err != nil {
			b.wg.Done()
			b.Close(context.Background())
			return nil, fmt.Errorf("bridge %q: %w", cfg.Name, err)
		}
	}
	go func() { defer b.wg.Done(); b.run() }()
	if cfg.SysInterval > 0 {
		b.wg.Add(1)
		// Exits when the bridge closes.
		go func() { defer b.wg.Done(); b.sysLoop() }()
	}
	return b, nil
}

// onLocal is the durable handler: it must not block, so it hands the
// record to the appender, which calls done after the Append.
func (b *Bridge) onLocal(r Rule, m *broker.Message, done func(error)) {
	if m.ClientID == b.local.ID() {
		done(nil) // came in from the uplink: never send it back
		return
	}
	remote, ok := mapOut(r, m.Topic)
	if !ok {
		done(nil)
		return
	}
	qos, retain := min(m.QoS, r.QoS), m.Retain
	if r.Retain != nil {
		retain = *r.Retain
	}
	rec := storefwd.Record{Data: encodeRecord(remote, m.Payload, qos, retain)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		done(fmt.Errorf("bridge %q: %w", b.cfg.Name, ErrClosed))
		return
	}
	b.pending = append(b.pending, pendingRec{rec: rec, done: done})
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// appender appends the pending records in arrival order, one Append per
// batch (the queue's group commit does the rest), then confirms them.
func (b *Bridge) appender() {
	for {
		select {
		case <-b.ctx.Done():
			b.failPending()
			return
		case <-b.wake:
		}
		for {
			b.mu.Lock()
			batch := b.pending
			b.pending = nil
			b.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			recs := make([]storefwd.Record, len(batch))
			for i := range batch {
				recs[i] = batch[i].rec
			}
			err := b.q.Append(b.ctx, recs)
			if (errors.Is(err, storefwd.ErrFull) || errors.Is(err, storefwd.ErrTooLarge)) && len(batch) > 1 {
				// Refuse only what does not fit: one at a time.
				for _, p := range batch {
					p.done(b.appendErr(b.q.Append(b.ctx, []storefwd.Record{p.rec})))
				}
				continue
			}
			err = b.appendErr(err)
			for _, p := range batch {
				p.done(err)
			}
		}
	}
}

func (b *Bridge) appendErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storefwd.ErrFull):
		b.mu.Lock()
		b.st.Rejected++
		b.mu.Unlock()
		return fmt.Errorf("bridge %q: %w: %w", b.cfg.Name, broker.ErrQuotaExceeded, err)
	default:
		return fmt.Errorf("bridge %q: enqueue: %w", b.cfg.Name, err)
	}
}

func (b *Bridge) failPending() {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, p := range batch {
		p.done(fmt.Errorf("bridge %q: %w", b.cfg.Name, ErrClosed))
	}
}

// Stats returns a snapshot.
func (b *Bridge) Stats() Stats {
	b.mu.Lock()
	s := b.st
	b.mu.Unlock()
	s.Queue = b.q.Stats()
	return s
}

func (b *Bridge) setState(connected bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if connected != b.st.Connected {
		b.st.Since = time.Now()
	}
	b.st.Connected = connected
	if err != nil {
		b.st.LastError = err.Error()
	}
}

// Close stops the bridge: it unsubscribes locally (publishers not yet
// confirmed get ErrClosed), disconnects the uplink and closes the queue.
// ctx bounds the wait. Safe to call more than once.
func (b *Bridge) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return b.closeErr
	}
	b.closed = true
	b.mu.Unlock()
	b.local.Close()
	b.cancel()
	stopped := make(chan struct{})
	go func() { b.wg.Wait(); close(stopped) }()
	var err error
	select {
	case <-stopped:
	case <-ctx.Done():
		err = fmt.Errorf("bridge %q: close: %w", b.cfg.Name, ctx.Err())
	}
	if qerr := b.q.Close(ctx); qerr != nil && err == nil {
		err = fmt.Errorf("bridge %q: close queue: %w", b.cfg.Name, qerr)
	}
	b.mu.Lock()
	b.closeErr = err
	b.mu.Unlock()
	return err
}
