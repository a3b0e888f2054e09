// Package sdnotify tells systemd how the gateway is doing: READY once the
// listeners are bound and storage is open, STATUS lines, WATCHDOG pings
// from the main loop, STOPPING on shutdown. Outside systemd (no
// NOTIFY_SOCKET) every call is a no-op, so the gateway behaves the same
// when run by hand.
package sdnotify

import (
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Ready says the service is up (READY=1).
func Ready() error { return send(daemon.SdNotifyReady) }

// Stopping says the service is shutting down (STOPPING=1).
func Stopping() error { return send(daemon.SdNotifyStopping) }

// Watchdog pings the watchdog (WATCHDOG=1).
func Watchdog() error { return send(daemon.SdNotifyWatchdog) }

// Status sets the one-line status systemctl shows (STATUS=...).
func Status(s string) error { return send("STATUS=" + s) }

// WatchdogInterval is how often to ping: half of WatchdogSec, as systemd
// recommends; 0 when the watchdog is off.
func WatchdogInterval() time.Duration {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return 0
	}
	return d / 2
}

func send(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}
