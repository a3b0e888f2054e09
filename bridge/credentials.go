package bridge

import (
	"errors"
	"fmt"
	"time"
)

// errRenew ends a session whose credentials are about to expire.
var errRenew = errors.New("bridge: credentials renewal")

// RenewAt is when a bridge connected at now with credentials that expire
// at expires reconnects with fresh ones: after 80% of the time left. It
// is zero (no renewal planned) when expires is zero or not after now.
func RenewAt(now, expires time.Time) time.Time {
	if expires.IsZero() || !expires.After(now) {
		return time.Time{}
	}
	return now.Add(expires.Sub(now) * 4 / 5)
}

// credentials returns the user name and password for the next CONNECT,
// and when to renew them (zero: never).
func (b *Bridge) credentials() (user, pass string, renewAt time.Time, err error) {
	cfg := &b.cfg
	if cfg.Credentials == nil {
		return cfg.Username, cfg.Password, time.Time{}, nil
	}
	now := time.Now()
	user, pass, expires, err := cfg.Credentials(now)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("bridge %q: credentials: %w", cfg.Name, err)
	}
	return user, pass, RenewAt(now, expires), nil
}
