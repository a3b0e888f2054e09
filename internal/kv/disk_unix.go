//go:build unix

package kv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// diskUsage sums the blocks allocated to the files of dir (not recursive):
// the value log and the write-ahead logs are sparse, so their apparent
// sizes overstate what they use.
func diskUsage(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range entries {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, e.Name()), &st); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted by compaction or GC meanwhile
			}
			return 0, err
		}
		total += int64(st.Blocks) * 512
	}
	return total, nil
}

// checkLock fails with ErrLocked if another process holds Badger's lock
// on dir. Badger reports it with an error that cannot be unwrapped, so it
// is tested here first: flock on a second descriptor conflicts even within
// one process.
func checkLock(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("kv: open %s: %w", dir, err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("kv: open %s: %w (another edgemq running?)", dir, ErrLocked)
		}
		return fmt.Errorf("kv: open %s: lock: %w", dir, err)
	}
	return syscall.Flock(fd, syscall.LOCK_UN)
}
