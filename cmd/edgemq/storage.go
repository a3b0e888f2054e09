package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/edgemq/edgemq/broker/persist"
	"github.com/edgemq/edgemq/internal/kv"
)

// storage is the gateway's database and the broker's store in it.
type storage struct {
	db    *kv.DB
	store *persist.Store
}

// openStorage opens the database in dir, creating it (mode 0700). With
// reset, an existing dir is first moved aside to dir.broken-TIMESTAMP and
// the gateway starts empty. A directory that is not an edgemq database or
// is corrupt is an error that names it and the way out.
func openStorage(dir string, reset bool, log *slog.Logger) (*storage, error) {
	if reset {
		if err := resetData(dir, log); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage directory %s: %w", dir, err)
	}
	o := kv.DefaultOptions()
	o.Logger = log.With("component", "kv")
	db, err := kv.Open(dir, o)
	if err != nil {
		if errors.Is(err, kv.ErrForeign) || errors.Is(err, kv.ErrCorrupt) {
			return nil, fmt.Errorf("storage directory %s cannot be used: %w; "+
				"to move it aside and start with empty state, run `edgemq run --reset-data`", dir, err)
		}
		return nil, fmt.Errorf("storage directory %s: %w", dir, err)
	}
	st, err := persist.New(db, log.With("component", "persist"))
	if err != nil {
		db.Close(context.Background())
		return nil, err
	}
	return &storage{db: db, store: st}, nil
}

// resetData moves dir aside, if it exists.
func resetData(dir string, log *slog.Logger) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	to := dir + ".broken-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(dir, to); err != nil {
		return fmt.Errorf("reset data: %w", err)
	}
	log.Warn("data directory moved aside; starting with empty state", "dir", dir, "moved_to", to)
	return nil
}

// close closes the store and then the database; call it after the broker
// has shut down.
func (s *storage) close(log *slog.Logger) {
	s.store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.db.Close(ctx); err != nil {
		log.Error("close database", "err", err)
	}
}
