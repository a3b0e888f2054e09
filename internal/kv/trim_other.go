//go:build !linux

package kv

// TrimMappings does nothing outside Linux.
func (d *DB) TrimMappings() (int64, error) { return 0, nil }
