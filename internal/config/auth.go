package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgemq/edgemq/broker/topic"
)

// validate checks names, filters and references to roles. The password
// file is read (and checked) by whoever builds the authorizer: `edgemq
// check-config` and `edgemq run` report a missing or bad one.
func (a *Auth) validate(v *validator, path string) {
	var names []string
	for i, r := range a.Roles {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		switch {
		case r.Name == "":
			v.errorf(p+".name", "missing")
		case slices.Contains(names, r.Name):
			v.errorf(p+".name", "role %q is defined twice", r.Name)
		}
		names = append(names, r.Name)
		for j, ru := range r.Allow {
			validateRule(v, fmt.Sprintf("%s.allow[%d]", p, j), ru)
		}
		for j, ru := range r.Deny {
			validateRule(v, fmt.Sprintf("%s.deny[%d]", p, j), ru)
		}
	}
	known := func(p, role string) {
		if !slices.Contains(names, role) {
			v.errorf(p, "unknown role %q%s", role, didYouMean(role, names))
		}
	}
	users := make([]string, 0, len(a.Users))
	for u := range a.Users {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		p := path + ".users." + u
		if u == "" || strings.ContainsAny(u, ":\n") {
			v.errorf(p, "invalid username %q", u)
		}
		for i, r := range a.Users[u] {
			known(fmt.Sprintf("%s[%d]", p, i), r)
		}
	}
	for i, r := range a.AnonymousRoles {
		known(fmt.Sprintf("%s.anonymous_roles[%d]", path, i), r)
	}
}

func validateRule(v *validator, path string, r Rule) {
	n := 0
	for _, f := range []string{r.Publish, r.Subscribe, r.Topic} {
		if f != "" {
			n++
		}
	}
	if n != 1 {
		v.errorf(path, "want exactly one of publish, subscribe or topic")
		return
	}
	f, _, _ := r.Filter()
	key := "publish"
	if r.Subscribe != "" {
		key = "subscribe"
	} else if r.Topic != "" {
		key = "topic"
	}
	g := strings.NewReplacer("%u", "u", "%c", "c").Replace(f)
	if err := topic.ValidFilter(g); err != nil {
		v.errorf(path+"."+key, "invalid filter %q: %v", f, err)
	} else if _, _, shared := topic.ParseShared(g); shared {
		v.errorf(path+"."+key, "a shared subscription filter %q is not a rule", f)
	}
}
