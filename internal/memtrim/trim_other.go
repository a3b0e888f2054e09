//go:build !linux

package memtrim

import "errors"

var errNotLinux = errors.New("memtrim: paging out mappings needs Linux")

// PageOut needs Linux; elsewhere it fails.
func PageOut(keep func(Mapping) bool) (int64, error) { return 0, errNotLinux }

func trimExecutable() (int64, error) { return 0, errNotLinux }
