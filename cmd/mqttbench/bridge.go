package main

// The bridge command compares store-and-forward throughput: QoS 1
// publishers -> local broker -> bridge -> "cloud" Mosquitto -> one QoS 1
// subscriber, with the local broker either edgemq (bridge rule
// bench/# -> cloud/bench/#, Badger queue in a temp dir, fsync per group
// commit before the publisher's PUBACK) or Mosquitto with a bridge
// section (persistence true, which Mosquitto only writes at autosave and
// shutdown: it acknowledges before anything is on disk). The cloud is
// always Mosquitto on a free loopback port.
//
// Each round runs, for edgemq then Mosquitto (A B A B ...):
//
//   - bridge: the cloud and its subscriber are up; --publishers publishers
//     publish as fast as --window messages in flight each allow, for
//     --duration; then the subscriber is given up to --drain-max to receive
//     everything acknowledged. "forwarded" is the messages arriving at the
//     cloud per second from the first to the last arrival.
//   - backlog: the cloud is down; --backlog messages are published into the
//     local broker; then the cloud is started and the drain timed until the
//     subscriber has them all. The subscriber's session (clean session
//     false) is created on the cloud beforehand and kept in the cloud's
//     persistence file, so nothing the bridge delivers before the
//     subscriber reconnects is lost.
//
// Both phases also report the cloud's CPU per message that arrived, and
// its "ceiling": the rate at which that cost takes one whole core. The
// cloud Mosquitto is single-threaded, so no bridge forwards faster; on a
// small machine that ceiling, not the bridge, bounds a ratio target.
//
// Both bridges reconnect every second (edgemq reconnect {min: 1s, max:
// 1s}, Mosquitto restart_timeout 1) and keep at most --bridge-window
// messages in flight (edgemq window, Mosquitto max_inflight_messages).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// BridgeSettings configures the bridge command.
type BridgeSettings struct {
	Rounds       int
	Duration     time.Duration // publishing time of the bridge phase
	Publishers   int
	Size         int           // payload bytes
	Window       int           // QoS 1 messages in flight per publisher
	BridgeWindow int           // messages in flight on the bridge
	Backlog      int           // messages of the backlog phase; 0 skips it
	DrainMax     time.Duration // bound of every wait for the cloud subscriber
	CPUProfile   string        // edgemq --cpuprofile of the bridge phase (last round wins)
	DrainProfile string        // edgemq --cpuprofile of the backlog phase (last round wins)
	Mosquitto    string        // binary of the cloud and of side B
	Out, Log     io.Writer
}

// Metric names of the bridge command.
const (
	mFwd        = "forwarded"
	mFwdDuring  = "cloud arrivals while publishing"
	mAcked      = "acknowledged to publishers"
	mQueuedStop = "queued when publishing stopped"
	mDrainAfter = "drain after publishing"
	mLocalCPU   = "local broker CPU/msg"
	mLocalUtil  = "local broker CPU util"
	mCloudUtil  = "cloud broker CPU util"
	mCloudCPU   = "cloud broker CPU/msg"
	mCloudCeil  = "cloud ceiling (1 core / cloud CPU/msg)"
	mReordered  = "out of order"
	mBlPublish  = "backlog publish rate"
	mBlDrain    = "backlog drain rate"
	mBlFirst    = "first arrival after cloud up"
	mBlTotal    = "cloud up to last arrival"
)

// bridgeLoads name the two tables of the bridge command.
func bridgeLoads(s BridgeSettings) []Load {
	return []Load{
		{
			Name: "bridge",
			Desc: fmt.Sprintf("%d QoS 1 publishers (%d in flight each, %d B) -> local broker -> bridge (QoS 1, %d in flight) -> cloud Mosquitto -> 1 QoS 1 subscriber",
				s.Publishers, s.Window, s.Size, s.BridgeWindow),
			Targets: []Goal{goalRatioAtLeast(mFwd, 2), goalZero(mLost), goalZero(mDup), goalZero(mReordered)},
		},
		{
			Name:    "backlog",
			Desc:    fmt.Sprintf("%d messages published while the cloud is down, then drained", s.Backlog),
			Targets: []Goal{goalRatioAtLeast(mBlDrain, 2), goalZero(mLost), goalZero(mReordered)},
		},
	}
}

