package kv

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// rssFileKiB is the file-backed part of this process's RSS.
func rssFileKiB(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

func TestTrimMappings(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("linux only")
	}
	o := DefaultOptions()
	o.TrimInterval = -1 // by hand here
	db, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(t.Context())
	val := make([]byte, 64<<10) // into the value log
	for i := range val {
		val[i] = byte(i * 7)
	}
	for i := range 400 { // 25 MiB
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("k"+strconv.Itoa(i)), val) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	before := rssFileKiB(t)
	n, err := db.TrimMappings()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	t.Logf("advised %d MiB; file-backed RSS %d -> %d KiB", n>>20, before, after)
	switch {
	case n == 0:
		t.Error("no mapping of the database found in /proc/self/maps")
	case os.Getenv("EDGEMQ_EMULATED") != "":
		t.Log("under qemu-user, which does not emulate MADV_PAGEOUT: RSS not checked")
	case after > before-10<<10:
		t.Errorf("file-backed RSS %d -> %d KiB: want at least 10 MiB less", before, after)
	}
	// Everything reads back.
	for i := range 400 {
		err := db.View(func(txn *badger.Txn) error {
			it, err := txn.Get([]byte("k" + strconv.Itoa(i)))
			if err != nil {
				return err
			}
			return it.Value(func(v []byte) error {
				if len(v) != len(val) || v[1] != val[1] || v[len(v)-1] != val[len(val)-1] {
					t.Fatalf("value %d changed", i)
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
