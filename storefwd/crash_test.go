package storefwd

import (
	"bufio"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgemq/edgemq/internal/kv"
)

// The crash test runs this test binary again as a child (TestCrashChild
// with crashDirEnv set), which appends and acknowledges records as fast as
// it can and reports on a pipe (file descriptor 3) each Append that
// returned and each Ack it is about to make. The parent kills it with
// SIGKILL at a random moment, opens the queue itself and checks it against
// the reports.

const (
	crashDirEnv   = "STOREFWD_CRASH_DIR"
	crashRoundEnv = "STOREFWD_CRASH_ROUND"
	// execWrapperEnv runs the child under an emulator, e.g.
	// qemu-arm-static for a GOARCH=arm test binary (scripts/test-arm.sh).
	execWrapperEnv = "STOREFWD_EXEC_WRAPPER"
)

var crashRounds = flag.Int("storefwd.crashrounds", 50, "kill-and-restart rounds of TestCrashKill")

// crashID identifies a record: the round, the appender and its counter.
func crashID(round, appender, counter int) uint64 {
	return uint64(round)<<40 | uint64(appender)<<32 | uint64(counter)
}

// crashRecord makes the record of id: Meta is the id, Data is derived from
// it, mostly short (inline in the LSM) and sometimes a few KiB (value log).
func crashRecord(id uint64) Record {
	h := fnv.New64a()
	_ = binary.Write(h, binary.BigEndian, id)
	x := h.Sum64()
	n := int(x % 300)
	if x%7 == 0 {
		n = 2048 + int(x%6000)
	}
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(x >> (8 * (i % 8)))
		x = x*6364136223846793005 + 1442695040888963407
	}
	return Record{Meta: binary.BigEndian.AppendUint64(nil, id), Data: data}
}

func crashOptions() (kv.Options, Options) {
	ko := kv.DefaultOptions()
	ko.GCInterval = 100 * time.Millisecond
	ko.ReclaimInterval = 150 * time.Millisecond
	ko.MemTableSize = 1 << 20 // rotate often
	ko.ValueLogFileSize = 1 << 20
	qo := Options{Limits: Limits{MaxBytes: 1 << 30}, Window: 256, ReclaimBytes: 64 << 10, BlockBytes: 4096}
	return ko, qo
}

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process of TestCrashKill")
	}
	round, _ := strconv.Atoi(os.Getenv(crashRoundEnv))
	report := os.NewFile(3, "report")
	say := func(format string, args ...any) {
		// One write per line: atomic on a pipe.
		if _, err := fmt.Fprintf(report, format, args...); err != nil {
			os.Exit(3)
		}
	}
	ko, qo := crashOptions()
	db, err := kv.Open(dir, ko)
	if err != nil {
		say("E %v\n", err)
		os.Exit(2)
	}
	q, err := Open(db, "crash", qo)
	if err != nil {
		say("E %v\n", err)
		os.Exit(2)
	}
	say("R\n")
	ctx := context.Background()
	for a := range 4 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(round), uint64(a)))
			for c := 0; ; {
				for depth(q) > 4000 { // keep the backlog checkable
					time.Sleep(time.Millisecond)
				}
				n := 1 + rng.IntN(8)
				recs := make([]Record, n)
				for i := range recs {
					recs[i] = crashRecord(crashID(round, a, c+i))
				}
				if err := q.Append(ctx, recs); err != nil {
					say("E append: %v\n", err)
					os.Exit(2)
				}
				say("A %d %d %d\n", recs[0].Seq, n, crashID(round, a, c))
				c += n
			}
		}()
	}
	rng := rand.New(rand.NewPCG(uint64(round), 99))
	for {
		r, err := q.Next(ctx)
		batch := []Record{r}
		for err == nil && len(batch) < 16 {
			var ok bool
			if r, ok, err = q.TryNext(); !ok {
				break
			}
			batch = append(batch, r)
		}
		if err != nil {
			say("E next: %v\n", err)
			os.Exit(2)
		}
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		for _, r := range batch {
			say("K %d\n", r.Seq)
			if err := q.Ack(r.Seq); err != nil {
				say("E ack: %v\n", err)
				os.Exit(2)
			}
		}
	}
}

// crashLog is what the children reported, over all rounds.
type crashLog struct {
	appended map[uint64]uint64 // seq -> id, for every reported record
	acked    map[uint64]bool   // seqs whose Ack was about to be made
}

