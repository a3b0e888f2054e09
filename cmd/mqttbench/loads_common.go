package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Env is everything a load needs to know about the broker under test and
// the measurement schedule.
type Env struct {
	Addr string // broker address, host:port
	PID  int    // broker PID for CPU and RSS; 0 if unknown (those metrics are skipped)

	Duration time.Duration // measured window
	Warmup   time.Duration // traffic before the window, not measured
	Quiet    time.Duration // drain ends after this long without a new message
	DrainMax time.Duration // upper bound of the drain period
	Settle   time.Duration // interval between RSS samples while waiting for RSS to settle
	Params   Params
	Logf     func(format string, args ...any)
}

// Params tunes a load; zero fields take the load's default.
type Params struct {
	Publishers  int     // fan-in publishers (fanin0/fanin1: 50, latency: 10)
	Subscribers int     // fan-out subscribers (100)
	Rate        float64 // latency: total messages/s over all publishers (2000)
	PayloadSize int     // bytes per message (64, at least payloadHeader)
	Conns       []int   // memory: idle connection counts (1000, 5000)
	Window      int     // QoS 0 loads: messages in flight at most (1000); negative: unbounded
}

func (p Params) withDefaults(pubs, subs int) Params {
	if p.Publishers <= 0 {
		p.Publishers = pubs
	}
	if p.Subscribers <= 0 {
		p.Subscribers = subs
	}
	if p.Rate <= 0 {
		p.Rate = 2000
	}
	if p.PayloadSize < payloadHeader {
		p.PayloadSize = 64
	}
	if p.Window == 0 {
		p.Window = 1000
	}
	if len(p.Conns) == 0 {
		p.Conns = []int{1000, 5000}
	}
	return p
}

func (e Env) logf(format string, args ...any) {
	if e.Logf != nil {
		e.Logf(format, args...)
	}
}

// Metric is one measured value of one run.
type Metric struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
}

// Sample is the outcome of one run of one load against one broker.
type Sample struct {
	Metrics []Metric `json:"metrics"`
}

func (s *Sample) add(name, unit string, v float64) {
	s.Metrics = append(s.Metrics, Metric{Name: name, Unit: unit, Value: v})
}

