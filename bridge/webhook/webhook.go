package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/topic"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/storefwd"
)

// Errors of the sink.
var (
	// ErrInvalid: the configuration cannot work.
	ErrInvalid = errors.New("webhook: invalid configuration")
	// ErrClosed: the sink was closed.
	ErrClosed = errors.New("webhook: closed")
	// ErrNeedsRestart: Reconfigure cannot apply the change to a running
	// sink (its name, gateway id, queue limits, batch.max_messages or
	// $SYS interval); close it and start it again.
	ErrNeedsRestart = errors.New("webhook: change needs a restart")
)

// Defaults of Config.
const (
	DefaultBatchMessages = 100
	DefaultBatchBytes    = 1 << 20
	DefaultBatchDelay    = time.Second
	DefaultTimeout       = 10 * time.Second
	DefaultRetryMin      = time.Second
	DefaultRetryMax      = 2 * time.Minute
	// MaxBatchMessages bounds Config.BatchMessages (it is also the
	// window of the sink's queue).
	MaxBatchMessages = 10000
	// MaxBatchBytes bounds Config.BatchBytes.
	MaxBatchBytes = 64 << 20
)

// Config configures a sink.
type Config struct {
	// Name names the sink and its queue ("sink/<name>" in the database).
	Name string
	// URL is the http:// or https:// endpoint the batches are POSTed to.
	URL string
	// Filters are the local topic filters whose messages are sent
	// (at least one). A message matching several is sent once.
	Filters []string
	// GatewayID goes into every body (default "edgemq").
	GatewayID string
	// Headers are added to every request (e.g. Authorization). Their
	// values are never logged. Content-Type defaults to application/json.
	Headers map[string]string
	// TLS configures https:// endpoints (CA pool, client certificate);
	// nil: the system's CAs. TLS 1.2 at least.
	TLS *tls.Config
	// Gzip compresses the bodies (Content-Encoding: gzip).
	Gzip bool
	// Timeout bounds one request, answer included (default 10 s).
	Timeout time.Duration
	// BatchMessages and BatchBytes bound one request: at most this many
	// messages and about this many topic and payload bytes (one larger
	// message goes alone). Defaults 100 and 1 MiB.
	BatchMessages int
	BatchBytes    int
	// BatchDelay is how long the first message of a batch waits for more
	// (default 1 s); a backlog goes out in full batches at once.
	BatchDelay time.Duration
	// MaxRate caps the messages sent per second, replay of a backlog
	// included; 0 is no limit.
	MaxRate int
	// RetryMin and RetryMax bound the exponential back-off, with jitter,
	// after a failed request (defaults 1 s and 2 min). RetryMax also
	// bounds a Retry-After the endpoint asks for.
	RetryMin, RetryMax time.Duration
	// Queue limits of the sink's queue; MaxBytes is required.
	Queue storefwd.Limits
	// SysInterval is the period of the sink's figures under
	// $SYS/broker/sink/<name>/; 0: none.
	SysInterval time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Name == "" || strings.ContainsAny(c.Name, "/+#\x00") {
		return fmt.Errorf("%w: sink name %q", ErrInvalid, c.Name)
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		// Not the whole *url.Error: it quotes the url, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: sink %q: url: %w", ErrInvalid, c.Name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: sink %q: url %q (want http://host/path or https://host/path)", ErrInvalid, c.Name, u.Redacted())
	}
	if c.TLS != nil && u.Scheme != "https" {
		return fmt.Errorf("%w: sink %q: TLS settings need an https:// url", ErrInvalid, c.Name)
	}
	if len(c.Filters) == 0 {
		return fmt.Errorf("%w: sink %q: no filters", ErrInvalid, c.Name)
	}
	for _, f := range c.Filters {
		if err := topic.ValidFilter(f); err != nil {
			return fmt.Errorf("%w: sink %q: filter %q: %w", ErrInvalid, c.Name, f, err)
		}
		if _, _, shared := topic.ParseShared(f); shared {
			return fmt.Errorf("%w: sink %q: filter %q: shared subscriptions are not supported", ErrInvalid, c.Name, f)
		}
	}
	for k, v := range c.Headers {
		if !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") {
			// The value is not shown: it may be a secret.
			return fmt.Errorf("%w: sink %q: header %q: invalid name or value", ErrInvalid, c.Name, k)
		}
		if ReservedHeader(k) {
			return fmt.Errorf("%w: sink %q: header %q is set by the sink", ErrInvalid, c.Name, k)
		}
	}
	c.Headers = maps.Clone(c.Headers) // the deliverer reads it concurrently
	if c.GatewayID == "" {
		c.GatewayID = "edgemq"
	}
	if c.TLS != nil {
		c.TLS = c.TLS.Clone()
		c.TLS.MinVersion = max(c.TLS.MinVersion, tls.VersionTLS12)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.BatchDelay, DefaultBatchDelay)
	def(&c.RetryMin, DefaultRetryMin)
	def(&c.RetryMax, DefaultRetryMax)
	if c.BatchMessages == 0 {
		c.BatchMessages = DefaultBatchMessages
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	switch {
	case c.Timeout < 0 || c.BatchDelay < 0 || c.RetryMin < 0 || c.RetryMax < 0:
		return fmt.Errorf("%w: sink %q: negative duration", ErrInvalid, c.Name)
	case c.RetryMax < c.RetryMin:
		return fmt.Errorf("%w: sink %q: retry max %v < min %v", ErrInvalid, c.Name, c.RetryMax, c.RetryMin)
	case c.BatchMessages < 1 || c.BatchMessages > MaxBatchMessages:
		return fmt.Errorf("%w: sink %q: batch messages %d (want 1..%d)", ErrInvalid, c.Name, c.BatchMessages, MaxBatchMessages)
	case c.BatchBytes < 1 || c.BatchBytes > MaxBatchBytes:
		return fmt.Errorf("%w: sink %q: batch bytes %d (want 1..%d)", ErrInvalid, c.Name, c.BatchBytes, MaxBatchBytes)
	case c.MaxRate < 0:
		return fmt.Errorf("%w: sink %q: max rate %d", ErrInvalid, c.Name, c.MaxRate)
	case c.Queue.MaxBytes <= 0:
		return fmt.Errorf("%w: sink %q: queue max bytes is required", ErrInvalid, c.Name)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// ReservedHeader reports whether the sink sets the header name itself
// (Content-Length, Content-Encoding, Transfer-Encoding, Connection,
// Host), so that Config.Headers may not.
func ReservedHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Host":
		return true
	}
	return false
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// Stats is a snapshot of a sink's state.
type Stats struct {
	// Queue has the depth (Records), Bytes, OldestAge and the queue's
	// drops by reason.
	Queue storefwd.Stats
	// Delivered counts the messages of batches answered 2xx.
	Delivered uint64
	// DeadLettered counts the messages of batches answered with a 4xx
	// other than 408 and 429: removed from the queue, not retried.
	DeadLettered uint64
	// Resent counts messages sent again after a failed request.
	Resent uint64
	// Overflow counts QoS 0 messages dropped because the sink's append
	// buffer was full (the disk too slow for the rate).
	Overflow uint64
	// TooLarge counts messages larger than a queue record may be.
	TooLarge uint64
	// Corrupt counts queue records that could not be decoded.
	Corrupt uint64
	// Requests and Failures count the POSTs made and those that did not
	// get a 2xx answer (dead-lettering answers included).
	Requests, Failures uint64
	// LastError is the last failure ("" after a success), LastErrorAt
	// when it happened, LastSuccess the time of the last 2xx.
	LastError   string
	LastErrorAt time.Time
	LastSuccess time.Time
}

// Dropped is every message lost other than by dead-lettering: the
// queue's drops plus overflow, too large and undecodable ones.
func (s Stats) Dropped() uint64 {
	return s.Queue.Dropped.Total() + s.Overflow + s.TooLarge + s.Corrupt
}

// Sink is one running webhook sink.
type Sink struct {
	// Set by New, never changed.
	name     string
	gateway  string
	queueLim storefwd.Limits
	batchMax int
	sysEvery time.Duration
	log      *slog.Logger
	q        *storefwd.Queue
	local    *broker.Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	reconf       sync.Mutex    // serializes Reconfigure
	reconfigured chan struct{} // capacity 1: wakes the deliverer from its back-off
	wake         chan struct{} // capacity 1: records pending for the appender

	mu         sync.Mutex
	cfg        Config                  // current settings
	client     *http.Client            // built from cfg
	filters    []string                // subscribed filters
	seen       map[*broker.Message]int // messages matching several filters: routes still to come
	pending    []pendingRec
	pendingLen int // bytes of pending
	st         Stats
	closed     bool
	closeErr   error
}

type pendingRec struct {
	rec  storefwd.Record
	done func(error)
}

// New opens the sink's queue ("sink/<name>") in db, subscribes to its
// filters on srv with a durable in-process subscription and starts
// delivering. Close stops it.
func New(srv *broker.Server, db *kv.DB, cfg Config) (*Sink, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "webhook", "sink", cfg.Name)
	q, err := storefwd.Open(db, "sink/"+cfg.Name, storefwd.Options{
		Limits: cfg.Queue, Window: cfg.BatchMessages, MaxRecordBytes: maxRecordBytes, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("sink %q: %w", cfg.Name, err)
	}
	local, err := srv.NewClient("$sink/" + cfg.Name)
	if err != nil {
		q.Close(context.Background())
		return nil, fmt.Errorf("sink %q: local client: %w", cfg.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sink{
		name: cfg.Name, gateway: cfg.GatewayID, queueLim: cfg.Queue, batchMax: cfg.BatchMessages,
		sysEvery: cfg.SysInterval, log: log, q: q, local: local, ctx: ctx, cancel: cancel,
		reconfigured: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		cfg: cfg, client: newClient(cfg), seen: make(map[*broker.Message]int),
	}
	s.wg.Add(1)
	// Exits when the sink closes, after failing what is still pending.
	go func() { defer s.wg.Done(); s.appender() }()
	if err := s.setFilters(cfg.Filters); err != nil {
		s.Close(context.Background())
		return nil, fmt.Errorf("sink %q: %w", cfg.Name, err)
	}
	s.wg.Add(1)
	// Exits when the sink closes (a request in flight is cancelled).
	go func() { defer s.wg.Done(); s.deliver() }()
	if cfg.SysInterval > 0 {
		s.wg.Add(1)
		// Exits when the sink closes.
		go func() { defer s.wg.Done(); s.sysLoop() }()
	}
	return s, nil
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Stats returns a snapshot.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	st.Queue = s.q.Stats()
	return st
}

func (s *Sink) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.st)
	s.mu.Unlock()
}

// settings returns the current configuration and HTTP client.
func (s *Sink) settings() (Config, *http.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg, s.client
}

// Close stops the sink: it unsubscribes locally (publishers not yet
// confirmed get ErrClosed), cancels a request in flight (its messages
// stay queued and are sent again by the next sink on the queue) and
// closes the queue. ctx bounds the wait. Safe to call more than once.
func (s *Sink) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()
	s.local.Close()
	s.cancel()
	stopped := make(chan struct{})
	// Exits when every goroutine of the sink has.
	go func() { s.wg.Wait(); close(stopped) }()
	var err error
	select {
	case <-stopped:
	case <-ctx.Done():
		err = fmt.Errorf("sink %q: close: %w", s.name, ctx.Err())
	}
	if qerr := s.q.Close(ctx); qerr != nil && err == nil {
		err = fmt.Errorf("sink %q: close queue: %w", s.name, qerr)
	}
	_, client := s.settings()
	client.CloseIdleConnections()
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

// redacted is u without a password, for logs.
func redacted(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid url)"
	}
	return p.Redacted()
}
