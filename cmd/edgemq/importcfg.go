package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/edgemq/edgemq/internal/config"
)

// importConfig applies `run --import from`: a configuration file dropped
// somewhere the user can write (the boot partition of an SD card) replaces
// the one at to when it is valid (the same checks as check-config), and is
// then removed, so that no secret stays there. An invalid one leaves to as
// it is and is kept, with the reason in from.error.txt beside it. The
// returned warning (empty if none) goes to the log and the dashboard.
func importConfig(from, to string) (imported bool, warning string) {
	fi, err := os.Lstat(from)
	if errors.Is(err, fs.ErrNotExist) {
		return false, ""
	}
	var data []byte
	switch {
	case err != nil:
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	case fi.Size() > config.MaxFileSize:
		err = fmt.Errorf("larger than %d bytes", config.MaxFileSize)
	default:
		data, err = readLimited(from, config.MaxFileSize)
	}
	var cfg *config.Config
	if err == nil {
		cfg, err = config.Parse(from, data)
	}
	if err == nil {
		err = cfg.CheckFiles()
	}
	if err == nil {
		_, err = newAuthorizer(cfg.Broker.Auth)
	}
	if err != nil {
		warning = fmt.Sprintf("%s was not imported, the gateway runs its previous configuration: %v", from, err)
		note := fmt.Sprintf("%s\n%s was not imported; the gateway runs its previous configuration.\n\n%v\n",
			time.Now().UTC().Format(time.RFC3339), filepath.Base(from), err)
		writeNote(from+".error.txt", note) // best effort: the log has it too
		return false, warning
	}
	// A symlinked --config is replaced where it points, not unlinked.
	if real, err := filepath.EvalSymlinks(to); err == nil {
		to = real
	}
	if err := writeFileAtomic(to, data, 0o600); err != nil {
		return false, fmt.Sprintf("%s was not imported: %v", from, err)
	}
	os.Remove(from + ".error.txt")
	if err := os.Remove(from); err != nil {
		return true, fmt.Sprintf("%s was imported but could not be removed (it may hold secrets): %v", from, err)
	}
	return true, ""
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed over path, and the directory synced, so that
// a power cut leaves the old file or the new one, never a mix.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readLimited reads at most max bytes of path; more is an error.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(data)) > max {
		err = fmt.Errorf("larger than %d bytes", max)
	}
	return data, err
}

// writeNote writes a note beside the refused file without following a
// symlink planted at its name.
func writeNote(path, note string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return
	}
	f.WriteString(note)
	f.Close()
}
