package memtrim

import (
	"runtime/debug"
)

// Mapping is one line of /proc/self/maps, as PageOut's filter sees it.
type Mapping struct {
	Path  string // the file mapped, or "[heap]", "[stack]"...
	Perms string // "r-xp", "rw-s"...
}

// Stats says what AfterStart reclaimed.
type Stats struct {
	// Advised is the size of the executable's mappings advised, in bytes.
	Advised int64
}

// AfterStart returns the heap's free pages to the kernel and asks it to
// reclaim the executable's read-only pages. Call it once the process has
// started and is about to idle. An error means the executable was not
// trimmed (not Linux, an emulator without madvise, no /proc); the heap was
// still released.
func AfterStart() (Stats, error) {
	debug.FreeOSMemory()
	n, err := trimExecutable()
	return Stats{Advised: n}, err
}
