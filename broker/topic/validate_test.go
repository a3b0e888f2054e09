package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want error
	}{
		{"a", nil},
		{"a/b/c", nil},
		{"/", nil},
		{"//", nil},
		{"/a", nil},
		{"a/", nil},
		{"a//b", nil},
		{" ", nil},
		{"$SYS/broker/uptime", nil},
		{"$share/g/a", nil},
		{"sport/tennis player1", nil},
		{"ünïcödé/主题", nil},
		{strings.Repeat("x", 65535), nil},
		{"", ErrInvalidName},
		{strings.Repeat("x", 65536), ErrInvalidName},
		{"+", ErrInvalidName},
		{"#", ErrInvalidName},
		{"a/+/b", ErrInvalidName},
		{"a/#", ErrInvalidName},
		{"a+", ErrInvalidName},
		{"a#b", ErrInvalidName},
		{"a\x00b", ErrInvalidName},
	}
	for _, tt := range tests {
		if got := ValidName(tt.name); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ValidName(%.20q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   error
	}{
		{"a", nil},
		{"a/b/c", nil},
		{"/", nil},
		{"a//b", nil},
		{"+", nil},
		{"#", nil},
		{"+/+", nil},
		{"/+", nil},
		{"+/", nil},
		{"/#", nil},
		{"a/+/c", nil},
		{"a/+/#", nil},
		{"+/#", nil},
		{"sport/tennis/#", nil},
		{"$SYS/#", nil},
		{"$share", nil}, // no '/': an ordinary filter
		{"$sharex/g/a", nil},
		{"$share/g/a", nil},
		{"$share/g/#", nil},
		{"$share/g/+/b", nil},
		{"$share/g//", nil},
		{"$share/g/$share/h/a", nil},
		{strings.Repeat("x", 65535), nil},
		{"", ErrInvalidFilter},
		{strings.Repeat("x", 65536), ErrInvalidFilter},
		{"a+", ErrInvalidFilter},
		{"+a", ErrInvalidFilter},
		{"a/b+/c", ErrInvalidFilter},
		{"++", ErrInvalidFilter},
		{"a#", ErrInvalidFilter},
		{"#/", ErrInvalidFilter},
		{"#/a", ErrInvalidFilter},
		{"a/#/b", ErrInvalidFilter},
		{"##", ErrInvalidFilter},
		{"a/b#", ErrInvalidFilter},
		{"a\x00", ErrInvalidFilter},
		{"$share/", ErrInvalidShare},
		{"$share//a", ErrInvalidShare},
		{"$share/g", ErrInvalidShare},
		{"$share/g/", ErrInvalidShare},
		{"$share/g+/a", ErrInvalidShare},
		{"$share/+/a", ErrInvalidShare},
		{"$share/#/a", ErrInvalidShare},
		{"$share/g#/a", ErrInvalidShare},
		{"$share/\x00/a", ErrInvalidShare},
		{"$share/g/a+", ErrInvalidFilter},
		{"$share/g/#/a", ErrInvalidFilter},
		{"$share/g/a\x00", ErrInvalidFilter},
	}
	for _, tt := range tests {
		if got := ValidFilter(tt.filter); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ValidFilter(%.20q) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestParseShared(t *testing.T) {
	tests := []struct {
		filter, group, f string
		shared           bool
	}{
		{"a/b", "", "a/b", false},
		{"$share", "", "$share", false},
		{"$SHARE/g/a", "", "$SHARE/g/a", false},
		{"$share/g/a/b", "g", "a/b", true},
		{"$share/g/#", "g", "#", true},
		{"$share/g", "g", "", true},
		{"$share//a", "", "a", true},
	}
	for _, tt := range tests {
		group, f, shared := ParseShared(tt.filter)
		if group != tt.group || f != tt.f || shared != tt.shared {
			t.Errorf("ParseShared(%q) = %q, %q, %v, want %q, %q, %v",
				tt.filter, group, f, shared, tt.group, tt.f, tt.shared)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, err := range []error{ValidName(""), ValidFilter("a#"), ValidFilter("$share//a")} {
		if got := err.Error(); !strings.HasPrefix(got, "topic: ") {
			t.Errorf("error %q lacks the topic: prefix", got)
		}
	}
}

func TestValidateNoAlloc(t *testing.T) {
	got := testing.AllocsPerRun(100, func() {
		_ = ValidName("a/b/c")
		_ = ValidName("a/+")
		_ = ValidFilter("$share/g/a/+/#")
		_ = ValidFilter("a#")
	})
	if got != 0 {
		t.Errorf("validation allocs = %v, want 0", got)
	}
}
