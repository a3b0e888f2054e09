// Command mqttbench is edgemq's MQTT load generator. It runs the same loads
// against edgemq and Mosquitto, side by side on loopback, and reports the
// broker's throughput, loss, latency, memory and — above all — the broker
// process's own CPU time per message, read from /proc.
//
// Usage:
//
//	go run ./cmd/mqttbench compare --edgemq PATH_TO_EDGEMQ_BINARY [--mosquitto /usr/sbin/mosquitto]
//	    [--rounds 3] [--duration 5s] [--loads fanin0,fanin1,fanout,latency,memory] [--json FILE]
//	go run ./cmd/mqttbench run --addr 127.0.0.1:PORT --load fanin0 [--pid BROKER_PID]
//	    [--rounds 1] [--duration 5s] [--json FILE]
//	go run ./cmd/mqttbench bridge --edgemq PATH_TO_EDGEMQ_BINARY [--rounds 3] [--duration 10s]
//	    [--publishers 8] [--size 64] [--window 32] [--bridge-window 64] [--backlog 200000]
//
// Both accept --publishers, --subscribers, --rate, --conns and --window to
// change a load's size (see -h). A hidden compare flag,
// --edgemq-as-mosquitto, starts the edgemq side as Mosquitto too, to check
// the harness itself (both columns should then agree).
//
// compare starts a fresh broker for every run: edgemq as
// `EDGEMQ_BINARY run --config FILE` and Mosquitto as `mosquitto -c FILE`,
// each with a config written to a temp dir and a free loopback port (never
// 1883). For each round it runs every load on edgemq, then on Mosquitto
// (A B A B ...), and finally prints, per load, a table of
// "metric | edgemq median (min–max) | mosquitto median (min–max) | ratio"
// and a line telling which targets edgemq meets. Brokers are stopped after
// each run, on Ctrl-C (a second Ctrl-C kills them at once) and, through
// PR_SET_PDEATHSIG, if mqttbench itself dies.
//
// run runs loads against a broker that is already running, for debugging;
// CPU and memory figures need its PID (--pid).
//
// bridge compares store-and-forward bridges: QoS 1 publishers into a local
// edgemq or Mosquitto, bridged at QoS 1 to a "cloud" Mosquitto with one
// QoS 1 subscriber; forwarding throughput, then the drain of a backlog
// published while the cloud was down (see bridge.go).
//
// Loads (64-byte payloads carrying publisher id, sequence number and send
// time; MQTT 3.1.1 clients from github.com/eclipse/paho.mqtt.golang):
//
//	fanin0   50 publishers -> 1 subscriber on sensors/+/temp, QoS 0, flat out
//	fanin1   the same at QoS 1, each publisher waiting for its PUBACK
//	fanout   1 publisher -> 100 subscribers on one topic, QoS 0, flat out
//	latency  10 publishers, QoS 1, paced at 2000 msg/s in total: p50/p99/p99.9/max
//	memory   broker RSS idle and with 1000 and 5000 idle raw-TCP connections
//
// Broker CPU is the sum over /proc/PID/task/*/schedstat (ns on CPU of every
// thread; /proc/PID/schedstat alone is the main thread only), sampled at
// the start of the measured window and after the drain that follows it.
// "broker CPU/msg" divides it by the messages (or deliveries) received, so
// CPU spent on messages a broker dropped counts against it; "broker
// CPU/published" divides by messages published. "broker thread runs/msg"
// counts the times a broker thread was put on a CPU (the third schedstat
// field: once per wake-up or return from preemption) per message: a
// context switch costs several µs in a virtual machine, and in a paced
// load most of a broker's CPU goes to them. Throughput counts only the
// measured window (--duration, after a warm-up of min(1s, duration/5));
// loss is published minus received after a drain of up to max(2s,
// duration). The utilisation rows show how busy the broker, the generator
// and all other processes (from /proc/stat) were during the window; a
// table is flagged when other processes used over 20% of a core.
//
// Flat-out QoS 0 publishing is flow-controlled: at most --window (1000)
// messages are in flight between the publishers and the slowest
// subscriber. Without it, 50 hot publisher goroutines starve the
// subscriber and the result measures Mosquitto's drop policy and the Go
// scheduler instead of the broker (--window 0 restores that behaviour).
// QoS 1 publishers are bounded by waiting for each PUBACK only, so a broker
// that acknowledges faster than the subscriber reads must queue or drop:
// Mosquitto drops beyond max_queued_messages, which shows up as QoS 1 loss.
//
// Mosquitto runs with its defaults apart from the listener,
// allow_anonymous true, max_connections -1, persistence false and
// log_type error; so max_queued_messages is 1000 and max_inflight_messages
// 20, and Mosquitto drops QoS 0 messages for a subscriber that falls behind.
// edgemq gets max_queued_messages 10000 and max_inflight 64.
//
// Before starting brokers, RLIMIT_NOFILE is raised to its hard limit; the
// brokers inherit it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	raiseNofile()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\ninterrupted: stopping (again to kill the brokers now)")
		cancel()
		<-sig
		KillAllBrokers()
		os.Exit(130)
	}()

	var err error
	switch os.Args[1] {
	case "compare":
		err = cmdCompare(ctx, os.Args[2:])
	case "run":
		err = cmdRun(ctx, os.Args[2:])
	case "bridge":
		err = cmdBridge(ctx, os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "mqttbench: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if errors.Is(err, errBadFlags) {
		os.Exit(2) // the flag package has already said why
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mqttbench:", err)
		if ctx.Err() != nil {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// errBadFlags reports a command line the flag package rejected.
var errBadFlags = errors.New("bad flags")

// parseFlags parses args, mapping the flag package's errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errBadFlags
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  mqttbench compare --edgemq PATH [--mosquitto /usr/sbin/mosquitto] [--rounds 3] [--duration 5s]
                    [--loads fanin0,fanin1,fanout,latency,memory] [--json FILE]
  mqttbench run --addr 127.0.0.1:PORT --load fanin0 [--pid PID] [--rounds 1] [--duration 5s] [--json FILE]
  `+bridgeSynopsis+`
run "mqttbench compare -h", "mqttbench run -h" or "mqttbench bridge -h" for every flag
`)
}

// raiseNofile sets the soft RLIMIT_NOFILE to the hard limit. Calling
// Setrlimit explicitly also makes child processes inherit the raised limit
// (Go otherwise restores the original soft limit in children).
func raiseNofile() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "mqttbench: cannot raise RLIMIT_NOFILE:", err)
	}
}

// commonFlags are the flags shared by compare and run.
type commonFlags struct {
	rounds      int
	duration    time.Duration
	loads       string
	jsonPath    string
	publishers  int
	subscribers int
	rate        float64
	conns       string
	window      int
}

func (c *commonFlags) register(fs *flag.FlagSet, rounds int, loadsFlag, loadsDefault string) {
	fs.IntVar(&c.rounds, "rounds", rounds, "rounds per load")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measured window of each throughput/latency run")
	fs.StringVar(&c.loads, loadsFlag, loadsDefault, "comma-separated loads: "+strings.Join(LoadNames(), ","))
	fs.StringVar(&c.jsonPath, "json", "", "write every raw sample to this JSON file")
	fs.IntVar(&c.publishers, "publishers", 0, "override the number of publishers (fanin: 50, latency: 10)")
	fs.IntVar(&c.subscribers, "subscribers", 0, "override the number of fanout subscribers (100)")
	fs.Float64Var(&c.rate, "rate", 0, "override the latency load's total rate in msg/s (2000)")
	fs.StringVar(&c.conns, "conns", "", "override the memory load's connection counts (1000,5000)")
	fs.IntVar(&c.window, "window", 1000, "QoS 0 loads: messages in flight at most (0: no flow control)")
}

func (c *commonFlags) settings() (Settings, error) {
	if c.rounds < 1 || c.rounds > 100 {
		return Settings{}, errors.New("--rounds must be between 1 and 100")
	}
	if c.duration < 10*time.Millisecond || c.duration > time.Hour {
		return Settings{}, errors.New("--duration must be between 10ms and 1h")
	}
	loads, err := FindLoads(c.loads)
	if err != nil {
		return Settings{}, err
	}
	p := Params{Publishers: c.publishers, Subscribers: c.subscribers, Rate: c.rate, Window: c.window}
	if c.window <= 0 {
		p.Window = -1
	}
	if c.conns != "" {
		last := 0
		for f := range strings.SplitSeq(c.conns, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= last || n > 15000 {
				return Settings{}, fmt.Errorf("--conns: want increasing counts up to 15000, got %q", c.conns)
			}
			p.Conns = append(p.Conns, n)
			last = n
		}
	}
	return Settings{Rounds: c.rounds, Duration: c.duration, Loads: loads, Params: p, Out: os.Stdout, Log: os.Stderr}, nil
}

// hiddenFlags are accepted but left out of -h (self-test aids).
var hiddenFlags = map[string]bool{"edgemq-as-mosquitto": true}

func setUsage(fs *flag.FlagSet, synopsis string) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			if hiddenFlags[f.Name] {
				return
			}
			name, u := flag.UnquoteUsage(f)
			fmt.Fprintf(fs.Output(), "  --%s %s\n    \t%s", f.Name, name, u)
			if f.DefValue != "" && f.DefValue != "0" {
				fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
			}
			fmt.Fprintln(fs.Output())
		})
	}
}

func cmdCompare(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var c commonFlags
	c.register(fs, 3, "loads", strings.Join(LoadNames(), ","))
	edgemq := fs.String("edgemq", "", "path to the edgemq binary (required)")
	mosq := fs.String("mosquitto", "/usr/sbin/mosquitto", "path to the mosquitto binary")
	asMosq := fs.Bool("edgemq-as-mosquitto", false, "self-test: start the edgemq side as Mosquitto (binary --edgemq, else --mosquitto)")
	setUsage(fs, "mqttbench compare --edgemq PATH [flags]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := c.settings()
	if err != nil {
		return err
	}
	a := Target{Name: "edgemq", Kind: KindEdgeMQ, Binary: *edgemq}
	note := ""
	if *asMosq {
		a.Kind = KindMosquitto
		if a.Binary == "" {
			a.Binary = *mosq
		}
		note = "self-test (--edgemq-as-mosquitto): the edgemq column is Mosquitto " + a.Binary
	}
	if a.Binary == "" {
		return errors.New("--edgemq PATH is required")
	}
	b := Target{Name: "mosquitto", Kind: KindMosquitto, Binary: *mosq}
	for _, t := range []*Target{&a, &b} {
		if t.Binary, err = checkBinary(t.Binary); err != nil {
			return err
		}
	}

	started := time.Now()
	if note != "" {
		fmt.Fprintln(s.Log, "NOTE:", note)
	}
	runs := Compare(ctx, s, a, b)
	if note != "" {
		fmt.Fprintln(s.Out, "NOTE:", note)
	}
	win := "none"
	if s.Params.Window > 0 {
		win = strconv.Itoa(s.Params.Window)
	}
	fmt.Fprintf(s.Out, "mqttbench compare: %s=%s vs %s=%s; %d round(s) of %v; QoS 0 window %s; %d CPUs\n",
		a.Name, a.Binary, b.Name, b.Binary, s.Rounds, s.Duration, win, runtime.NumCPU())
	fmt.Fprintln(s.Out, "queues: edgemq max_queued_messages 10000, max_inflight 64; mosquitto defaults max_queued_messages 1000, max_inflight_messages 20")
	PrintComparison(s.Out, s, a, b, runs)
	if c.jsonPath != "" {
		rep := JSONReport{Started: started, Args: os.Args, Mode: "compare", Rounds: s.Rounds,
			Duration: s.Duration.String(), Note: note, Targets: []Target{a, b}, Runs: runs}
		if err := WriteJSON(c.jsonPath, rep); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// checkBinary makes path absolute and checks that it is an executable file.
func checkBinary(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file", abs)
	}
	return abs, nil
}

func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c commonFlags
	c.register(fs, 1, "load", "fanin0")
	addr := fs.String("addr", "", "address of the running broker, host:port (required)")
	pid := fs.Int("pid", 0, "PID of the broker, for CPU and memory figures")
	setUsage(fs, "mqttbench run --addr HOST:PORT --load NAME [flags]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *addr == "" {
		return errors.New("--addr HOST:PORT is required")
	}
	s, err := c.settings()
	if err != nil {
		return err
	}
	started := time.Now()
	t := Target{Name: *addr, Kind: KindExternal}
	var runs []Run
	for _, l := range s.Loads {
		var lr []Run
		for round := 1; round <= s.Rounds && ctx.Err() == nil; round++ {
			r := Run{Load: l.Name, Target: t.Name, Kind: t.Kind.String(), Round: round, Started: time.Now()}
			fmt.Fprintf(s.Log, "[round %d/%d] %s on %s\n", round, s.Rounds, l.Name, *addr)
			sample, err := l.Run(ctx, s.envFor(*addr, *pid))
			r.Seconds = time.Since(r.Started).Seconds()
			if err != nil {
				r.Error = err.Error()
				fmt.Fprintf(s.Log, "    failed: %v\n", err)
			} else {
				r.Metrics = sample.Metrics
				fmt.Fprintf(s.Log, "    %s\n", headline(sample))
			}
			lr = append(lr, r)
		}
		runs = append(runs, lr...)
		fmt.Fprintf(s.Out, "\n== %s: %s; %d round(s) of %v against %s ==\n", l.Name, l.Desc, s.Rounds, s.Duration, *addr)
		fmt.Fprint(s.Out, SingleTable(lr))
	}
	if c.jsonPath != "" {
		rep := JSONReport{Started: started, Args: os.Args, Mode: "run", Rounds: s.Rounds,
			Duration: s.Duration.String(), Targets: []Target{t}, Runs: runs}
		if err := WriteJSON(c.jsonPath, rep); err != nil {
			return err
		}
	}
	for _, r := range runs {
		if r.Error != "" {
			return errors.New("some runs failed")
		}
	}
	return ctx.Err()
}