func cmdBridge(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	s := BridgeSettings{Out: os.Stdout, Log: os.Stderr}
	edgemq := fs.String("edgemq", "", "path to the edgemq binary (required)")
	fs.StringVar(&s.Mosquitto, "mosquitto", "/usr/sbin/mosquitto", "path to the mosquitto binary (the cloud, and the reference bridge)")
	fs.IntVar(&s.Rounds, "rounds", 3, "rounds (each runs edgemq, then Mosquitto)")
	fs.DurationVar(&s.Duration, "duration", 10*time.Second, "publishing time of the bridge phase")
	fs.IntVar(&s.Publishers, "publishers", 8, "QoS 1 publishers")
	fs.IntVar(&s.Size, "size", 64, "payload bytes (at least 20)")
	fs.IntVar(&s.Window, "window", 32, "QoS 1 messages in flight per publisher")
	fs.IntVar(&s.BridgeWindow, "bridge-window", 64, "messages in flight on the bridge (edgemq window, Mosquitto max_inflight_messages)")
	fs.IntVar(&s.Backlog, "backlog", 200000, "messages of the backlog phase (0: skip it)")
	fs.DurationVar(&s.DrainMax, "drain-max", 0, "bound of each wait for the cloud subscriber (0: max(60s, 6 x duration))")
	fs.StringVar(&s.CPUProfile, "cpuprofile", "", "write edgemq's CPU profile of the bridge phase to this file (the last round's)")
	fs.StringVar(&s.DrainProfile, "drainprofile", "", "write edgemq's CPU profile of the backlog phase (publish and drain) to this file (the last round's)")
	jsonPath := fs.String("json", "", "write every raw sample to this JSON file")
	setUsage(fs, "mqttbench bridge --edgemq PATH [flags]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *edgemq == "" {
		return errors.New("--edgemq PATH is required")
	}
	if err := s.check(); err != nil {
		return err
	}
	a := Target{Name: "edgemq", Kind: KindEdgeMQ, Binary: *edgemq}
	b := Target{Name: "mosquitto", Kind: KindMosquitto, Binary: s.Mosquitto}
	var err error
	for _, t := range []*Target{&a, &b} {
		if t.Binary, err = checkBinary(t.Binary); err != nil {
			return err
		}
	}
	s.Mosquitto = b.Binary
	if s.CPUProfile != "" {
		if s.CPUProfile, err = filepath.Abs(s.CPUProfile); err != nil {
			return err
		}
	}
	started := time.Now()
	runs := BridgeCompare(ctx, s, a, b)
	fmt.Fprintf(s.Out, "mqttbench bridge: %s=%s vs %s=%s (cloud: %s); %d round(s); %d CPUs\n",
		a.Name, a.Binary, b.Name, b.Binary, s.Mosquitto, s.Rounds, runtime.NumCPU())
	fmt.Fprintln(s.Out, "durability: edgemq fsyncs its queue before each PUBACK (group commit); Mosquitto persistence true writes only at autosave (1800 s) and shutdown")
	fmt.Fprintln(s.Out, "ceiling: the cloud Mosquitto runs on one thread; no bridge forwards faster than its \"cloud ceiling\", whatever the ratio target says")
	PrintBridgeComparison(s.Out, s, a, b, runs)
	if *jsonPath != "" {
		rep := JSONReport{Started: started, Args: os.Args, Mode: "bridge", Rounds: s.Rounds,
			Duration: s.Duration.String(), Targets: []Target{a, b}, Runs: runs}
		if err := WriteJSON(*jsonPath, rep); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *BridgeSettings) check() error {
	switch {
	case s.Rounds < 1 || s.Rounds > 100:
		return errors.New("--rounds must be between 1 and 100")
	case s.Duration < 100*time.Millisecond || s.Duration > time.Hour:
		return errors.New("--duration must be between 100ms and 1h")
	case s.Publishers < 1 || s.Publishers > 1000:
		return errors.New("--publishers must be between 1 and 1000")
	case s.Size < payloadHeader || s.Size > 1<<20:
		return fmt.Errorf("--size must be between %d and 1MiB", payloadHeader)
	case s.Window < 1 || s.Window > 1000:
		return errors.New("--window must be between 1 and 1000")
	case s.BridgeWindow < 1 || s.BridgeWindow > 32768:
		return errors.New("--bridge-window must be between 1 and 32768")
	case s.Backlog < 0 || s.Backlog/max(s.Publishers, 1) >= maxTrackedSeq:
		return errors.New("--backlog out of range")
	case s.DrainMax < 0:
		return errors.New("--drain-max must not be negative")
	}
	if s.DrainMax == 0 {
		s.DrainMax = max(60*time.Second, 6*s.Duration)
	}
	return nil
}

// BridgeCompare runs both phases on a and b, alternating A B A B, and
// returns every run (Load "bridge" or "backlog").
func BridgeCompare(ctx context.Context, s BridgeSettings, a, b Target) []Run {
	var runs []Run
	for round := 1; round <= s.Rounds; round++ {
		for _, t := range []Target{a, b} {
			for _, phase := range []string{"bridge", "backlog"} {
				if phase == "backlog" && s.Backlog == 0 {
					continue
				}
				if ctx.Err() != nil {
					return runs
				}
				r := Run{Load: phase, Target: t.Name, Kind: t.Kind.String(), Binary: t.Binary, Round: round, Started: time.Now()}
				fmt.Fprintf(s.Log, "[round %d/%d] %-7s via %-9s ", round, s.Rounds, phase, t.Name)
				var sample *Sample
				var err error
				if phase == "bridge" {
					sample, err = runBridgePhase(ctx, s, t)
				} else {
					sample, err = runBacklogPhase(ctx, s, t)
				}
				if ctx.Err() != nil {
					fmt.Fprintln(s.Log, "interrupted")
					return runs
				}
				r.Seconds = time.Since(r.Started).Seconds()
				if err != nil {
					r.Error = err.Error()
					fmt.Fprintf(s.Log, "failed after %.1fs: %v\n", r.Seconds, err)
				} else {
					r.Metrics = sample.Metrics
					fmt.Fprintf(s.Log, "%s\n", headline(sample))
				}
				runs = append(runs, r)
			}
		}
	}
	return runs
}

// PrintBridgeComparison writes the bridge and backlog tables.
func PrintBridgeComparison(w io.Writer, s BridgeSettings, a, b Target, runs []Run) {
	for _, l := range bridgeLoads(s) {
		var lr []Run
		for _, r := range runs {
			if r.Load == l.Name {
				lr = append(lr, r)
			}
		}
		if len(lr) == 0 {
			continue
		}
		dur := ""
		if l.Name == "bridge" {
			dur = " of " + s.Duration.String()
		}
		fmt.Fprintf(w, "\n== %s: %s; %d round(s)%s ==\n", l.Name, l.Desc, s.Rounds, dur)
		fmt.Fprint(w, CompareTable(l, a.Name, b.Name, lr))
	}
}

// bridgeRig is one phase's set of brokers, all under one temp dir.
type bridgeRig struct {
	s         BridgeSettings
	t         Target
	dir       string
	cloudPort int
	cloud     *Broker
	local     *Broker
}

func newBridgeRig(s BridgeSettings, t Target) (*bridgeRig, error) {
	dir, err := os.MkdirTemp("", "mqttbench-bridge-")
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"cloud", "local", "local/data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &bridgeRig{s: s, t: t, dir: dir, cloudPort: port}, nil
}

// close stops every broker and removes the temp dir.
func (r *bridgeRig) close() {
	r.stopCloud()
	if r.local != nil {
		r.local.Stop()
	}
	os.RemoveAll(r.dir)
}

// startCloud starts the cloud Mosquitto on the rig's port; its
// persistence file survives restarts.
func (r *bridgeRig) startCloud(ctx context.Context) error {
	dir := filepath.Join(r.dir, "cloud")
	conf := cloudConfig(r.cloudPort, dir, os.Geteuid() == 0)
	b, err := launch(ctx, Target{Name: "cloud", Kind: KindMosquitto, Binary: r.s.Mosquitto}, dir, r.cloudPort, conf, nil, true)
	if err != nil {
		return err
	}
	r.cloud = b
	return nil
}

func (r *bridgeRig) stopCloud() {
	if r.cloud != nil {
		r.cloud.Stop()
		r.cloud = nil
	}
}

// startLocal starts the local broker with its bridge to the cloud port.
func (r *bridgeRig) startLocal(ctx context.Context, profile string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	dir := filepath.Join(r.dir, "local")
	var conf string
	var extra []string
	switch r.t.Kind {
	case KindEdgeMQ:
		conf = edgemqBridgeConfig(port, filepath.Join(dir, "data"), r.cloudPort, r.s.BridgeWindow)
		if profile != "" {
			extra = []string{"--cpuprofile", profile}
		}
	case KindMosquitto:
		conf = mosquittoBridgeConfig(port, filepath.Join(dir, "data"), r.cloudPort, r.s.BridgeWindow, os.Geteuid() == 0)
	default:
		return fmt.Errorf("cannot bridge with a broker of kind %v", r.t.Kind)
	}
	b, err := launch(ctx, r.t, dir, port, conf, extra, true)
	if err != nil {
		return err
	}
	r.local = b
	return nil
}

// edgemqBridgeConfig renders an edgemq config with a bridge bench/# ->
// cloud/bench/# at QoS 1 to 127.0.0.1:cloudPort.
func edgemqBridgeConfig(port int, dataDir string, cloudPort, window int) string {
	return fmt.Sprintf(`gateway: {id: bench}
broker:
  listeners:
    - {type: tcp, address: "127.0.0.1:%d"}
  limits: {max_connections: 20000, max_queued_messages: 10000, max_inflight: 64, receive_maximum: 64}
  sys_interval: 0s
storage: {dir: %q}
log: {level: warn}
http: {address: ""}
bridges:
  - name: cloud
    address: tcp://127.0.0.1:%d
    window: %d
    reconnect: {min: 1s, max: 1s}
    out:
      - {local: "bench/#", remote: "cloud/bench/#", qos: 1}
`, port, dataDir, cloudPort, window)
}

// mosquittoBridgeConfig renders a mosquitto.conf with persistence and a
// bridge bench/# -> cloud/bench/# at QoS 1 to 127.0.0.1:cloudPort. The
// general options come first: everything after "connection" belongs to
// the bridge.
func mosquittoBridgeConfig(port int, dataDir string, cloudPort, window int, asRoot bool) string {
	user := ""
	if asRoot {
		user = "user root\n" // see mosquittoConfig
	}
	return fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
max_connections -1
persistence true
persistence_location %s/
max_inflight_messages %d
max_queued_messages 0
log_type error
log_dest stderr
%s
connection cloud
address 127.0.0.1:%d
topic bench/# out 1 "" cloud/
cleansession false
bridge_protocol_version mqttv311
restart_timeout 1
notifications false
`, port, dataDir, window, user, cloudPort)
}

// cloudConfig renders the cloud Mosquitto's config: unlimited queues (the
// subscriber may be offline during a backlog drain), 1000 messages in
// flight to the subscriber, and persistence (written at shutdown only) so
// that the subscriber's session survives a restart.
func cloudConfig(port int, dir string, asRoot bool) string {
	user := ""
	if asRoot {
		user = "user root\n"
	}
	return fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
max_connections -1
persistence true
persistence_location %s/
max_inflight_messages 1000
max_queued_messages 0
log_type error
log_dest stderr
%s`, port, dir, user)
}

