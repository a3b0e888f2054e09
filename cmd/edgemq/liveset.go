package main

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"
)

// component is a running bridge or sink, as its liveSet sees it.
type component[C any] interface {
	Reconfigure(C) error
	Close(context.Context) error
}

// liveSet runs the entries of one configuration section (bridges, sinks)
// by name. On SIGHUP (apply) a changed entry is reconfigured in place,
// without a gap in its subscriptions; a new one is started, a removed one
// stopped (its queue stays on disk and goes out if it comes back).
type liveSet[E, C any, R component[C]] struct {
	kind     string // "bridge", "sink": for logs; kind+"s."+name names a key that needs a restart
	log      *slog.Logger
	restart  error                 // what Reconfigure returns for a change it cannot make
	nameOf   func(E) string        // the entry's name
	config   func(E) (C, error)    // the component's configuration
	open     func(E, C) (R, error) // starts a component
	describe func(E) []any         // log attributes of a started one
	mu       sync.Mutex
	running  map[string]*liveEntry[E, R] // by name
	order    []string                    // start order, for stopping
}

type liveEntry[E, R any] struct {
	entry E
	c     R
}

// startAll starts entries in order; on an error it stops those started.
func (s *liveSet[E, C, R]) startAll(entries []E) error {
	s.running = make(map[string]*liveEntry[E, R])
	for _, e := range entries {
		if err := s.start(e); err != nil {
			s.stop()
			return err
		}
	}
	return nil
}

func (s *liveSet[E, C, R]) start(e E) error {
	c, err := s.config(e)
	if err != nil {
		return err
	}
	r, err := s.open(e, c)
	if err != nil {
		return err
	}
	name := s.nameOf(e)
	s.mu.Lock()
	s.running[name] = &liveEntry[E, R]{entry: e, c: r}
	s.order = append(s.order, name)
	s.mu.Unlock()
	s.log.Info(s.kind+" started", append([]any{s.kind, name}, s.describe(e)...)...)
	return nil
}

// stop closes every component, in start order. It may be called more
// than once.
func (s *liveSet[E, C, R]) stop() {
	s.mu.Lock()
	names := s.order
	s.order = nil
	s.mu.Unlock()
	for _, name := range names {
		s.close(name)
	}
}

func (s *liveSet[E, C, R]) close(name string) {
	s.mu.Lock()
	le := s.running[name]
	delete(s.running, name)
	s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == name })
	s.mu.Unlock()
	if le == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := le.c.Close(ctx); err != nil {
		s.log.Error("close "+s.kind, s.kind, name, "err", err)
	}
}

// apply brings the running components to entries (SIGHUP). It returns
// the names of what it changed, and the keys of those that only a restart
// can change, which keep running as they were.
func (s *liveSet[E, C, R]) apply(entries []E) (changed, needRestart []string) {
	want := make(map[string]bool)
	for _, e := range entries {
		name := s.nameOf(e)
		want[name] = true
		s.mu.Lock()
		le := s.running[name]
		s.mu.Unlock()
		switch {
		case le == nil:
			if err := s.start(e); err != nil {
				s.log.Error("reload: "+s.kind+" not started", s.kind, name, "err", err)
				continue
			}
			changed = append(changed, name)
		case !reflect.DeepEqual(le.entry, e):
			c, err := s.config(e)
			if err == nil {
				err = le.c.Reconfigure(c)
			}
			if errors.Is(err, s.restart) {
				needRestart = append(needRestart, s.kind+"s."+name)
				continue
			}
			if err != nil {
				s.log.Error("reload: "+s.kind+" not reconfigured", s.kind, name, "err", err)
				continue
			}
			s.mu.Lock()
			le.entry = e
			s.mu.Unlock()
			changed = append(changed, name)
		}
	}
	s.mu.Lock()
	var gone []string
	for name := range s.running {
		if !want[name] {
			gone = append(gone, name)
		}
	}
	s.mu.Unlock()
	for _, name := range gone {
		s.close(name)
		s.log.Info(s.kind+" stopped: removed from the configuration", s.kind, name)
		changed = append(changed, name)
	}
	return changed, needRestart
}

// each calls fn for every running component in start order, with the set
// locked.
func (s *liveSet[E, C, R]) each(fn func(name string, e E, c R)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.order {
		le := s.running[name]
		fn(name, le.entry, le.c)
	}
}
