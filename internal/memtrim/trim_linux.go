package memtrim

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4): reclaim the pages of a range,
// writing dirty file pages back first. Unlike MADV_DONTNEED it never
// loses data, whatever the range holds: a mapping may be replaced between
// the read of /proc/self/maps and the madvise, and the range then belongs
// to something else.
const madvPageout = 21

// madvRandom is MADV_RANDOM: no read-ahead on a page fault in the range.
const madvRandom = 1

// PageOut advises MADV_PAGEOUT on every mapping of the process that keep
// accepts and returns the bytes of the ranges advised.
func PageOut(keep func(Mapping) bool) (int64, error) {
	return advise(keep, madvPageout)
}

// advise gives each advice in turn to every mapping that keep accepts.
func advise(keep func(Mapping) bool, advice ...int) (int64, error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("memtrim: %w", err)
	}
	defer f.Close()
	var advised int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !keep(Mapping{Path: fields[5], Perms: fields[1]}) {
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
		for _, a := range advice {
			if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), uintptr(a)); errno != 0 {
				return advised, fmt.Errorf("memtrim: madvise %s: %w", fields[5], errno)
			}
		}
		advised += int64(end - start)
	}
	if err := sc.Err(); err != nil {
		return advised, fmt.Errorf("memtrim: %w", err)
	}
	return advised, nil
}

// trimExecutable pages out the read-only mappings of /proc/self/exe: its
// text and read-only data. Writable mappings (.data, .bss) are left
// alone: their pages are private copies. The ranges are also marked
// random access: a page the process touches later comes back alone,
// not with the 64 KiB to 128 KiB of neighbours that read-ahead and
// fault-around would map with it (code that runs once in a while, such
// as a periodic task, would otherwise bring back about 16 pages for each
// one it needs).
func trimExecutable() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("memtrim: %w", err)
	}
	return advise(func(m Mapping) bool { return m.Path == exe && !strings.Contains(m.Perms, "w") }, madvRandom, madvPageout)
}