// Get returns the value of the named metric.
func (s *Sample) Get(name string) (float64, bool) {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// Load is one benchmark scenario.
type Load struct {
	Name    string
	Desc    string
	Run     func(ctx context.Context, env Env) (*Sample, error)
	Targets []Goal
}

// Metric names shared by loads and their goals.
const (
	mThroughput = "throughput"
	mCPUPerMsg  = "broker CPU/msg"
	mCPUPerSent = "broker CPU/published"
	mRunsPerMsg = "broker thread runs/msg"
	mBrokerUtil = "broker CPU util"
	mGenUtil    = "generator CPU util"
	mOtherUtil  = "other processes' CPU"
	mSent       = "published"
	mReceived   = "received"
	mLost       = "lost"
	mDup        = "duplicates"
	mRate       = "achieved rate"
	mP50        = "latency p50"
	mP99        = "latency p99"
	mP999       = "latency p99.9"
	mMax        = "latency max"
	mIdleRSS    = "idle RSS"
	mStalls     = "window stalls"
)

// Loads lists every load in its default order.
var Loads = []Load{faninLoad(0), faninLoad(1), fanoutLoad(), latencyLoad(), memoryLoad()}

// LoadNames returns the names of all loads.
func LoadNames() []string {
	var n []string
	for _, l := range Loads {
		n = append(n, l.Name)
	}
	return n
}

// FindLoads resolves a comma-separated list of load names.
func FindLoads(list string) ([]Load, error) {
	var out []Load
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, l := range Loads {
			if l.Name == name {
				out = append(out, l)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown load %q (have %s)", name, strings.Join(LoadNames(), ","))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no load selected")
	}
	return out, nil
}

// payloadHeader is the size of the header every benchmark payload starts
// with: publisher id (4 bytes), sequence number (8), send time in Unix ns (8).
const payloadHeader = 20

// encodePayload fills the header of buf, which must be at least payloadHeader long.
func encodePayload(buf []byte, pub uint32, seq uint64, sentNS int64) {
	binary.BigEndian.PutUint32(buf[0:4], pub)
	binary.BigEndian.PutUint64(buf[4:12], seq)
	binary.BigEndian.PutUint64(buf[12:20], uint64(sentNS))
}

// decodePayload reads the header written by encodePayload.
func decodePayload(b []byte) (pub uint32, seq uint64, sentNS int64, ok bool) {
	if len(b) < payloadHeader {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint64(b[4:12]), int64(binary.BigEndian.Uint64(b[12:20])), true
}

// seqTracker counts unique and duplicate (publisher, sequence) pairs.
// Sequence numbers start at 0 and grow by one per message and publisher.
type seqTracker struct {
	mu     sync.Mutex
	seen   [][]uint64 // per publisher bitset
	next   []uint64   // per publisher: highest sequence seen + 1
	unique int64
	dups   int64
	bad    int64 // payloads that could not be decoded
}

func newSeqTracker(publishers int) *seqTracker {
	return &seqTracker{seen: make([][]uint64, publishers), next: make([]uint64, publishers)}
}

// maxTrackedSeq bounds the bitset of one publisher (128 MiB at most overall
// for 50 publishers); higher sequence numbers are counted as bad.
const maxTrackedSeq = 1 << 24

// record notes one received message and returns how many messages of its
// publisher it accounts for: 1, plus the gap it reveals (messages a
// broker dropped; one publisher's messages arrive in order), or 0 for a
// duplicate or bad message. Flow control releases that many credits.
func (t *seqTracker) record(pub uint32, seq uint64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int(pub) >= len(t.seen) || seq >= maxTrackedSeq {
		t.bad++
		return 0
	}
	bits := t.seen[pub]
	w := int(seq / 64)
	if w >= len(bits) {
		n := max(w+1, 2*len(bits))
		nb := make([]uint64, n)
		copy(nb, bits)
		bits = nb
		t.seen[pub] = bits
	}
	mask := uint64(1) << (seq % 64)
	if bits[w]&mask != 0 {
		t.dups++
		return 0
	}
	bits[w] |= mask
	t.unique++
	if seq < t.next[pub] {
		return 0 // late arrival of a message already counted as a gap
	}
	n := int(seq - t.next[pub] + 1)
	t.next[pub] = seq + 1
	return n
}

func (t *seqTracker) counts() (unique, dups, bad int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unique, t.dups, t.bad
}

// connLost collects unexpected disconnections of paho clients.
type connLost struct {
	n     atomic.Int64
	first atomic.Value // error
}

func (c *connLost) handler(_ mqtt.Client, err error) {
	if c.n.Add(1) == 1 {
		c.first.Store(err)
	}
}

func (c *connLost) err() error {
	if c.n.Load() == 0 {
		return nil
	}
	e, _ := c.first.Load().(error)
	return fmt.Errorf("%d client connection(s) lost, first: %v", c.n.Load(), e)
}

// clientTimeout bounds every paho operation (connect, subscribe, write, ack wait).
const clientTimeout = 10 * time.Second

// connectClient opens an MQTT 3.1.1 connection with a clean session and no
// automatic reconnection: a benchmark must notice a dropped connection.
func connectClient(addr, id string, lost *connLost) (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetClientID(id).
		SetProtocolVersion(4).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(60 * time.Second).
		SetPingTimeout(clientTimeout).
		SetConnectTimeout(clientTimeout).
		SetWriteTimeout(clientTimeout).
		SetOrderMatters(true).
		SetCustomOpenConnectionFn(dialBuffered)
	if lost != nil {
		opts.SetConnectionLostHandler(lost.handler)
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(clientTimeout) {
		return nil, fmt.Errorf("connect %s: timeout", id)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("connect %s: %w", id, err)
	}
	return c, nil
}

// bufConn reads through a buffer. paho reads each packet's fixed header,
// remaining length and body with separate reads: three system calls or
// more per message, which made the generator's one subscriber the limit
// of the fan-in loads (about 70,000 msg/s here) whichever broker it
// measured. With the buffer, one read takes whatever has arrived.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// dialBuffered opens the TCP connection of a paho client (the URI is
// always tcp://host:port here) as a bufConn.
func dialBuffered(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", uri.Host, clientTimeout)
	if err != nil {
		return nil, err
	}
	return &bufConn{Conn: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

// subscribe subscribes c and waits for the SUBACK.
func subscribe(c mqtt.Client, topic string, qos byte, h mqtt.MessageHandler) error {
	tok := c.Subscribe(topic, qos, h)
	if !tok.WaitTimeout(clientTimeout) {
		return fmt.Errorf("subscribe %s: timeout", topic)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe %s: %w", topic, err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code == 0x80 {
				return fmt.Errorf("subscribe %s: refused by broker", topic)
			}
		}
	}
	return nil
}

// connectMany opens n clients in parallel (bounded), named prefix-0..n-1.
// On error every client opened so far is disconnected.
func connectMany(ctx context.Context, addr, prefix string, n int, lost *connLost) ([]mqtt.Client, error) {
	clients := make([]mqtt.Client, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			clients[i], errs[i] = connectClient(addr, fmt.Sprintf("%s-%d", prefix, i), lost)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		disconnectAll(clients)
		return nil, err
	}
	return clients, nil
}

// disconnectAll disconnects clients in parallel, waiting at most 2 s in total.
func disconnectAll(clients []mqtt.Client) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Disconnect(100)
		}()
	}
	waitTimeout(&wg, 2*time.Second)
}

