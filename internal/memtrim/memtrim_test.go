package memtrim

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// exeRSS returns the resident bytes of the executable's read-only
// mappings, from /proc/self/smaps.
func exeRSS(t *testing.T) int64 {
	rss, _ := exeSmaps(t)
	return rss
}

// exeSmaps returns the resident bytes of the executable's read-only
// mappings and whether every one of them is marked for random access
// ("rr" in VmFlags).
func exeSmaps(t *testing.T) (rss int64, random bool) {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	mappings, marked := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && len(fields) >= 5 {
			in = len(fields) >= 6 && fields[5] == exe && !strings.Contains(fields[1], "w")
			if in {
				mappings++
			}
			continue
		}
		if in && fields[0] == "VmFlags:" && slices.Contains(fields[1:], "rr") {
			marked++
		}
		if in && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			rss += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rss, mappings > 0 && marked == mappings
}

func TestAfterStartTrimsExecutable(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip("no /proc/self/smaps:", err)
	}
	if os.Getenv("EDGEMQ_EMULATED") != "" {
		t.Skip("user-mode emulators do not implement madvise")
	}
	before := exeRSS(t)
	st, err := AfterStart()
	if err != nil {
		t.Fatal(err)
	}
	after, random := exeSmaps(t)
	if !random {
		t.Error("the executable's read-only mappings are not marked for random access (no rr in VmFlags)")
	}
	t.Logf("executable: %d bytes advised, resident %d -> %d bytes", st.Advised, before, after)
	if st.Advised <= 0 {
		t.Fatalf("advised %d bytes", st.Advised)
	}
	// The test binary's start (the testing package, this test) touched
	// hundreds of KB; what the test touches after the trim is far less.
	if before < 256<<10 || after > before/2 {
		t.Fatalf("resident executable pages %d -> %d bytes: not trimmed", before, after)
	}
}