// cloudSub is the subscriber on the cloud: it counts, per publisher,
// unique, duplicate and out-of-order arrivals. Publisher id == publishers
// is the warm-up probe.
type cloudSub struct {
	mu        sync.Mutex
	tracker   *seqTracker
	hi        []uint64 // per publisher: highest sequence seen + 1
	pubs      int
	unique    atomic.Int64 // unique arrivals of the measured publishers
	reordered atomic.Int64
	probes    atomic.Int64
	firstNS   atomic.Int64 // first unique arrival, Unix ns
	lastNS    atomic.Int64 // last unique arrival, Unix ns
	client    mqtt.Client
}

const (
	cloudSubID  = "mb-cloud-sub"
	cloudFilter = "cloud/bench/#"
)

func newCloudSub(pubs int) *cloudSub {
	return &cloudSub{tracker: newSeqTracker(pubs + 1), hi: make([]uint64, pubs+1), pubs: pubs}
}

func (c *cloudSub) handle(_ mqtt.Client, m mqtt.Message) {
	now := time.Now().UnixNano()
	pub, seq, _, ok := decodePayload(m.Payload())
	if !ok {
		pub = ^uint32(0) // counted as bad
	}
	c.mu.Lock()
	_, d0, _ := c.tracker.counts()
	c.tracker.record(pub, seq)
	_, d1, _ := c.tracker.counts()
	dup := d1 > d0
	late := false
	if ok && int(pub) < len(c.hi) {
		late = seq+1 < c.hi[pub]
		c.hi[pub] = max(c.hi[pub], seq+1)
	}
	c.mu.Unlock()
	switch {
	case !ok || dup:
	case int(pub) == c.pubs:
		c.probes.Add(1)
	case int(pub) < c.pubs:
		if late {
			c.reordered.Add(1)
		}
		c.unique.Add(1)
		c.firstNS.CompareAndSwap(0, now)
		c.lastNS.Store(now)
	}
}

