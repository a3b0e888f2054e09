//go:build !linux

package kv

// dirWatch is not implemented here: every sync round lists the directory.
type dirWatch struct{}

func newDirWatch(string) *dirWatch { return nil }
func (w *dirWatch) changed() bool  { return true }
func (w *dirWatch) close()         {}
