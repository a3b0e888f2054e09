package kv

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// syncer runs rounds of fsyncs over Badger's log files. A caller needs a
// round that starts after its call; calls that arrive while a round runs
// share the next one (group commit).
type syncer struct {
	dir string

	mu       sync.Mutex
	cond     sync.Cond
	running  bool   // a round is in progress (its state below is owned by it)
	started  uint64 // rounds started
	finished uint64 // rounds finished
	wantVlog bool   // a caller waiting for the next round needs the value log
	err      error  // result of the last finished round
	closed   bool
	calls    uint64 // sync calls

	// Owned by the running round.
	watch    *dirWatch           // nil: list the directory every round
	listed   bool                // a listing was made since the watch was drained
	active   [2]string           // names of the active .mem and .vlog files
	files    map[string]*os.File // descriptors of log files not yet known clean
	clean    map[string]bool     // rotated-out log files fsynced after their rotation
	lastMem  int64               // active .mem file id of the previous round
	lastVlog int64               // active .vlog file id of the previous round
}

func (s *syncer) init(dir string) {
	s.dir = dir
	s.cond.L = &s.mu
	s.files = make(map[string]*os.File)
	s.clean = make(map[string]bool)
	s.lastMem, s.lastVlog = -1, -1
	s.watch = newDirWatch(dir)
}

// sync returns once a round that started after the call has finished.
func (s *syncer) sync(vlog bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	target := s.started + 1
	if vlog {
		s.wantVlog = true
	}
	for s.finished < target {
		if s.closed {
			return ErrClosed
		}
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		s.started++
		round, v := s.started, s.wantVlog
		s.wantVlog = false
		s.mu.Unlock()
		err := s.round(v)
		s.mu.Lock()
		s.running = false
		s.finished, s.err = round, err
		s.cond.Broadcast()
	}
	return s.err
}

// counts returns the number of sync calls and of rounds run.
func (s *syncer) counts() (calls, rounds uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.finished
}

func (s *syncer) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.running {
		s.cond.Wait()
	}
	s.closed = true
	s.watch.close()
	for name, f := range s.files {
		_ = f.Close()
		delete(s.files, name)
	}
	s.cond.Broadcast()
}

// logFile is a .mem (memtable write-ahead log) or .vlog file.
type logFile struct {
	name string
	fid  int64
}

// round fsyncs the active write-ahead log, the active value-log file if
// vlog is set, every log file rotated out since it was last seen active,
// and the directory if a log file was created.
func (s *syncer) round(vlog bool) error {
	// Fast path: no file was created in the directory since the last
	// listing, so the active files are the ones it found. The watch is
	// drained before the directory is listed: a file created after the
	// drain shows up as an event in the next round.
	if !s.watch.changed() && s.listed {
		var errs []error
		if s.active[0] != "" {
			errs = append(errs, s.fsync(s.active[0], false))
		}
		if vlog && s.active[1] != "" {
			errs = append(errs, s.fsync(s.active[1], false))
		}
		return errors.Join(errs...)
	}
	s.listed = false
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var mems, vlogs []logFile
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		name := e.Name()
		var ext string
		switch {
		case strings.HasSuffix(name, ".mem"):
			ext = ".mem"
		case strings.HasSuffix(name, ".vlog"):
			ext = ".vlog"
		default:
			continue
		}
		fid, err := strconv.ParseInt(strings.TrimSuffix(name, ext), 10, 64)
		if err != nil {
			continue
		}
		seen[name] = true
		if ext == ".mem" {
			mems = append(mems, logFile{name, fid})
		} else {
			vlogs = append(vlogs, logFile{name, fid})
		}
	}
	curMem, curVlog := maxFid(mems), maxFid(vlogs)
	s.active = [2]string{nameOf(mems, curMem), nameOf(vlogs, curVlog)}
	var errs []error
	for _, f := range mems {
		active := f.fid == curMem
		if active || !s.clean[f.name] {
			errs = append(errs, s.fsync(f.name, !active))
		}
	}
	for _, f := range vlogs {
		active := f.fid == curVlog
		if (active && vlog) || (!active && !s.clean[f.name]) {
			errs = append(errs, s.fsync(f.name, !active))
		}
	}
	if curMem != s.lastMem || curVlog != s.lastVlog {
		if err := syncDir(s.dir); err != nil {
			errs = append(errs, err)
		} else {
			s.lastMem, s.lastVlog = curMem, curVlog
		}
	}
	for name := range s.clean {
		if !seen[name] {
			delete(s.clean, name)
		}
	}
	for name, f := range s.files {
		if !seen[name] {
			_ = f.Close()
			delete(s.files, name)
		}
	}
	err = errors.Join(errs...)
	s.listed = err == nil && s.watch != nil
	return err
}

func nameOf(fs []logFile, fid int64) string {
	for _, f := range fs {
		if f.fid == fid {
			return f.name
		}
	}
	return ""
}

func maxFid(fs []logFile) int64 {
	m := int64(-1)
	for _, f := range fs {
		m = max(m, f.fid)
	}
	return m
}

// fsync syncs one log file. A rotated-out file is immutable, so once
// synced it is remembered as clean and its descriptor closed; the active
// files keep theirs open.
func (s *syncer) fsync(name string, rotated bool) error {
	f := s.files[name]
	if f == nil {
		var err error
		f, err = os.Open(filepath.Join(s.dir, name))
		if errors.Is(err, os.ErrNotExist) {
			// Flushed to an SSTable (synced by Badger) or collected by
			// the value-log GC (which rewrote live values through the
			// active file) in the meantime.
			return nil
		}
		if err != nil {
			return err
		}
		s.files[name] = f
	}
	if err := fdatasync(f); err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
	}
	if rotated {
		s.clean[name] = true
		_ = f.Close()
		delete(s.files, name)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
