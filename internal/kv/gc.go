package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// maxGCFilesPerPass bounds one value-log GC pass, so that Close never
// waits long for it.
const maxGCFilesPerPass = 16

// RequestReclaim asks the GC goroutine for a forced reclaim (flush,
// compaction, value-log GC). It never blocks; requests made within
// ReclaimInterval of the last reclaim are merged and served when the
// interval has passed.
func (d *DB) RequestReclaim() {
	select {
	case d.reclaimReq <- struct{}{}:
	default:
	}
}

// gcLoop is the GC goroutine. It returns when quit is closed.
func (d *DB) gcLoop() {
	defer close(d.gcDone)
	tick := time.NewTicker(d.opts.GCInterval)
	defer tick.Stop()
	var trimC <-chan time.Time
	if d.opts.TrimInterval > 0 {
		trim := time.NewTicker(d.opts.TrimInterval)
		defer trim.Stop()
		trimC = trim.C
	}
	var (
		last    time.Time   // end of the last forced reclaim
		pending bool        // a reclaim was asked for within the interval
		retry   *time.Timer // fires when a pending reclaim may run
		retryC  <-chan time.Time
	)
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	reclaim := func() {
		pending = false
		if err := d.reclaim(); err != nil && !errors.Is(err, errQuit) {
			d.log.Warn("reclaim failed", "err", err)
		}
		last = time.Now()
	}
	for {
		select {
		case <-d.quit:
			return
		case <-tick.C:
			if err := d.runGC(); err != nil && !errors.Is(err, errQuit) {
				d.log.Warn("value-log GC failed", "err", err)
			}
		case <-trimC:
			if _, err := d.TrimMappings(); err != nil {
				d.log.Debug("trim mappings", "err", err)
			}
		case <-d.reclaimReq:
			if wait := d.opts.ReclaimInterval - time.Since(last); !last.IsZero() && wait > 0 {
				if !pending {
					pending = true
					if retry == nil {
						retry = time.NewTimer(wait)
					} else {
						retry.Reset(wait)
					}
					retryC = retry.C
				}
				continue
			}
			reclaim()
		case <-retryC:
			retryC = nil
			if pending {
				reclaim()
			}
		}
	}
}

var errQuit = errors.New("kv: closing")

func (d *DB) quitting() bool {
	select {
	case <-d.quit:
		return true
	default:
		return false
	}
}

// runGC is one scheduled value-log GC pass.
func (d *DB) runGC() error {
	d.gcMu.Lock()
	defer d.gcMu.Unlock()
	return d.valueLogGC()
}

// valueLogGC rewrites or deletes value-log files that are mostly garbage,
// until Badger finds none or the pass has done maxGCFilesPerPass files.
func (d *DB) valueLogGC() error {
	d.stats.gcRuns.Add(1)
	for range maxGCFilesPerPass {
		if d.quitting() {
			return errQuit
		}
		err := d.runValueLogGCGated()
		switch {
		case err == nil:
			d.stats.gcFiles.Add(1)
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return nil
		default:
			return fmt.Errorf("kv: value-log GC: %w", err)
		}
	}
	return nil
}

// runValueLogGCGated runs one Badger value-log GC with the writers made
// through Update held off: Badger's GC reads the memtable's max version
// while its write goroutine updates it (a data race in Badger v4.9.6,
// which on 32-bit ARM could also tear the 64-bit read).
func (d *DB) runValueLogGCGated() error {
	d.gate.Lock()
	defer d.gate.Unlock()
	if d.closed.Load() {
		return ErrClosed
	}
	return d.bdb.RunValueLogGC(d.opts.GCDiscardRatio)
}

// Reclaim runs a forced reclaim now, ignoring ReclaimInterval: it flushes
// the memtables, compacts the LSM tree to one level and runs the value-log
// GC. It is meant for tests and maintenance commands; the gateway relies
// on RequestReclaim. ctx is checked between the steps.
func (d *DB) Reclaim(ctx context.Context) error {
	d.gcMu.Lock()
	defer d.gcMu.Unlock()
	if d.closed.Load() || d.quitting() {
		return ErrClosed
	}
	steps := []func() error{d.flushMemtables, d.flatten, d.valueLogGC}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("kv: reclaim: %w", err)
		}
		if err := step(); err != nil {
			return err
		}
	}
	d.stats.reclaims.Add(1)
	return nil
}

func (d *DB) reclaim() error { return d.Reclaim(context.Background()) }

// flushMemtables writes the memtables to level 0 and compacts level 0,
// so that tombstones still in memory reach the tables they delete from.
// Badger has no call for that; DropPrefix of a key that exists only in
// the memtable does exactly this (and the key sorts after every other key,
// so no table is rewritten for the drop itself). Writers through Update
// wait on the gate meanwhile; Badger would fail them with ErrBlockedWrites.
func (d *DB) flushMemtables() error {
	d.gate.Lock()
	defer d.gate.Unlock()
	if d.closed.Load() {
		return ErrClosed
	}
	marker := append([]byte(nil), reservedPrefix...)
	marker = append(marker, "flush"...)
	if err := d.bdb.Update(func(txn *badger.Txn) error { return txn.Set(marker, nil) }); err != nil {
		return fmt.Errorf("kv: reclaim: flush: %w", err)
	}
	if err := d.bdb.DropPrefix(marker); err != nil {
		return fmt.Errorf("kv: reclaim: flush: %w", err)
	}
	return nil
}

// flatten compacts the LSM tree to one level: tombstones meet the values
// they delete, which then free their space and feed the value-log
// discard statistics the GC picks files by.
func (d *DB) flatten() error {
	if d.quitting() {
		return errQuit
	}
	if err := d.bdb.Flatten(1); err != nil {
		return fmt.Errorf("kv: reclaim: flatten: %w", err)
	}
	return nil
}
