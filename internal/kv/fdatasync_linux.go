package kv

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (and the metadata needed to read it back).
// Badger writes its logs through shared mmaps; on Linux those pages are in
// the file's page cache, so fdatasync on any descriptor of the file syncs
// them, exactly like msync(MS_SYNC) on the mapping does.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