// connect opens the subscriber's session (clean session false, so that
// the cloud keeps queueing for it while it is away) and subscribes.
func (c *cloudSub) connect(addr string, lost *connLost) error {
	opts := mqtt.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetClientID(cloudSubID).
		SetProtocolVersion(4).
		SetCleanSession(false).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(60 * time.Second).
		SetPingTimeout(clientTimeout).
		SetConnectTimeout(clientTimeout).
		SetWriteTimeout(clientTimeout).
		SetOrderMatters(true).
		SetDefaultPublishHandler(c.handle) // queued messages may precede the SUBACK
	if lost != nil {
		opts.SetConnectionLostHandler(lost.handler)
	}
	cl := mqtt.NewClient(opts)
	tok := cl.Connect()
	if !tok.WaitTimeout(clientTimeout) {
		return errors.New("connect cloud subscriber: timeout")
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("connect cloud subscriber: %w", err)
	}
	c.client = cl
	return subscribe(cl, cloudFilter, 1, c.handle)
}

func (c *cloudSub) disconnect() {
	if c.client != nil {
		disconnectAll([]mqtt.Client{c.client})
		c.client = nil
	}
}

// missing returns how many of the first acked[i] messages of each
// publisher i never arrived.
func (c *cloudSub) missing(acked []int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tracker
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for pub, a := range acked {
		if a <= 0 {
			continue
		}
		set := 0
		bs := t.seen[pub]
		full := int(a / 64)
		for w := 0; w < full && w < len(bs); w++ {
			set += bits.OnesCount64(bs[w])
		}
		if rem := a % 64; rem > 0 && full < len(bs) {
			set += bits.OnesCount64(bs[full] & (uint64(1)<<rem - 1))
		}
		n += a - int64(set)
	}
	return n
}

