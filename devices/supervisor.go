package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Device is one adapter with how its readings are published.
type Device struct {
	// ID names the device in topics, logs and $SYS; unique.
	ID      string
	Adapter Adapter
	// Topic is the prefix of the device's topics; empty:
	// edgemq/<gateway-id>/<id>.
	Topic string
	// QoS and Retain of the readings. The status is always retained
	// with QoS 1.
	QoS    byte
	Retain bool
	// JSON publishes each reading as one JSON object on Topic instead of
	// one message per field on Topic/<field>.
	JSON bool
	// StaleAfter marks the device offline when no valid reading arrived
	// for that long; 0: never.
	StaleAfter time.Duration
	// RestartMin and RestartMax bound the exponential back-off between
	// restarts of a failed adapter; 0: DefaultRestartMin,
	// DefaultRestartMax.
	RestartMin, RestartMax time.Duration
}

// Options configure a Supervisor.
type Options struct {
	// Client publishes readings and status and subscribes to commands;
	// required. The Supervisor does not close it.
	Client Client
	// GatewayID goes into the default topics.
	GatewayID string
	// SysInterval is the period of the $SYS/broker/devices/<id>/ figures;
	// 0: not published.
	SysInterval time.Duration
	// Logger; nil: discard.
	Logger *slog.Logger
}

// Supervisor runs adapters and restarts those that fail.
type Supervisor struct {
	opts    Options
	devices []*device
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// Start checks devs, subscribes to their commands and starts them.
// Close stops them.
func Start(opts Options, devs []Device) (*Supervisor, error) {
	if opts.Client == nil {
		return nil, errors.New("devices: no client")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Supervisor{opts: opts}
	ids := make(map[string]bool)
	for _, dc := range devs {
		if !ValidID(dc.ID) {
			return nil, fmt.Errorf("devices: invalid device id %q", dc.ID)
		}
		if ids[dc.ID] {
			return nil, fmt.Errorf("devices: duplicate device id %q", dc.ID)
		}
		ids[dc.ID] = true
		if dc.Adapter == nil {
			return nil, fmt.Errorf("devices: device %q has no adapter", dc.ID)
		}
		if dc.QoS > 2 {
			return nil, fmt.Errorf("devices: device %q: invalid QoS %d", dc.ID, dc.QoS)
		}
		if dc.Topic == "" {
			dc.Topic = "edgemq/" + opts.GatewayID + "/" + dc.ID
		}
		if err := ValidTopicPrefix(dc.Topic); err != nil {
			return nil, fmt.Errorf("devices: device %q: %w", dc.ID, err)
		}
		s.devices = append(s.devices, newDevice(s, dc))
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, d := range s.devices {
		if err := d.subscribe(); err != nil {
			s.cancel()
			return nil, err
		}
	}
	for _, d := range s.devices {
		d := d
		s.wg.Add(2)
		// Both exit when s.ctx is done (Close).
		go func() { defer s.wg.Done(); d.supervise(s.ctx) }()
		go func() { defer s.wg.Done(); d.statusLoop(s.ctx) }()
	}
	if opts.SysInterval > 0 && len(s.devices) > 0 {
		s.wg.Add(1)
		// Exits when s.ctx is done (Close).
		go func() { defer s.wg.Done(); s.sysLoop() }()
	}
	return s, nil
}

// Close stops the adapters, publishes their status offline and waits for
// them, or until ctx is done. It may be called more than once.
func (s *Supervisor) Close(ctx context.Context) error {
	s.once.Do(s.cancel)
	done := make(chan struct{})
	// Exits when the supervisor's goroutines have (they watch s.ctx).
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("devices: close: %w", ctx.Err())
	}
}

// Stats returns the figures of every device, in configuration order.
func (s *Supervisor) Stats() []Stats {
	out := make([]Stats, 0, len(s.devices))
	for _, d := range s.devices {
		out = append(out, d.stats())
	}
	return out
}

// ValidFieldName reports whether name can be a field (or device) name:
// 1 to 64 letters, digits, '_', '-' and '.', and not a reserved name
// ("status", "time").
func ValidFieldName(name string) bool {
	if name == "" || len(name) > 64 || name == "status" || name == "time" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ValidID reports whether id can be a device id: 1 to 64 letters,
// digits, '_', '-' and '.'.
func ValidID(id string) bool {
	return ValidFieldName(id) || id == "status" || id == "time"
}

// ValidTopicPrefix checks a device topic prefix: not empty, no
// wildcards, no empty level, not starting with '$'.
func ValidTopicPrefix(t string) error {
	switch {
	case t == "":
		return errors.New("empty topic")
	case strings.ContainsAny(t, "+#\x00"):
		return fmt.Errorf("topic %q has a wildcard or NUL", t)
	case strings.HasPrefix(t, "$"):
		return fmt.Errorf("topic %q starts with $", t)
	case strings.HasPrefix(t, "/") || strings.HasSuffix(t, "/") || strings.Contains(t, "//"):
		return fmt.Errorf("topic %q has an empty level", t)
	}
	return nil
}
