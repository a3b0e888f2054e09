package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// BrokerKind says how a broker binary is configured and started.
type BrokerKind int

const (
	// KindEdgeMQ is started as `BINARY run --config FILE` with a YAML config.
	KindEdgeMQ BrokerKind = iota
	// KindMosquitto is started as `BINARY -c FILE` with a mosquitto.conf.
	KindMosquitto
	// KindExternal is a broker mqttbench did not start (the run command).
	KindExternal
)

// MarshalText makes the kind readable in the JSON report.
func (k BrokerKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k BrokerKind) String() string {
	switch k {
	case KindMosquitto:
		return "mosquitto"
	case KindExternal:
		return "external"
	}
	return "edgemq"
}

// Target is one side of a comparison: a name for the report and how to
// start the broker.
type Target struct {
	Name   string     `json:"name"`
	Kind   BrokerKind `json:"kind"`
	Binary string     `json:"binary,omitempty"`
}

// Broker is a running broker child process listening on loopback.
type Broker struct {
	Target Target
	Addr   string // 127.0.0.1:PORT
	PID    int

	cmd     *exec.Cmd
	dir     string
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error
	stop    sync.Once
	keepDir bool // Stop leaves dir in place (its owner removes it)
}

// startTimeout bounds how long a broker may take to accept connections.
const startTimeout = 10 * time.Second

// live holds every started broker so that an interrupt can kill them.
var live = struct {
	sync.Mutex
	m map[*Broker]struct{}
}{m: map[*Broker]struct{}{}}

// KillAllBrokers kills every broker still running. It is used on a second
// interrupt, when an orderly shutdown is taking too long.
func KillAllBrokers() {
	live.Lock()
	defer live.Unlock()
	for b := range live.m {
		_ = b.cmd.Process.Kill()
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != 1883 && port != 8883 {
			return port, nil
		}
	}
	return 0, errors.New("no free port found")
}

// edgemqConfig renders the YAML config of an edgemq broker.
func edgemqConfig(port int, dataDir string) string {
	return fmt.Sprintf(`broker:
  listeners:
    - {type: tcp, address: "127.0.0.1:%d"}
  limits: {max_connections: 20000, max_queued_messages: 10000, max_inflight: 64, receive_maximum: 64}
  sys_interval: 0s
storage: {dir: %q}
log: {level: warn}
http: {address: ""}
`, port, dataDir)
}

// mosquittoConfig renders a mosquitto.conf. Everything not set here keeps
// Mosquitto's defaults (notably max_queued_messages 1000, max_inflight_messages 20).
//
// asRoot adds `user root`: started by root, Mosquitto otherwise switches
// to the mosquitto user, and the kernel clears PR_SET_PDEATHSIG on that
// credential change, so a broker would outlive a killed mqttbench. The
// setting changes nothing else.
func mosquittoConfig(port int, asRoot bool) string {
	user := ""
	if asRoot {
		user = "user root\n"
	}
	return fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
max_connections -1
persistence false
log_type error
log_dest stderr
%s`, port, user)
}

// StartBroker writes a config to a fresh temp dir, starts the broker and
// waits until its port accepts TCP connections.
func StartBroker(ctx context.Context, t Target) (*Broker, error) {
	dir, err := os.MkdirTemp("", "mqttbench-"+t.Kind.String()+"-")
	if err != nil {
		return nil, err
	}
	b, err := startIn(ctx, t, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return b, nil
}

func startIn(ctx context.Context, t Target, dir string) (*Broker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var conf string
	switch t.Kind {
	case KindEdgeMQ:
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return nil, err
		}
		conf = edgemqConfig(port, data)
	case KindMosquitto:
		conf = mosquittoConfig(port, os.Geteuid() == 0)
	default:
		return nil, fmt.Errorf("cannot start a broker of kind %v", t.Kind)
	}
	return launch(ctx, t, dir, port, conf, nil, false)
}

// launch writes conf as the config file of a broker of kind t.Kind in
// dir, starts the broker with extra arguments added and waits until port
// accepts TCP connections. The broker's log is dir/broker.log. With
// keepDir, Stop leaves dir in place (its owner removes it).
func launch(ctx context.Context, t Target, dir string, port int, conf string, extra []string, keepDir bool) (*Broker, error) {
	var args []string
	switch t.Kind {
	case KindEdgeMQ:
		path := filepath.Join(dir, "edgemq.yaml")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		args = []string{"run", "--config", path}
	case KindMosquitto:
		path := filepath.Join(dir, "mosquitto.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		args = []string{"-c", path}
	default:
		return nil, fmt.Errorf("cannot start a broker of kind %v", t.Kind)
	}
	args = append(args, extra...)
	logPath := filepath.Join(dir, "broker.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor

	cmd := exec.Command(t.Binary, args...)
	cmd.Dir = dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // terminal Ctrl-C reaches only us; we stop the broker
		Pdeathsig: syscall.SIGKILL, // and if we die hard, so does the broker
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", t.Binary, err)
	}
	b := &Broker{
		Target:  t,
		Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		PID:     cmd.Process.Pid,
		cmd:     cmd,
		dir:     dir,
		logPath: logPath,
		done:    make(chan struct{}),
		keepDir: keepDir,
	}
	live.Lock()
	live.m[b] = struct{}{}
	live.Unlock()
	go func() {
		b.waitErr = cmd.Wait()
		close(b.done)
	}()
	if err := b.waitReady(ctx); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// waitReady dials the broker's port until it accepts, the process exits,
// ctx ends or startTimeout passes.
func (b *Broker) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(startTimeout)
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	for time.Now().Before(deadline) {
		select {
		case <-b.done:
			return fmt.Errorf("%s exited during start-up (%v): %s", b.Target.Name, b.waitErr, b.LogTail(800))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := d.DialContext(ctx, "tcp", b.Addr)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not accept connections on %s within %v: %s", b.Target.Name, b.Addr, startTimeout, b.LogTail(800))
}

// Exited reports whether the broker process has ended.
func (b *Broker) Exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// LogTail returns up to n bytes from the end of the broker's output.
func (b *Broker) LogTail(n int) string {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return "(no log)"
	}
	data = bytes.TrimSpace(data)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	if len(data) == 0 {
		return "(empty log)"
	}
	return string(data)
}

// Stop ends the broker (SIGTERM, then SIGKILL after 3 s), waits for it to
// exit and removes its temp dir. It is safe to call more than once.
func (b *Broker) Stop() {
	b.stop.Do(func() {
		if !b.Exited() {
			_ = b.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-b.done:
			case <-time.After(3 * time.Second):
				_ = b.cmd.Process.Kill()
				select {
				case <-b.done:
				case <-time.After(5 * time.Second):
				}
			}
		}
		live.Lock()
		delete(live.m, b)
		live.Unlock()
		if !b.keepDir {
			os.RemoveAll(b.dir)
		}
	})
}