func (c *cloudSub) dups() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, d, bad := c.tracker.counts()
	return d + bad
}

// pipelinedPublish publishes QoS 1 messages on topic with up to window
// unacknowledged, until stop is set, limit messages have been published
// (limit > 0) or deadline passes; it then waits for the outstanding
// PUBACKs. acked counts the acknowledged messages, which are always the
// first acked sequence numbers.
func pipelinedPublish(c mqtt.Client, id uint32, topic string, size, window int, limit int64, deadline time.Time, stop *atomic.Bool, acked *atomic.Int64) error {
	toks := make(chan mqtt.Token, window)
	errc := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var err error
		for tok := range toks {
			if err != nil {
				continue
			}
			if !tok.WaitTimeout(clientTimeout) {
				err = fmt.Errorf("publisher %d: no PUBACK within %v", id, clientTimeout)
			} else if e := tok.Error(); e != nil {
				err = fmt.Errorf("publisher %d: %w", id, e)
			}
			if err != nil {
				failed.Store(true)
				continue
			}
			acked.Add(1)
		}
		errc <- err
	}()
	for seq := int64(0); !stop.Load() && !failed.Load() && (limit <= 0 || seq < limit); seq++ {
		if seq%256 == 0 && time.Now().After(deadline) {
			break
		}
		payload := make([]byte, size) // paho keeps a reference until written
		encodePayload(payload, id, uint64(seq), time.Now().UnixNano())
		toks <- c.Publish(topic, 1, false, payload)
	}
	close(toks)
	return <-errc
}