// waitTimeout waits for wg at most d and reports whether it finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// sleepCtx sleeps for d or until ctx ends, and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// drain waits until received() reaches want, or stays unchanged for quiet,
// or max passes, or ctx ends.
func drain(ctx context.Context, received func() int64, want int64, quiet, maxWait time.Duration) {
	const step = 20 * time.Millisecond
	deadline := time.Now().Add(maxWait)
	last := received()
	lastChange := time.Now()
	for time.Now().Before(deadline) && last < want {
		if !sleepCtx(ctx, step) {
			return
		}
		if n := received(); n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) >= quiet {
			return
		}
	}
}

// cpuProbe samples the CPU time of the broker (if its PID is known), of
// this generator process and of the whole machine.
type cpuProbe struct {
	pid    int
	broker CPUTime
	self   CPUTime
	busy   time.Duration // all processors, from /proc/stat
	at     time.Time
	err    error
}

func probeCPU(pid int) cpuProbe {
	p := cpuProbe{pid: pid, at: time.Now()}
	if pid > 0 {
		p.broker, p.err = ReadCPU(pid)
	}
	p.self, _ = ReadCPU(os.Getpid())
	p.busy, _ = ReadBusyCPU()
	return p
}

// addCPU adds broker CPU per unit ("msg" or "delivery") between probes c0
// and c2, and the CPU utilisation of broker, generator and everything
// else on the machine between u0 and u1.
func addCPU(s *Sample, c0, c2 cpuProbe, units int64, unitName string, u0, u1 cpuProbe) {
	brokerOK := c0.pid > 0 && c0.err == nil && c2.err == nil
	if brokerOK && units > 0 {
		s.add(mCPUPerMsg, "µs/"+unitName, float64(c2.broker.Sub(c0.broker).Nanoseconds())/1e3/float64(units))
		// Runs covers live threads only: one that exited between the
		// probes can make the difference too small, even negative.
		if c0.broker.Runs > 0 && c2.broker.Runs > c0.broker.Runs {
			s.add(mRunsPerMsg, "/"+unitName, float64(c2.broker.Runs-c0.broker.Runs)/float64(units))
		}
	}
	wall := u1.at.Sub(u0.at).Seconds()
	if wall <= 0 {
		return
	}
	brokerOK = u0.pid > 0 && u0.err == nil && u1.err == nil
	var broker time.Duration
	if brokerOK {
		broker = u1.broker.Sub(u0.broker)
		s.add(mBrokerUtil, "% of 1 core", 100*broker.Seconds()/wall)
	}
	self := u1.self.Sub(u0.self)
	s.add(mGenUtil, "% of 1 core", 100*self.Seconds()/wall)
	if brokerOK && u0.busy > 0 && u1.busy > 0 {
		other := max(u1.busy-u0.busy-broker-self, 0)
		s.add(mOtherUtil, "% of 1 core", 100*other.Seconds()/wall)
	}
}
