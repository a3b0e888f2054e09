package kv

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4): reclaim the pages of a range,
// writing dirty file pages back first. Unlike MADV_DONTNEED it never
// loses data, whatever the range holds: Badger may unmap a file (GC,
// compaction) between the read of /proc/self/maps and the madvise, and
// the range may then belong to something else.
const madvPageout = 21

// TrimMappings asks the kernel to reclaim the pages of the database's
// memory-mapped files (value log, tables, memtable logs), which Badger
// maps shared: dirty pages are written back, the others dropped, and all
// come back from the file on the next access. A queued backlog then does
// not stay in the process's RSS, which is what users of a 512 MB board
// watch. It returns the bytes of the ranges advised. The GC goroutine
// calls it every TrimInterval.
func (d *DB) TrimMappings() (int64, error) {
	if d.closed.Load() {
		return 0, ErrClosed
	}
	// Not while a reclaim or Close (which unmap files) holds the gate.
	d.gate.RLock()
	defer d.gate.RUnlock()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dir, err := filepath.Abs(d.dir)
	if err != nil {
		return 0, err
	}
	prefix := dir + string(filepath.Separator)
	var trimmed int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], prefix) || !strings.Contains(fields[1], "s") {
			continue
		}
		switch filepath.Ext(fields[5]) {
		case ".vlog", ".sst", ".mem":
		default:
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvPageout); errno != 0 {
			return trimmed, fmt.Errorf("kv: madvise %s: %w", fields[5], errno)
		}
		trimmed += int64(end - start)
	}
	return trimmed, sc.Err()
}
