package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/cpugov"
	"github.com/edgemq/edgemq/internal/kv"
	"github.com/edgemq/edgemq/internal/logging"
	"github.com/edgemq/edgemq/internal/memtrim"
	"github.com/edgemq/edgemq/internal/sdnotify"
)

// version and commit are set at build time with -ldflags "-X
// main.version=... -X main.commit=..." (make build does); without them the
// commit comes from the build's VCS stamp, if any.
var (
	version = "dev"
	commit  = ""
)

const usage = `usage: edgemq <command> [flags]

commands:
  run [--config FILE] [--reset-data]
                         run the gateway; without FILE, the embedded defaults
                         (MQTT on 127.0.0.1:1883, data in ./data); --reset-data
                         moves the data directory aside and starts empty
  check-config FILE      validate FILE and exit
  devices list           show serial ports, GPIO chips and I2C buses
  passwd [-c] [-b] [-D] FILE USER [PASSWORD]
                         edit a password file (like mosquitto_passwd)
  pub -t TOPIC -m MSG    publish like mosquitto_pub (see edgemq pub --help)
  sub -t FILTER          subscribe like mosquitto_sub (see edgemq sub --help)
  version                print the version
`

// run dispatches a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stderr)
	case "pub":
		return cmdPub(ctx, args[1:], os.Stdin, stdout, stderr)
	case "sub":
		return cmdSub(ctx, args[1:], stdout, stderr)
	case "passwd":
		return cmdPasswd(args[1:], os.Stdin, stdout, stderr)
	case "check-config":
		return cmdCheckConfig(args[1:], stdout, stderr)
	case "devices":
		return cmdDevices(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionLine())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "edgemq: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func cmdCheckConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, "usage: edgemq check-config FILE\n")
		return 2
	}
	cfg, err := config.Load(args[0])
	if err == nil {
		err = cfg.CheckFiles() // certificates must exist and parse
	}
	if err == nil {
		_, err = newAuthorizer(cfg.Broker.Auth) // the password file must load
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return 0
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration `file` (default: embedded defaults)")
	resetData := fs.Bool("reset-data", false, "move the storage directory aside (to DIR.broken-TIMESTAMP) and start with empty state")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `file` until exit (for performance work)")
	memProfile := fs.String("memprofile", "", "write a heap profile (every allocation sampled) to `file` when asked to stop (for performance work)")
	importPath := fs.String("import", "", "if `file` exists and is valid, it replaces the --config file and is removed (an SD card's boot partition)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *importPath != "" && *cfgPath == "" {
		fmt.Fprintln(stderr, "edgemq: --import needs --config (the file it replaces)")
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "edgemq:", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 1
		// Written when the stop is asked for, before the shutdown frees
		// anything; run waits for it.
		stopped, written := make(chan struct{}), make(chan struct{})
		defer func() { close(stopped); <-written }()
		go func() {
			defer close(written)
			select {
			case <-ctx.Done():
				writeHeapProfile(*memProfile, stderr)
			case <-stopped:
			}
		}()
	}
	var warnings []string
	if *importPath != "" {
		if _, w := importConfig(*importPath, *cfgPath); w != "" {
			warnings = append(warnings, w)
		}
	}
	cfg := config.Demo()
	if *cfgPath != "" {
		var err error
		cfg, err = config.Load(*cfgPath)
		if err == nil {
			err = cfg.CheckFiles()
		}
		if errors.Is(err, os.ErrNotExist) && *importPath != "" && !exists(*cfgPath) {
			// Nothing imported yet (a fresh card): the defaults, no demo.
			cfg, err = config.Default(), nil
			warnings = append(warnings, fmt.Sprintf("no configuration at %s yet: running the defaults; put edgemq.yaml at %s", *cfgPath, *importPath))
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	log, level, err := logging.New(stderr, cfg.Log.Level)
	if err != nil {
		fmt.Fprintln(stderr, "edgemq:", err)
		return 1
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	if *importPath != "" && len(warnings) == 0 {
		log.Info("configuration in effect", "file", *cfgPath)
	}
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(cfg.MemoryLimit))
	}
	// SIGHUP reloads what can change safely; registered before the
	// listeners open so that an early SIGHUP cannot kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	st, err := openStorage(cfg.Storage.Dir, *resetData, log)
	if err != nil {
		log.Error("edgemq cannot start", "err", err)
		return 1
	}
	defer st.close(log) // after serve has shut the broker down
	rl := &reloader{path: *cfgPath, cfg: cfg, log: log, level: level, warnings: warnings}
	rl.current.Store(cfg)
	if err := serve(ctx, cfg, log, hup, rl, st.store, st.db); err != nil {
		log.Error("edgemq stopped", "err", err)
		return 1
	}
	return 0
}

// serve wires the packages together, runs until ctx is done (reloading on
// each hup), then shuts down in reverse order.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, hup <-chan os.Signal, rl *reloader, store broker.Store, db *kv.DB) error {
	opts := brokerOptions(cfg, log.With("component", "broker"))
	opts.Store = store
	if err := loadListenerTLS(cfg, &opts); err != nil {
		return err
	}
	auth, passwords, err := loadAuth(cfg.Broker.Auth)
	if err != nil {
		return err
	}
	opts.Auth = auth
	srv, err := broker.New(opts)
	if err != nil {
		return err
	}
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}
	// undo stops what started, in reverse order, when a later step fails.
	undo := []func(){shutdown}
	fail := func(err error) error {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
		return err
	}
	users := &webUsers{}
	users.set(cfg.Broker.Auth, passwords)
	ready := &readiness{stored: db}
	sets := &gatewaySets{}
	// The HTTP side tracks topics from here on: what bridges and devices
	// publish at their start shows on the dashboard.
	ws, err := newWeb(cfg, srv, db, users, ready, sets, rl.current.Load, rl.warnings, log)
	if err != nil {
		return fail(err)
	}
	if ws != nil {
		undo = append(undo, func() { closeWeb(ws, log) })
	}
	// The bridges subscribe before the listeners open: a client that
	// connects at once (one resending after a restart) must not have a
	// QoS 1 message acknowledged that no bridge took.
	bridges, err := startBridges(srv, db, cfg, log)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, bridges.stop)
	sinks, err := startSinks(srv, db, cfg.Sinks, cfg.Gateway.ID, time.Duration(cfg.Broker.SysInterval), log)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, sinks.stop)
	devs, err := startDevices(srv, db, cfg, log)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, devs.stop)
	if err := srv.Start(); err != nil {
		return fail(err)
	}
	sets.bridges, sets.sinks, sets.devices = bridges, sinks, devs
	if ws != nil {
		if err := ws.Start(); err != nil {
			return fail(err)
		}
	}
	ready.set(true, nil)
	log.Info("edgemq started", "version", version, "gateway", cfg.Gateway.ID)
	rl.srv, rl.devices, rl.bridges, rl.sinks, rl.users, rl.web = srv, devs, bridges, sinks, users, ws
	// systemd: READY once listeners are bound and storage is open; the
	// watchdog is pinged from this loop, after asking the broker for its
	// figures, so a broker that hangs stops the pings.
	notify(log, sdnotify.Ready())
	notify(log, sdnotify.Status(statusLine(srv)))
	// Before the trim: the code that only starting the governor runs is
	// not paged back in.
	defer startGovernor(cfg.MaxProcs, log)()
	trimAfterStart(log)
	var watchdog <-chan time.Time
	if d := sdnotify.WatchdogInterval(); d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		watchdog = t.C
	}
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			rl.reload()
		case <-watchdog:
			status := statusLine(srv)
			notify(log, sdnotify.Watchdog())
			notify(log, sdnotify.Status(status))
		}
	}
	notify(log, sdnotify.Stopping())
	log.Info("shutting down")
	ready.set(false, errors.New("shutting down"))
	if ws != nil {
		closeWeb(ws, log)
	}
	devs.stop()    // first: they publish through the broker, the bridges and sinks
	bridges.stop() // before the broker, so that no publisher waits on them
	sinks.stop()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, broker.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// versionLine is "edgemq VERSION (commit C, goX.Y.Z, OS/ARCH)"; the commit
