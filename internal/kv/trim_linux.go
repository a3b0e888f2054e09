package kv

import (
	"path/filepath"
	"strings"

	"github.com/edgemq/edgemq/internal/memtrim"
)

// The pages go with MADV_PAGEOUT, which never loses data, whatever the
// range holds: Badger may unmap a file (GC, compaction) between the read
// of /proc/self/maps and the madvise, and the range may then belong to
// something else.

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
	dir, err := filepath.Abs(d.dir)
	if err != nil {
		return 0, err
	}
	prefix := dir + string(filepath.Separator)
	return memtrim.PageOut(func(m memtrim.Mapping) bool {
		if !strings.HasPrefix(m.Path, prefix) || !strings.Contains(m.Perms, "s") {
			return false
		}
		switch filepath.Ext(m.Path) {
		case ".vlog", ".sst", ".mem":
			return true
		}
		return false
	})
}
