package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edgemq/edgemq/broker/topic"
)

// Action is what a rule grants or denies.
type Action uint8

// Actions; Both is a rule written as {topic: F}.
const (
	Publish Action = 1 << iota
	Subscribe
	Both = Publish | Subscribe
)

// Rule grants (in Role.Allow) or refuses (in Role.Deny) Action on the
// topics matched by Filter. Filter may hold %u (the username) and %c (the
// client id), each as a whole level or part of one.
type Rule struct {
	Action Action
	Filter string
}

// Role is a named set of rules.
type Role struct {
	Name  string
	Allow []Rule
	Deny  []Rule
}

// Policy maps users to roles. It is immutable once built and safe for
// concurrent use.
//
// Decisions:
//   - publish to topic T: some allow rule with Publish matches T and no
//     deny rule with Publish matches T;
//   - read (delivery of a message on T): the same with Subscribe;
//   - subscribe to filter F: some single allow rule's filter covers F
//     (every topic F can match, the allow filter matches too) and no deny
//     rule's filter covers F. A filter that overlaps a deny rule only in
//     part (allow "#", deny "secrets/#", subscribe "#") is accepted: the
//     broker checks every delivered message with CanRead, so "secrets/x"
//     is never delivered to it.
//
// Substitution: a %u or %c whose value is empty or holds '+', '#' or '/'
// would widen (or break) the filter: an allow rule with it grants nothing,
// a deny rule with it denies everything it could (as if the value were
// '#' ... '+'), so an odd client id can never gain access.
type Policy struct {
	roles map[string]*Role
	users map[string][]*Role
	anon  []*Role
}

// NewPolicy checks the roles (names unique, filters valid) and the role
// names given to users and anonymous clients.
func NewPolicy(roles []Role, users map[string][]string, anonymous []string) (*Policy, error) {
	p := &Policy{roles: map[string]*Role{}, users: map[string][]*Role{}}
	var errs []error
	for i := range roles {
		r := &roles[i]
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("role %d: empty name", i))
			continue
		}
		if _, dup := p.roles[r.Name]; dup {
			errs = append(errs, fmt.Errorf("role %q defined twice", r.Name))
		}
		for _, list := range [][]Rule{r.Allow, r.Deny} {
			for _, ru := range list {
				if err := ValidRuleFilter(ru.Filter); err != nil {
					errs = append(errs, fmt.Errorf("role %q: %w", r.Name, err))
				}
				if ru.Action == 0 || ru.Action&^Both != 0 {
					errs = append(errs, fmt.Errorf("role %q: filter %q: no action", r.Name, ru.Filter))
				}
			}
		}
		p.roles[r.Name] = r
	}
	lookup := func(who string, names []string) []*Role {
		var out []*Role
		for _, n := range names {
			r, ok := p.roles[n]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: unknown role %q", who, n))
				continue
			}
			out = append(out, r)
		}
		return out
	}
	for u, names := range users {
		p.users[u] = lookup("user "+u, names)
	}
	p.anon = lookup("anonymous_roles", anonymous)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// ValidRuleFilter checks a rule's filter with %u and %c standing for a
// plain level part.
func ValidRuleFilter(f string) error {
	g := strings.NewReplacer("%u", "u", "%c", "c").Replace(f)
	if err := topic.ValidFilter(g); err != nil {
		return fmt.Errorf("filter %q: %w", f, err)
	}
	if _, _, shared := topic.ParseShared(g); shared {
		return fmt.Errorf("filter %q: a shared subscription is not a rule filter", f)
	}
	return nil
}

// Who identifies the client a decision is for.
type Who struct {
	Username  string
	ClientID  string
	Anonymous bool
}

func (p *Policy) rolesOf(w Who) []*Role {
	if w.Anonymous {
		return p.anon
	}
	return p.users[w.Username]
}

// HasUser reports whether user has an entry in users.
func (p *Policy) HasUser(user string) bool {
	_, ok := p.users[user]
	return ok
}

