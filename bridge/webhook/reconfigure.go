package webhook

import (
	"fmt"
	"slices"
)

// Reconfigure applies cfg to the running sink. New filters are
// subscribed before removed ones are dropped, so a filter kept across
// the change never misses a message (one published during the change
// may be sent twice). The endpoint, headers, TLS, gzip, timeout, batch
// bytes and delay, rate and retry settings apply from the next request;
// a sink waiting out a back-off tries again at once. Messages already
// queued stay queued. A change of the name, gateway id, queue limits,
// batch.max_messages or $SYS interval returns ErrNeedsRestart and
// changes nothing.
func (s *Sink) Reconfigure(cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return err
	}
	if cfg.Name != s.name || cfg.GatewayID != s.gateway || cfg.Queue != s.queueLim ||
		cfg.BatchMessages != s.batchMax || cfg.SysInterval != s.sysEvery {
		return fmt.Errorf("%w: sink %q: name, gateway id, queue limits, batch max messages or $SYS interval changed", ErrNeedsRestart, s.name)
	}
	s.reconf.Lock()
	defer s.reconf.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return fmt.Errorf("sink %q: %w", s.name, ErrClosed)
	}
	if err := s.setFilters(cfg.Filters); err != nil {
		return fmt.Errorf("sink %q: %w", s.name, err)
	}
	client := newClient(cfg)
	s.mu.Lock()
	old := s.client
	cfg.Filters = slices.Clone(cfg.Filters)
	s.cfg, s.client = cfg, client
	clear(s.seen) // bounded memory: at worst a duplicate
	s.mu.Unlock()
	old.CloseIdleConnections()
	select { // a deliverer waiting out its back-off tries at once
	case s.reconfigured <- struct{}{}:
	default:
	}
	s.log.Info("sink reconfigured", "url", redacted(cfg.URL), "filters", cfg.Filters)
	return nil
}
