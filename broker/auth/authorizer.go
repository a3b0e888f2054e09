package auth

import (
	"github.com/edgemq/edgemq/broker"
)

// Authorizer implements broker.Authorizer with a password file and a
// role policy. Build a new one to reload and hand it to
// broker.Server.SetAuthorizer; an Authorizer is not changed after use.
type Authorizer struct {
	// Passwords checks usernames and passwords; nil refuses every client
	// that sends a username.
	Passwords *Passwords
	// Policy decides publishes, subscriptions and deliveries; nil allows
	// everything to every client that connected.
	Policy *Policy
}

var _ broker.Authorizer = (*Authorizer)(nil)

func who(ci broker.ClientInfo) Who {
	return Who{Username: ci.Username, ClientID: ci.ClientID, Anonymous: ci.Anonymous}
}

// Authenticate implements broker.Authorizer. Anonymous clients are
// accepted (the broker only asks on listeners that allow them); a client
// with a username needs the right password.
func (a *Authorizer) Authenticate(ci broker.ClientInfo, password []byte, hasPassword bool) error {
	if ci.Anonymous {
		return nil
	}
	if a.Passwords == nil {
		return broker.ErrBadCredentials
	}
	ok := a.Passwords.Verify(ci.Username, string(password))
	if !ok || !hasPassword {
		return broker.ErrBadCredentials
	}
	return nil
}

// CanPublish implements broker.Authorizer.
func (a *Authorizer) CanPublish(ci broker.ClientInfo, t string) bool {
	return a.Policy == nil || a.Policy.CanPublish(who(ci), t)
}

// CanSubscribe implements broker.Authorizer.
func (a *Authorizer) CanSubscribe(ci broker.ClientInfo, filter string) bool {
	return a.Policy == nil || a.Policy.CanSubscribe(who(ci), filter)
}

// CanRead implements broker.Authorizer.
func (a *Authorizer) CanRead(ci broker.ClientInfo, t string) bool {
	return a.Policy == nil || a.Policy.CanRead(who(ci), t)
}
