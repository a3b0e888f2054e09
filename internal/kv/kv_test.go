package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// openTest opens a DB in a fresh directory and closes it after the test.
func openTest(t testing.TB, o Options) *DB {
	t.Helper()
	db, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  error
	}{
		{
			name: "foreign files",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "notes.txt"), "hello")
			},
			want: ErrForeign,
		},
		{
			name: "badger database of another program",
			setup: func(t *testing.T, dir string) {
				bdb, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
				if err != nil {
					t.Fatal(err)
				}
				if err := bdb.Close(); err != nil {
					t.Fatal(err)
				}
			},
			want: ErrForeign,
		},
		{
			name: "garbage MANIFEST",
			setup: func(t *testing.T, dir string) {
				createAndClose(t, dir)
				writeFile(t, filepath.Join(dir, "MANIFEST"), "this is not a manifest at all")
			},
			want: ErrCorrupt,
		},
		{
			name: "truncated MANIFEST",
			setup: func(t *testing.T, dir string) {
				createAndClose(t, dir)
				if err := os.Truncate(filepath.Join(dir, "MANIFEST"), 3); err != nil {
					t.Fatal(err)
				}
			},
			want: ErrCorrupt,
		},
		{
			name: "data files without MANIFEST",
			setup: func(t *testing.T, dir string) {
				createAndClose(t, dir)
				if err := os.Remove(filepath.Join(dir, "MANIFEST")); err != nil {
					t.Fatal(err)
				}
			},
			want: ErrCorrupt,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			db, err := Open(dir, DefaultOptions())
			if err == nil {
				_ = db.Close(context.Background())
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q does not name the directory", err)
			}
		})
	}
}