// substitute replaces %u and %c in f. ok is false if a value is unsafe.
func substitute(f string, w Who) (string, bool) {
	if !strings.Contains(f, "%") {
		return f, true
	}
	safe := func(v string) bool { return v != "" && !strings.ContainsAny(v, "+#/") }
	if strings.Contains(f, "%u") && (w.Anonymous || !safe(w.Username)) {
		return "", false
	}
	if strings.Contains(f, "%c") && !safe(w.ClientID) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(f) + len(w.Username) + len(w.ClientID))
	for {
		i := strings.IndexByte(f, '%')
		if i < 0 || i+1 >= len(f) {
			b.WriteString(f)
			return b.String(), true
		}
		b.WriteString(f[:i])
		switch f[i+1] {
		case 'u':
			b.WriteString(w.Username)
		case 'c':
			b.WriteString(w.ClientID)
		default:
			b.WriteString(f[i : i+2])
		}
		f = f[i+2:]
	}
}

// worstCase is the widest filter an unsafe substitution could give: every
// level holding %u or %c becomes '+'.
func worstCase(f string) string {
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "%u") || strings.Contains(l, "%c") {
			levels[i] = "+"
		}
	}
	return strings.Join(levels, "/")
}

// check applies the rules of w's roles with action to x; test tells
// whether a (substituted) rule filter matches x.
func (p *Policy) check(w Who, action Action, test func(filter string) bool) bool {
	roles := p.rolesOf(w)
	allowed := false
	for _, r := range roles {
		for _, ru := range r.Deny {
			if ru.Action&action == 0 {
				continue
			}
			f, ok := substitute(ru.Filter, w)
			if !ok {
				f = worstCase(ru.Filter)
			}
			if test(f) {
				return false
			}
		}
		if allowed {
			continue
		}
		for _, ru := range r.Allow {
			if ru.Action&action == 0 {
				continue
			}
			if f, ok := substitute(ru.Filter, w); ok && test(f) {
				allowed = true
				break
			}
		}
	}
	return allowed
}

// CanPublish reports whether w may publish to topic name t.
func (p *Policy) CanPublish(w Who, t string) bool {
	return p.check(w, Publish, func(f string) bool { return Match(f, t) })
}

// CanRead reports whether a message on topic name t may be delivered to w.
func (p *Policy) CanRead(w Who, t string) bool {
	return p.check(w, Subscribe, func(f string) bool { return Match(f, t) })
}

// CanSubscribe reports whether w may subscribe to filter (which may be a
// shared subscription "$share/group/filter"; the filter part is checked).
// A deny rule refuses the filter only if it covers all of it; partial
// overlaps are left to CanRead (see Policy).
func (p *Policy) CanSubscribe(w Who, filter string) bool {
	if _, f, shared := topic.ParseShared(filter); shared {
		filter = f
	}
	return p.check(w, Subscribe, func(f string) bool { return Covers(f, filter) })
}

// Match reports whether topic name t matches filter f, with the rule that
// '#' and '+' as the first level do not match names starting with '$'
// [MQTT-4.7.2-1].
func Match(f, t string) bool {
	if strings.HasPrefix(t, "$") && (strings.HasPrefix(f, "+") || strings.HasPrefix(f, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(f, "/")
		if fl == "#" {
			return true // [MQTT-4.7.1-2]: also the parent level
		}
		tl, trest, tmore := strings.Cut(t, "/")
		if fl != "+" && fl != tl {
			return false
		}
		if !fmore || !tmore {
			if fmore && !tmore {
				return frest == "#"
			}
			return fmore == tmore
		}
		f, t = frest, trest
	}
}

// Covers reports whether every topic name that filter b matches is also
// matched by filter a. Both must be valid, non-shared filters.
func Covers(a, b string) bool {
	if (strings.HasPrefix(a, "+") || strings.HasPrefix(a, "#")) && strings.HasPrefix(b, "$") {
		return false // a does not match b's $ names [MQTT-4.7.2-1]
	}
	al := strings.Split(a, "/")
	bl := strings.Split(b, "/")
	for i, x := range al {
		if x == "#" {
			return true
		}
		if i >= len(bl) {
			return false
		}
		y := bl[i]
		switch {
		case y == "#":
			// b's '#' also matches its parent level [MQTT-4.7.1-2], which
			// only a '#' matches too, except at the first level where
			// there is no parent: "+/#" matches every name "#" does.
			return i == 0 && a == "+/#"
		case x == "+":
		case y == "+":
			return false
		case x != y:
			return false
		}
	}
	return len(bl) == len(al)
}
