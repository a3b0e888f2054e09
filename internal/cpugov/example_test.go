package cpugov_test

import (
	"context"
	"os/signal"
	"syscall"

	"github.com/edgemq/edgemq/internal/cpugov"
)

// A gateway runs the governor for its whole life: one P while one is
// enough, every core under load.
func ExampleStart() {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer cancel()
	// ... open storage, start listening, then:
	stop := cpugov.Start(ctx, cpugov.Options{})
	defer stop()
	// ... serve until ctx is done.
}
