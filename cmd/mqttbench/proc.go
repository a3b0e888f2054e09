package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procRoot is the procfs mount point; tests point it at testdata/proc.
var procRoot = "/proc"

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
// It is 100 on every Linux architecture the broker targets.
const clockTicks = 100

// CPUTime is a snapshot of the CPU a process has consumed so far.
type CPUTime struct {
	// SchedNS is the on-CPU time in nanoseconds, summed over the first
	// field of /proc/PID/task/*/schedstat. /proc/PID/schedstat alone covers
	// only the main thread, which under-counts multi-threaded brokers (any
	// Go program), so every thread is read. Threads that exited before the
	// snapshot are not counted (rare for Go and Mosquitto).
	SchedNS int64
	// StatNS is utime+stime from /proc/PID/stat converted to nanoseconds.
	// It includes exited threads but has only 10 ms resolution; it is kept
	// as a cross-check and as fallback when schedstat is unavailable.
	StatNS int64
	// Runs is how many times the process's threads were put on a CPU (the
	// third field of /proc/PID/task/*/schedstat, summed): one per wake-up
	// or return from preemption. Each costs a context switch, which in a
	// virtual machine can cost more than handling a packet. Like SchedNS
	// it covers the threads alive at the snapshot. 0 when schedstat is
	// unavailable.
	Runs int64
}

// NS returns the best available CPU time in nanoseconds.
func (c CPUTime) NS() int64 {
	if c.SchedNS > 0 {
		return c.SchedNS
	}
	return c.StatNS
}

// Sub returns the CPU consumed between two snapshots, in the best available unit.
func (c CPUTime) Sub(earlier CPUTime) time.Duration {
	if c.SchedNS > 0 && earlier.SchedNS > 0 {
		return time.Duration(c.SchedNS - earlier.SchedNS)
	}
	return time.Duration(c.StatNS - earlier.StatNS)
}

// ReadCPU returns the CPU time consumed so far by process pid.
func ReadCPU(pid int) (CPUTime, error) {
	var ct CPUTime
	stat, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return ct, err
	}
	ut, st, err := parseStatTicks(string(stat))
	if err != nil {
		return ct, fmt.Errorf("pid %d: %w", pid, err)
	}
	ct.StatNS = (ut + st) * int64(time.Second/clockTicks)
	ct.SchedNS, ct.Runs, err = readTaskSchedstat(pid)
	if err != nil {
		// Kernels without CONFIG_SCHEDSTATS: fall back to ticks.
		ct.SchedNS, ct.Runs = 0, 0
	}
	return ct, nil
}

// readTaskSchedstat sums the on-CPU nanoseconds and the runs of every
// thread of pid.
func readTaskSchedstat(pid int) (ns, runs int64, err error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid), "task")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat"))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // thread exited meanwhile
			}
			return 0, 0, err
		}
		tns, truns, err := parseSchedstat(string(b))
		if err != nil {
			return 0, 0, fmt.Errorf("task %s: %w", e.Name(), err)
		}
		ns += tns
		runs += truns
		n++
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("pid %d: no readable task schedstat", pid)
	}
	return ns, runs, nil
}

// parseSchedstat returns the first and third fields of a schedstat line:
// the time spent on the CPU, in nanoseconds, and the number of times the
// thread was put on a CPU.
func parseSchedstat(s string) (ns, runs int64, err error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return 0, 0, fmt.Errorf("schedstat: %d fields, want 3", len(f))
	}
	if ns, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat: %w", err)
	}
	if runs, err = strconv.ParseInt(f[2], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("schedstat: %w", err)
	}
	return ns, runs, nil
}

// parseStatTicks returns utime and stime (fields 14 and 15, in clock
// ticks) from the contents of /proc/PID/stat. The command name (field 2)
// is in parentheses and may contain spaces or parentheses itself, so
// parsing starts after the last ')'.
func parseStatTicks(s string) (utime, stime int64, err error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("stat: no command name")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stat: only %d fields after command name", len(f))
	}
	if utime, err = strconv.ParseInt(f[11], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stat utime: %w", err)
	}
	if stime, err = strconv.ParseInt(f[12], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stat stime: %w", err)
	}
	return utime, stime, nil
}

// ReadRSS returns the resident set size of process pid in bytes (VmRSS).
func ReadRSS(pid int) (int64, error) {
	return ReadStatusBytes(pid, "VmRSS")
}

// ReadStatusBytes returns a kB field of /proc/PID/status (VmRSS, RssAnon,
// RssFile, ...) in bytes.
func ReadStatusBytes(pid int, key string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	v, err := parseStatusKB(string(b), key)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", pid, err)
	}
	return v, nil
}

// parseStatusKB extracts the field key (reported in kB) from the contents
// of /proc/PID/status and returns it in bytes.
func parseStatusKB(status, key string) (int64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		rest, ok := strings.CutPrefix(line, key+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("malformed %s line %q", key, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line (kernel thread or zombie?)", key)
}

// ReadBusyCPU returns the CPU time all processors have spent busy (not
// idle or waiting for I/O) since boot, from the first line of /proc/stat.
// Subtracting the broker's and the generator's own CPU from its delta
// shows how much other processes competed during a measurement.
func ReadBusyCPU() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseBusyTicks(line)
}

// parseBusyTicks parses the aggregate "cpu" line of /proc/stat: user nice
// system idle iowait irq softirq steal [guest guest_nice]; guest time is
// already included in user and nice.
func parseBusyTicks(line string) (time.Duration, error) {
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * (time.Second / clockTicks), nil
}
