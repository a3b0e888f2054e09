package main

import (
	"fmt"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/internal/config"
)

// newAuthorizer builds the broker's Authorizer from the auth section,
// reading the password file. With neither a password file nor roles it
// returns nil: no checks.
func newAuthorizer(a config.Auth) (broker.Authorizer, error) {
	az, _, err := loadAuth(a)
	return az, err
}

// loadAuth reads the password file once and returns the broker's
// Authorizer and the passwords (nil without a file), which the
// dashboard's logins use too.
func loadAuth(a config.Auth) (broker.Authorizer, *auth.Passwords, error) {
	var pw *auth.Passwords
	if a.PasswordFile != "" {
		var err error
		if pw, err = auth.Load(a.PasswordFile); err != nil {
			return nil, nil, fmt.Errorf("broker.auth.password_file: %w", err)
		}
	}
	if pw == nil && len(a.Roles) == 0 {
		return nil, nil, nil
	}
	az := &auth.Authorizer{Passwords: pw}
	if len(a.Roles) > 0 {
		roles := make([]auth.Role, 0, len(a.Roles))
		for _, r := range a.Roles {
			ar := auth.Role{Name: r.Name, Allow: rules(r.Allow), Deny: rules(r.Deny)}
			roles = append(roles, ar)
		}
		pol, err := auth.NewPolicy(roles, a.Users, a.AnonymousRoles)
		if err != nil {
			return nil, nil, fmt.Errorf("broker.auth: %w", err)
		}
		az.Policy = pol
	}
	return az, pw, nil
}

func rules(rs []config.Rule) []auth.Rule {
	out := make([]auth.Rule, 0, len(rs))
	for _, r := range rs {
		f, pub, sub := r.Filter()
		var act auth.Action
		if pub {
			act |= auth.Publish
		}
		if sub {
			act |= auth.Subscribe
		}
		out = append(out, auth.Rule{Action: act, Filter: f})
	}
	return out
}
