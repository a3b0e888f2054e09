package memtrim_test

import (
	"log/slog"

	"github.com/edgemq/edgemq/internal/memtrim"
)

// A service trims once, when it has started and is about to idle.
func ExampleAfterStart() {
	st, err := memtrim.AfterStart()
	if err != nil {
		slog.Debug("start-up memory not trimmed", "err", err)
		return
	}
	slog.Debug("start-up memory trimmed", "executable_bytes", st.Advised)
}
