// Command edgemq is the edge gateway: an MQTT broker for the local network
// (and, as later subsystems land, device adapters and a store-and-forward
// bridge to a cloud broker) in one static binary.
//
// Usage:
//
//	edgemq run [--config FILE]     run the gateway (embedded defaults without FILE)
//	edgemq run --reset-data        move the storage directory aside and start empty
//	edgemq check-config FILE       validate a configuration file and exit
//	edgemq version                 print the version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
