//go:build !linux

package memtrim

import "errors"

func trimExecutable() (int64, error) {
	return 0, errors.New("memtrim: trimming the executable needs Linux")
}