func TestCrashKill(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("in the child")
	}
	rounds := *crashRounds
	if testing.Short() {
		rounds = min(rounds, 10)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	log := crashLog{appended: make(map[uint64]uint64), acked: make(map[uint64]bool)}
	var totalReported, totalAcks int
	for round := range rounds {
		lines := runCrashChild(t, dir, round, time.Duration(10+rng.IntN(150))*time.Millisecond)
		reported := 0
		for _, line := range lines {
			f := strings.Fields(line)
			switch f[0] {
			case "R":
			case "A":
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				n, _ := strconv.Atoi(f[2])
				id, _ := strconv.ParseUint(f[3], 10, 64)
				for i := range n {
					if old, dup := log.appended[seq+uint64(i)]; dup {
						t.Fatalf("round %d: seq %d reported for id %x and %x", round, seq+uint64(i), old, id+uint64(i))
					}
					log.appended[seq+uint64(i)] = id + uint64(i)
				}
				reported += n
			case "K":
				seq, _ := strconv.ParseUint(f[1], 10, 64)
				log.acked[seq] = true
				totalAcks++
			default:
				t.Fatalf("round %d: child said %q", round, line)
			}
		}
		totalReported += reported
		checkCrashQueue(t, dir, round, &log)
	}
	t.Logf("%d rounds: %d records reported durable, %d acks; every unacknowledged reported record was present, once, in order", rounds, totalReported, totalAcks)
}

// runCrashChild runs one child, kills it after d and returns its report.
func runCrashChild(t *testing.T, dir string, round int, d time.Duration) []string {
	t.Helper()
	args := []string{"-test.run=^TestCrashChild$", "-test.count=1"}
	var cmd *exec.Cmd
	if w := os.Getenv(execWrapperEnv); w != "" {
		cmd = exec.Command(w, append([]string{os.Args[0]}, args...)...)
	} else {
		cmd = exec.Command(os.Args[0], args...)
	}
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashRoundEnv+"="+strconv.Itoa(round))
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{pw}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var (
		lines []string
		ready = make(chan struct{})
		eof   = make(chan struct{})
		once  sync.Once
	)
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if sc.Text() == "R" || strings.HasPrefix(sc.Text(), "E ") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("round %d: child not ready", round)
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	<-eof
	pr.Close()
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() {
		t.Fatalf("round %d: child exited by itself (%v); report: %q", round, cmd.ProcessState, lines[max(0, len(lines)-3):])
	}
	return lines
}

// checkCrashQueue opens the queue left by a killed child and checks it
// against the reports: every record reported appended and not acked is
// there, at its reported seq, once, with intact content.
func checkCrashQueue(t *testing.T, dir string, round int, log *crashLog) {
	t.Helper()
	ko, qo := crashOptions()
	ko.GCInterval, ko.ReclaimInterval = time.Hour, time.Hour
	qo.Window = maxWindow
	db, err := kv.Open(dir, ko)
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer db.Close(context.Background())
	q, err := Open(db, "crash", qo)
	if err != nil {
		t.Fatalf("round %d: reopen queue after SIGKILL: %v", round, err)
	}
	defer q.Close(context.Background())
	present := make(map[uint64]bool)
	seenID := make(map[uint64]uint64)
	lastOf := make(map[uint64]uint64) // (round, appender) -> last counter read
	var first, n uint64
	for {
		r, ok, err := q.TryNext()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !ok {
			break
		}
		if n == 0 {
			first = r.Seq
		}
		n++
		if len(r.Meta) != 8 {
			t.Fatalf("round %d: seq %d: bad meta %x", round, r.Seq, r.Meta)
		}
		id := binary.BigEndian.Uint64(r.Meta)
		want := crashRecord(id)
		if string(want.Data) != string(r.Data) {
			t.Fatalf("round %d: seq %d id %x: content differs", round, r.Seq, id)
		}
		if prev, dup := seenID[id]; dup {
			t.Fatalf("round %d: id %x at seq %d and %d", round, id, prev, r.Seq)
		}
		seenID[id] = r.Seq
		// In order: each appender's records in the order it appended them.
		who, counter := id>>32, id&(1<<32-1)
		if last, ok := lastOf[who]; ok && counter <= last {
			t.Fatalf("round %d: seq %d: appender %x counter %d after %d", round, r.Seq, who, counter, last)
		}
		lastOf[who] = counter
		if rid, ok := log.appended[r.Seq]; ok && rid != id {
			t.Fatalf("round %d: seq %d holds id %x, reported as %x", round, r.Seq, id, rid)
		}
		present[r.Seq] = true
	}
	if uint64(len(present)) >= maxWindow {
		t.Fatalf("round %d: backlog reached the window; the check would be incomplete", round)
	}
	for seq, id := range log.appended {
		if !present[seq] && !log.acked[seq] {
			t.Fatalf("round %d: record seq %d id %x was reported durable and never acknowledged, but is missing (queue holds %d from %d)", round, seq, id, n, first)
		}
	}
	if st := q.Stats(); st.Dropped.Total() != 0 {
		t.Fatalf("round %d: drops %+v", round, st.Dropped)
	}
}

func depth(q *Queue) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.records
}