// comes from the build's VCS stamp when there is one.
func versionLine() string {
	c := commit
	if bi, ok := debug.ReadBuildInfo(); ok && c == "" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				c = s.Value[:12]
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("edgemq %s (commit %s, %s, %s/%s)", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// statusLine is the one line systemctl status shows.
func statusLine(srv *broker.Server) string {
	st := srv.Stats()
	return fmt.Sprintf("%d clients connected, %d sessions, %d retained", st.ClientsConnected, st.ClientsTotal, st.RetainedMessages)
}

// notify logs a failure to talk to systemd; it is never fatal.
func notify(log *slog.Logger, err error) {
	if err != nil {
		log.Warn("systemd notify failed", "err", err)
	}
}

// brokerOptions maps the broker section of the configuration.
func brokerOptions(cfg *config.Config, log *slog.Logger) broker.Options {
	b := cfg.Broker
	opts := broker.Options{
		MaxConnections:    b.Limits.MaxConnections,
		MaxPacketSize:     int(b.Limits.MaxPacketSize),
		MaxKeepAlive:      time.Duration(b.Limits.MaxKeepAlive),
		MaxInflight:       b.Limits.MaxInflight,
		MaxQueuedMessages: b.Limits.MaxQueuedMessages,
		ReceiveMaximum:    b.Limits.ReceiveMaximum,
		SysInterval:       time.Duration(b.SysInterval),
		Logger:            log,
		Version:           version,
	}
	for _, l := range b.Listeners {
		opts.Listeners = append(opts.Listeners, broker.Listener{
			Name: l.Type + ":" + l.Address, Address: l.Address, AllowAnonymous: l.AllowAnonymous,
			Type: l.Type, Path: l.Path, MaxConnections: l.MaxConnections,
			RequireCertificate: l.RequireCertificate, UseIdentityAsUsername: l.UseIdentityAsUsername,
		})
	}
	return opts
}

// writeHeapProfile writes the live heap to path.
func writeHeapProfile(path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "edgemq: heap profile:", err)
	}
}

// startGovernor adapts GOMAXPROCS to the load (internal/cpugov) unless
// the GOMAXPROCS environment variable fixes it; the returned func stops
// the governor and waits for it.
func startGovernor(maxProcs int, log *slog.Logger) (stop func()) {
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		log.Debug("GOMAXPROCS fixed by the environment", "GOMAXPROCS", v)
		return func() {}
	}
	return cpugov.Start(context.Background(), cpugov.Options{Max: maxProcs, Logger: log})
}

// trimAfterStart gives the memory only start-up used back to the kernel.
func trimAfterStart(log *slog.Logger) {
	st, err := memtrim.AfterStart()
	if err != nil {
		log.Debug("start-up memory not trimmed", "err", err)
		return
	}
	log.Debug("start-up memory trimmed", "executable_bytes", st.Advised)
}

// exists reports whether path names something (a file that cannot be
// read for another reason counts as existing: its error is reported).
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
