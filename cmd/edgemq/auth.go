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
	if a.PasswordFile == "" && len(a.Roles) == 0 {
		return nil, nil
	}
	az := &auth.Authorizer{}
	if a.PasswordFile != "" {
		pw, err := auth.Load(a.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("broker.auth.password_file: %w", err)
		}
		az.Passwords = pw
	}
	if len(a.Roles) > 0 {
		roles := make([]auth.Role, 0, len(a.Roles))
		for _, r := range a.Roles {
			ar := auth.Role{Name: r.Name, Allow: rules(r.Allow), Deny: rules(r.Deny)}
			roles = append(roles, ar)
		}
		pol, err := auth.NewPolicy(roles, a.Users, a.AnonymousRoles)
		if err != nil {
			return nil, fmt.Errorf("broker.auth: %w", err)
		}
		az.Policy = pol
	}
	return az, nil
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