// publishers is a set of pipelined QoS 1 publishers on the local broker.
type publishers struct {
	clients []mqtt.Client
	acked   []paddedCounter
	errs    []error
	stop    atomic.Bool
	wg      sync.WaitGroup
}

func startPublishers(ctx context.Context, addr string, s BridgeSettings, perPub []int64, deadline time.Time, lost *connLost) (*publishers, error) {
	clients, err := connectMany(ctx, addr, "mb-pub", s.Publishers, lost)
	if err != nil {
		return nil, err
	}
	p := &publishers{clients: clients, acked: make([]paddedCounter, len(clients)), errs: make([]error, len(clients))}
	for i, c := range clients {
		var limit int64
		if perPub != nil {
			limit = perPub[i]
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.errs[i] = pipelinedPublish(c, uint32(i), fmt.Sprintf("bench/%d", i), s.Size, s.Window, limit, deadline, &p.stop, &p.acked[i].n)
		}()
	}
	return p, nil
}

// wait stops the publishers (if stop) and waits for their last PUBACKs.
func (p *publishers) wait(stop bool, maxWait time.Duration) error {
	if stop {
		p.stop.Store(true)
	}
	if !waitTimeout(&p.wg, maxWait) {
		p.stop.Store(true)
		waitTimeout(&p.wg, clientTimeout+2*time.Second)
		return errors.New("publishers did not finish")
	}
	return errors.Join(p.errs...)
}

func (p *publishers) ackedPer() []int64 {
	out := make([]int64, len(p.acked))
	for i := range p.acked {
		out[i] = p.acked[i].n.Load()
	}
	return out
}

func (p *publishers) close() { disconnectAll(p.clients) }

// waitBridgeUp publishes probe messages into the local broker until one
// reaches the cloud subscriber, so that the measurement starts with the
// bridge connected.
func waitBridgeUp(ctx context.Context, addr string, sub *cloudSub, id uint32, maxWait time.Duration) error {
	c, err := connectClient(addr, "mb-probe", nil)
	if err != nil {
		return err
	}
	defer disconnectAll([]mqtt.Client{c})
	deadline := time.Now().Add(maxWait)
	for seq := uint64(0); time.Now().Before(deadline); seq++ {
		payload := make([]byte, payloadHeader)
		encodePayload(payload, id, seq, time.Now().UnixNano())
		tok := c.Publish("bench/probe", 1, false, payload)
		if !tok.WaitTimeout(clientTimeout) {
			return errors.New("probe: no PUBACK")
		}
		if err := tok.Error(); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
		for range 25 {
			if sub.probes.Load() > 0 {
				return nil
			}
			if !sleepCtx(ctx, 20*time.Millisecond) {
				return ctx.Err()
			}
		}
	}
	return fmt.Errorf("no message crossed the bridge within %v", maxWait)
}

// brokerCheck returns an error if a broker of the rig has exited.
func (r *bridgeRig) brokerCheck() error {
	for _, b := range []*Broker{r.local, r.cloud} {
		if b != nil && b.Exited() {
			return fmt.Errorf("%s exited during the run: %s", b.Target.Name, b.LogTail(400))
		}
	}
	return nil
}