// createAndClose makes a database with some data in dir.
func createAndClose(t *testing.T, dir string) {
	t.Helper()
	db, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte("small"), []byte("v")); err != nil {
			return err
		}
		return txn.Set([]byte("big"), bytes.Repeat([]byte("x"), 4096))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLocked(t *testing.T) {
	db := openTest(t, DefaultOptions())
	_, err := Open(db.Dir(), DefaultOptions())
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	createAndClose(t, dir)
	db, err := Open(dir, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	err = db.View(func(txn *badger.Txn) error {
		for _, k := range []string{"small", "big"} {
			if _, err := txn.Get([]byte(k)); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClaim(t *testing.T) {
	db := openTest(t, DefaultOptions())
	release, err := db.Claim("sf\x00a\x00")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix string
		want   error
	}{
		{"sf\x00a\x00", ErrClaimed},
		{"sf\x00", ErrClaimed},        // covers the claimed prefix
		{"sf\x00a\x00x", ErrClaimed},  // inside it
		{"sf\x00ab\x00", nil},         // a sibling
		{"broker/", nil},              // another owner
		{"\xff\xffmine", errAnyClaim}, // reserved
		{"", errAnyClaim},             // empty
	}
	for _, tt := range tests {
		rel, err := db.Claim(tt.prefix)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("Claim(%q): %v", tt.prefix, err)
		case tt.want == errAnyClaim && err == nil:
			t.Errorf("Claim(%q) succeeded", tt.prefix)
		case tt.want == ErrClaimed && !errors.Is(err, ErrClaimed):
			t.Errorf("Claim(%q): %v, want ErrClaimed", tt.prefix, err)
		}
		if rel != nil {
			rel()
		}
	}
	release()
	release() // idempotent
	if rel, err := db.Claim("sf\x00a\x00"); err != nil {
		t.Errorf("Claim after release: %v", err)
	} else {
		rel()
	}
}

var errAnyClaim = errors.New("any error")

// TestSyncAcrossRotations writes enough to rotate the memtable and the
// value log many times while syncing, and checks that the syncer keeps
// descriptors only for the active files.
func TestSyncAcrossRotations(t *testing.T) {
	o := DefaultOptions()
	o.MemTableSize = 1 << 20
	o.ValueLogFileSize = 1 << 20
	db := openTest(t, o)
	val := bytes.Repeat([]byte("v"), 4096) // value log
	small := []byte("inline")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				err := db.Update(func(txn *badger.Txn) error {
					if err := txn.Set(fmt.Appendf(nil, "big/%d/%d", w, i), val); err != nil {
						return err
					}
					return txn.Set(fmt.Appendf(nil, "small/%d/%d", w, i), small)
				})
				if err != nil {
					t.Error(err)
					return
				}
				sync := db.Sync
				if i%2 == 1 {
					sync = db.SyncWAL
				}
				if err := sync(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := db.Stats()
	t.Logf("%d sync calls in %d rounds", st.SyncCalls, st.SyncRounds)
	if st.SyncRounds == 0 || st.SyncRounds > st.SyncCalls {
		t.Fatalf("stats %+v", st)
	}
	db.syncer.mu.Lock()
	open := len(db.syncer.files)
	db.syncer.mu.Unlock()
	if open > 2 {
		t.Fatalf("syncer keeps %d descriptors, want at most 2 (the active files)", open)
	}
	vlogs, _ := filepath.Glob(filepath.Join(db.Dir(), "*.vlog"))
	if len(vlogs) < 3 {
		t.Fatalf("only %d value-log files: the test did not rotate", len(vlogs))
	}
}

func TestReclaimShrinksDisk(t *testing.T) {
	o := DefaultOptions()
	o.GCInterval = 20 * time.Millisecond
	o.ReclaimInterval = 50 * time.Millisecond
	db := openTest(t, o)
	val := bytes.Repeat([]byte("x"), 64<<10)
	for i := range 1024 { // 64 MiB
		err := db.Update(func(txn *badger.Txn) error { return txn.Set(fmt.Appendf(nil, "k%05d", i), val) })
		if err != nil {
			t.Fatal(err)
		}
	}
	full, _ := db.DiskUsage()
	for i := range 1024 {
		err := db.Update(func(txn *badger.Txn) error { return txn.Delete(fmt.Appendf(nil, "k%05d", i)) })
		if err != nil {
			t.Fatal(err)
		}
	}
	db.RequestReclaim()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := db.DiskUsage()
		if n < 16<<20 {
			t.Logf("disk use %d KiB with 64 MiB stored, %d KiB after delete and reclaim; %+v", full>>10, n>>10, db.Stats())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disk use still %d KiB (was %d KiB); %+v", n>>10, full>>10, db.Stats())
		}
		db.RequestReclaim()
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	o := DefaultOptions()
	o.GCInterval = time.Millisecond
	db, err := Open(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	db.RequestReclaim()
	time.Sleep(20 * time.Millisecond)
	if err := db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := db.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
	if err := db.Update(func(*badger.Txn) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before Open, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUpdateWaitsForReclaim(t *testing.T) {
	db := openTest(t, DefaultOptions())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := db.Update(func(txn *badger.Txn) error { return txn.Set(fmt.Appendf(nil, "w%d/%d", w, i), []byte("v")) })
				if err != nil {
					t.Errorf("Update during reclaim: %v", err)
					return
				}
			}
		})
	}
	for range 5 {
		if err := db.Reclaim(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

// TestOpenAfterCrashLeftEmptyLog reproduces what a SIGKILL between the
// creation of a log file and its sizing leaves behind.
func TestOpenAfterCrashLeftEmptyLog(t *testing.T) {
	for _, name := range []string{"000099.vlog", "00099.mem"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			createAndClose(t, dir)
			writeFile(t, filepath.Join(dir, name), "")
			// Badger alone cannot open this directory.
			o := DefaultOptions()
			o.setDefaults()
			if bdb, err := badger.Open(o.badgerOptions(dir).WithLogger(nil)); err == nil {
				_ = bdb.Close()
				t.Log("Badger opened a directory with an empty log file: the workaround may be obsolete")
			}
			db, err := Open(dir, DefaultOptions())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close(context.Background())
			err = db.View(func(txn *badger.Txn) error {
				_, err := txn.Get([]byte("big"))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
