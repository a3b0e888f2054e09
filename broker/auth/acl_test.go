package auth

import (
	"strings"
	"testing"
)

func testPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := NewPolicy([]Role{
		{Name: "sensors", Allow: []Rule{{Publish, "sensors/%c/#"}, {Subscribe, "cmd/%c/+"}}},
		{Name: "operator",
			Allow: []Rule{{Subscribe, "#"}, {Publish, "edgemq/+/+/+/set"}, {Both, "home/%u/#"}},
			Deny:  []Rule{{Subscribe, "secrets/#"}, {Publish, "home/%u/locked"}}},
		{Name: "narrow", Allow: []Rule{{Subscribe, "sensors/+/temp"}, {Subscribe, "$SYS/broker/#"}}},
	}, map[string][]string{"alice": {"operator"}, "s1": {"sensors"}, "nina": {"narrow"}}, []string{"sensors"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := testPolicy(t)
	alice := Who{Username: "alice", ClientID: "c1"}
	s1 := Who{Username: "s1", ClientID: "dev7"}
	nina := Who{Username: "nina", ClientID: "n"}
	anon := Who{ClientID: "dev9", Anonymous: true}
	evil := Who{Username: "s1", ClientID: "+"}
	evilHash := Who{Username: "s1", ClientID: "#"}
	evilSlash := Who{Username: "s1", ClientID: "a/b"}
	nobody := Who{Username: "mallory", ClientID: "m"}
	tests := []struct {
		who    Who
		action string // pub, sub, read
		x      string
		want   bool
	}{
		{alice, "sub", "#", true}, // partial deny: left to read checks
		{alice, "read", "a/b", true},
		{alice, "read", "secrets/x", false},
		{alice, "read", "secrets", false}, // secrets/# matches the parent
		{alice, "sub", "secrets/#", false},
		{alice, "sub", "secrets/+/x", false},
		{alice, "sub", "$share/g/secrets/a", false},
		{alice, "sub", "$share/g/a/b", true},
		{alice, "sub", "$SYS/#", false}, // '#' does not cover $ topics
		{alice, "read", "$SYS/broker/uptime", false},
		{alice, "pub", "edgemq/gw/dev/x/set", true},
		{alice, "pub", "edgemq/gw/dev/x/get", false},
		{alice, "pub", "home/alice/lamp", true},
		{alice, "pub", "home/alice/locked", false},
		{alice, "pub", "home/bob/lamp", false},
		{alice, "sub", "home/alice/#", true},
		{s1, "pub", "sensors/dev7/temp", true},
		{s1, "pub", "sensors/dev8/temp", false},
		{s1, "pub", "sensors/dev7", true},
		{s1, "sub", "cmd/dev7/+", true},
		{s1, "sub", "cmd/dev7/#", false},
		{s1, "sub", "cmd/+/reboot", false},
		{s1, "read", "cmd/dev7/reboot", true},
		{s1, "read", "cmd/dev8/reboot", false},
		{anon, "pub", "sensors/dev9/t", true},
		{anon, "pub", "sensors/dev7/t", false},
		{evil, "pub", "sensors/x/t", false},     // %c = "+" must not widen
		{evil, "pub", "sensors/+/t", false},     // nor match literally
		{evilHash, "pub", "sensors/#/t", false}, // invalid anyway
		{evilHash, "sub", "cmd/#", false},
		{evilSlash, "pub", "sensors/a/b/t", false},
		{nina, "sub", "sensors/+/temp", true},
		{nina, "sub", "sensors/k/temp", true},
		{nina, "sub", "sensors/#", false},
		{nina, "sub", "sensors/+/+", false},
		{nina, "sub", "$SYS/broker/load/#", true},
		{nina, "pub", "sensors/k/temp", false},
		{nobody, "sub", "#", false},
		{nobody, "pub", "a", false},
	}
	for _, tc := range tests {
		var got bool
		switch tc.action {
		case "pub":
			got = p.CanPublish(tc.who, tc.x)
		case "sub":
			got = p.CanSubscribe(tc.who, tc.x)
		case "read":
			got = p.CanRead(tc.who, tc.x)
		}
		if got != tc.want {
			t.Errorf("%+v %s %q = %v, want %v", tc.who, tc.action, tc.x, got, tc.want)
		}
	}
}

func TestDenyUnsafeSubstitution(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy([]Role{{Name: "r",
		Allow: []Rule{{Both, "#"}},
		Deny:  []Rule{{Both, "private/%c/#"}}}},
		map[string][]string{"u": {"r"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A client id that cannot be substituted safely is denied what any
	// client id could be denied.
	w := Who{Username: "u", ClientID: "a+b"}
	if p.CanPublish(w, "private/x/y") || p.CanRead(w, "private/x/y") {
		t.Error("unsafe client id escaped a deny rule")
	}
	if !p.CanPublish(w, "public/x") {
		t.Error("unsafe client id lost an unrelated allow")
	}
	ok := Who{Username: "u", ClientID: "c"}
	if p.CanPublish(ok, "private/c/y") || !p.CanPublish(ok, "private/d/y") {
		t.Errorf("deny with %%c wrong for a plain client id")
	}
}

func TestNewPolicyErrors(t *testing.T) {
	t.Parallel()
	_, err := NewPolicy([]Role{
		{Name: "a", Allow: []Rule{{Publish, "x/#/y"}}},
		{Name: "a"},
		{Name: "b", Deny: []Rule{{0, "x"}}},
		{Name: "c", Allow: []Rule{{Subscribe, "$share/g/x"}}},
	}, map[string][]string{"u": {"nope"}}, []string{"zip"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`"x/#/y"`, `role "a" defined twice`, "no action", "shared", `user u: unknown role "nope"`, `anonymous_roles: unknown role "zip"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f, t string
		want bool
	}{
		{"#", "a", true}, {"#", "a/b", true}, {"#", "$SYS/x", false},
		{"+", "a", true}, {"+", "a/b", false}, {"+", "", true}, {"+/+", "/", true},
		{"a/#", "a", true}, {"a/#", "a/b/c", true}, {"a/#", "ab", false},
		{"a/+", "a", false}, {"a/+", "a/", true}, {"a/+/c", "a/b/c", true},
		{"$SYS/#", "$SYS/x", true}, {"+/x", "$SYS/x", false},
		{"a/b", "a/b", true}, {"a/b", "a/b/c", false}, {"a/b/c", "a/b", false},
	} {
		if got := Match(tc.f, tc.t); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.f, tc.t, got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"sensors/#", "sensors/+/temp", true},
		{"sensors/+/temp", "sensors/#", false},
		{"sensors/#", "sensors", true},
		{"sensors/+", "sensors", false},
		{"#", "#", true}, {"#", "$SYS/#", false}, {"$SYS/#", "$SYS/a", true},
		{"+", "+", true}, {"+", "a", true}, {"a", "+", false},
		{"a/+", "a/#", false}, {"a/#", "a/#", true}, {"a/b/#", "a/#", false},
	} {
		if got := Covers(tc.a, tc.b); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func BenchmarkCanPublish(b *testing.B) {
	p := testPolicy(b)
	w := Who{Username: "s1", ClientID: "dev7"}
	for b.Loop() {
		if !p.CanPublish(w, "sensors/dev7/temp") {
			b.Fatal("denied")
		}
	}
}

func BenchmarkCanRead(b *testing.B) {
	p := testPolicy(b)
	w := Who{Username: "alice", ClientID: "c1"}
	for b.Loop() {
		if !p.CanRead(w, "sensors/dev7/temp") {
			b.Fatal("denied")
		}
	}
}

func BenchmarkCanSubscribe(b *testing.B) {
	p := testPolicy(b)
	w := Who{Username: "nina", ClientID: "n"}
	for b.Loop() {
		if !p.CanSubscribe(w, "sensors/k/temp") {
			b.Fatal("denied")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	p := NewPasswords()
	if err := p.Set("u", "pw"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		p.Verify("u", "pw")
	}
}