func runBridgePhase(ctx context.Context, s BridgeSettings, t Target) (*Sample, error) {
	r, err := newBridgeRig(s, t)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.startCloud(ctx); err != nil {
		return nil, err
	}
	lost := &connLost{}
	sub := newCloudSub(s.Publishers)
	if err := sub.connect(r.cloud.Addr, lost); err != nil {
		return nil, err
	}
	defer sub.disconnect()
	if err := r.startLocal(ctx, s.CPUProfile); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.Log, "(local pid %d, cloud pid %d) ", r.local.PID, r.cloud.PID)
	if err := waitBridgeUp(ctx, r.local.Addr, sub, uint32(s.Publishers), 20*time.Second); err != nil {
		return nil, err
	}

	c0, cc0 := probeCPU(r.local.PID), probeCPU(r.cloud.PID)
	start := time.Now()
	pubs, err := startPublishers(ctx, r.local.Addr, s, nil, start.Add(s.Duration+time.Second), lost)
	if err != nil {
		return nil, err
	}
	defer pubs.close()
	ok := sleepCtx(ctx, s.Duration)
	c1, cc1 := probeCPU(r.local.PID), probeCPU(r.cloud.PID)
	stopAt, arrivedAtStop, ackedAtStop := time.Now(), sub.unique.Load(), sumCounters(pubs.acked)
	if err := pubs.wait(true, clientTimeout+2*time.Second); err != nil {
		return nil, err
	}
	if !ok {
		return nil, ctx.Err()
	}
	acked := pubs.ackedPer()
	var total int64
	for _, a := range acked {
		total += a
	}
	drain(ctx, sub.unique.Load, total, 15*time.Second, s.DrainMax)
	c2 := probeCPU(r.local.PID)
	if err := errors.Join(lost.err(), r.brokerCheck(), ctx.Err()); err != nil {
		return nil, err
	}

	smp := &Sample{}
	unique := sub.unique.Load()
	first, last := sub.firstNS.Load(), sub.lastNS.Load()
	if unique > 1 && last > first {
		smp.add(mFwd, "msg/s", float64(unique-1)/(float64(last-first)/1e9))
	}
	window := c1.at.Sub(c0.at).Seconds()
	smp.add(mAcked, "msg/s", float64(ackedAtStop)/window)
	smp.add(mFwdDuring, "msg/s", float64(arrivedAtStop)/window)
	smp.add(mQueuedStop, "msgs", float64(max(ackedAtStop-arrivedAtStop, 0)))
	if last > 0 {
		smp.add(mDrainAfter, "s", max(time.Unix(0, last).Sub(stopAt).Seconds(), 0))
	}
	if c0.err == nil && c2.err == nil && unique > 0 {
		smp.add(mLocalCPU, "µs/msg", float64(c2.broker.Sub(c0.broker).Nanoseconds())/1e3/float64(unique))
	}
	addBridgeUtil(smp, c0, c1, cc0, cc1)
	addCloudCeiling(smp, cc0, cc1, arrivedAtStop)
	smp.add(mSent, "msgs", float64(total))
	smp.add(mReceived, "msgs", float64(unique))
	smp.add(mLost, "msgs", float64(sub.missing(acked)))
	smp.add(mDup, "msgs", float64(sub.dups()))
	smp.add(mReordered, "msgs", float64(sub.reordered.Load()))
	return smp, nil
}

// addBridgeUtil adds the CPU utilisation of the local broker, the cloud
// broker, this generator and every other process between the probes of
// the local broker (l0, l1) and those of the cloud (c0, c1), taken at
// about the same times.
func addBridgeUtil(s *Sample, l0, l1, c0, c1 cpuProbe) {
	wall := l1.at.Sub(l0.at).Seconds()
	if wall <= 0 || l0.err != nil || l1.err != nil || c0.err != nil || c1.err != nil {
		return
	}
	local, cloud, self := l1.broker.Sub(l0.broker), c1.broker.Sub(c0.broker), l1.self.Sub(l0.self)
	s.add(mLocalUtil, "% of 1 core", 100*local.Seconds()/wall)
	s.add(mCloudUtil, "% of 1 core", 100*cloud.Seconds()/wall)
	s.add(mGenUtil, "% of 1 core", 100*self.Seconds()/wall)
	if l0.busy > 0 && l1.busy > 0 {
		other := max(l1.busy-l0.busy-local-cloud-self, 0)
		s.add(mOtherUtil, "% of 1 core", 100*other.Seconds()/wall)
	}
}

// addCloudCeiling adds the cloud's CPU per message that arrived between
// its probes c0 and c1, and the rate at which that would take a whole
// core: Mosquitto runs on one thread, so no bridge can forward faster.
func addCloudCeiling(s *Sample, c0, c1 cpuProbe, arrived int64) {
	if c0.err != nil || c1.err != nil || arrived <= 0 {
		return
	}
	per := c1.broker.Sub(c0.broker).Seconds() / float64(arrived)
	if per <= 0 {
		return
	}
	s.add(mCloudCPU, "µs/msg", per*1e6)
	s.add(mCloudCeil, "msg/s", 1/per)
}

