package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	data, err := os.ReadFile(from)
	if errors.Is(err, fs.ErrNotExist) {
		return false, ""
	}
	if err == nil && len(data) > config.MaxFileSize {
		err = fmt.Errorf("larger than %d bytes", config.MaxFileSize)
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
		os.WriteFile(from+".error.txt", []byte(note), 0o600) //nolint:errcheck // best effort: the log has it too
		return false, warning
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