func runBacklogPhase(ctx context.Context, s BridgeSettings, t Target) (*Sample, error) {
	r, err := newBridgeRig(s, t)
	if err != nil {
		return nil, err
	}
	defer r.close()
	// Create the subscriber's session on the cloud, then take the cloud down.
	if err := r.startCloud(ctx); err != nil {
		return nil, err
	}
	lost := &connLost{}
	sub := newCloudSub(s.Publishers)
	if err := sub.connect(r.cloud.Addr, nil); err != nil {
		return nil, err
	}
	sub.disconnect()
	r.stopCloud()

	if err := r.startLocal(ctx, s.DrainProfile); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.Log, "(local pid %d) ", r.local.PID)
	perPub := make([]int64, s.Publishers)
	for i := range perPub {
		perPub[i] = int64(s.Backlog / s.Publishers)
		if i < s.Backlog%s.Publishers {
			perPub[i]++
		}
	}
	pubStart := time.Now()
	pubs, err := startPublishers(ctx, r.local.Addr, s, perPub, pubStart.Add(s.DrainMax), lost)
	if err != nil {
		return nil, err
	}
	defer pubs.close()
	if err := pubs.wait(false, s.DrainMax+clientTimeout); err != nil {
		return nil, err
	}
	pubTime := time.Since(pubStart)
	acked := pubs.ackedPer()
	var total int64
	for _, a := range acked {
		total += a
	}
	if arrived := sub.unique.Load(); arrived > 0 {
		return nil, fmt.Errorf("%d messages arrived while the cloud was down", arrived)
	}

	c0 := probeCPU(r.local.PID)
	up := time.Now()
	if err := r.startCloud(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.Log, "(cloud pid %d) ", r.cloud.PID)
	cc0 := probeCPU(r.cloud.PID)
	if err := sub.connect(r.cloud.Addr, lost); err != nil {
		return nil, err
	}
	defer sub.disconnect()
	drain(ctx, sub.unique.Load, total, 15*time.Second, s.DrainMax)
	c1, cc1 := probeCPU(r.local.PID), probeCPU(r.cloud.PID)
	if err := errors.Join(lost.err(), r.brokerCheck(), ctx.Err()); err != nil {
		return nil, err
	}

	smp := &Sample{}
	unique := sub.unique.Load()
	first, last := sub.firstNS.Load(), sub.lastNS.Load()
	if unique > 1 && last > first {
		smp.add(mBlDrain, "msg/s", float64(unique-1)/(float64(last-first)/1e9))
	}
	smp.add(mBlPublish, "msg/s", float64(total)/pubTime.Seconds())
	if first > 0 {
		smp.add(mBlFirst, "s", time.Unix(0, first).Sub(up).Seconds())
		smp.add(mBlTotal, "s", time.Unix(0, last).Sub(up).Seconds())
	}
	if c0.err == nil && c1.err == nil && unique > 0 {
		smp.add(mLocalCPU, "µs/msg", float64(c1.broker.Sub(c0.broker).Nanoseconds())/1e3/float64(unique))
	}
	addCloudCeiling(smp, cc0, cc1, unique)
	smp.add(mSent, "msgs", float64(total))
	smp.add(mReceived, "msgs", float64(unique))
	smp.add(mLost, "msgs", float64(sub.missing(acked)))
	smp.add(mDup, "msgs", float64(sub.dups()))
	smp.add(mReordered, "msgs", float64(sub.reordered.Load()))
	return smp, nil
}

// bridgeSynopsis is the usage line of the bridge command.
var bridgeSynopsis = "mqttbench bridge --edgemq PATH [--mosquitto /usr/sbin/mosquitto] [--rounds 3] [--duration 10s]\n" +
	"                  [--publishers 8] [--size 64] [--window 32] [--bridge-window 64] [--backlog 200000]\n" +
	"                  [--drain-max D] [--cpuprofile FILE] [--drainprofile FILE] [--json FILE]"
