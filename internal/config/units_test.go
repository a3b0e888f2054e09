package config

import (
	"math"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
	}{
		{"0", 0},
		{"0B", 0},
		{"1", 1},
		{"16B", 16},
		{"65536", 65536},
		{"64KiB", 64 << 10},
		{"256KiB", 256 << 10},
		{"1MiB", 1 << 20},
		{"96MiB", 96 << 20},
		{"2GiB", 2 << 30},
		{"1TiB", 1 << 40},
		{"1KB", 1000},
		{"1kB", 1000},
		{"256MB", 256_000_000},
		{"2GB", 2_000_000_000},
		{"3TB", 3_000_000_000_000},
		{"1.5MiB", 3 << 19},
		{"0.5KiB", 512},
		{".5KiB", 512},
		{"2.KiB", 2048},
		{"+4KiB", 4096},
		{" 64 KiB ", 64 << 10},
		{"8388607TiB", 8388607 << 40},
		{"9223372036854775807", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSizeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `want a size such as "256KiB", got ""`},
		{"lots", `want a size such as "256KiB", got "lots"`},
		{"KiB", `want a size such as "256KiB", got "KiB"`},
		{"-", `want a size such as "256KiB", got "-"`},
		{".", `want a size such as "256KiB", got "."`},
		{"12XB", `unknown size unit "XB" in "12XB" (want B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)`},
		{"64K", `unknown size unit "K" in "64K" (want B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)`},
		{"64kib", `unknown size unit "kib" in "64kib" (did you mean "KiB"?)`},
		{"64MIB", `unknown size unit "MIB" in "64MIB" (did you mean "MiB"?)`},
		{"1_000", `unknown size unit "_000" in "1_000" (want B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)`},
		{"0x10", `unknown size unit "x10" in "0x10" (want B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)`},
		{"1.2.3KiB", `unknown size unit ".3KiB" in "1.2.3KiB" (want B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)`},
		{"-1KiB", `size must not be negative, got "-1KiB"`},
		{"-0", `size must not be negative, got "-0"`},
		{"1.5B", `size "1.5B" is not a whole number of bytes`},
		{"0.1KiB", `size "0.1KiB" is not a whole number of bytes`},
		{"8388608TiB", `size "8388608TiB" is too large`},
		{"9223372036854775808", `size "9223372036854775808" is too large`},
		{"99999999999999999999999999999999999999999999", `size "9999999999999999999999999999999999999999"... is too large`},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseSize(%q) error:\ngot  %s\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		in   Size
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{16, "16B"},
		{1000, "1000B"},
		{1023, "1023B"},
		{1024, "1KiB"},
		{1536, "1536B"},
		{256 * KiB, "256KiB"},
		{1024 * KiB, "1MiB"},
		{MiB + KiB, "1025KiB"},
		{96 * MiB, "96MiB"},
		{GiB, "1GiB"},
		{2 * GiB, "2GiB"},
		{TiB, "1TiB"},
		{4096 * TiB, "4096TiB"},
		{MB, "1000000B"},
		{GB, "1000000000B"},
		{-2 * KiB, "-2KiB"},
		{math.MaxInt64, "9223372036854775807B"},
		{math.MinInt64, "-9223372036854775808B"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if tt.in < 0 {
			continue
		}
		back, err := ParseSize(tt.in.String())
		if err != nil || back != tt.in {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (round trip)", tt.in.String(), back, err, int64(tt.in))
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"+0", 0},
		{"0s", 0},
		{"500ms", 500 * time.Millisecond},
		{"30s", 30 * time.Second},
		{"2m", 2 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1.5s", 1500 * time.Millisecond},
		{"250us", 250 * time.Microsecond},
		{"250µs", 250 * time.Microsecond},
		{"10ns", 10},
		{"65535s", 65535 * time.Second},
		{" 10s ", 10 * time.Second},
		{"+5s", 5 * time.Second},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || got != Duration(tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `want a duration such as "30s", got ""`},
		{"soon", `want a duration such as "30s", got "soon"`},
		{"10", `duration "10" has no unit; write e.g. "10s" (units: ns, us, ms, s, m, h)`},
		{"1.5", `duration "1.5" has no unit; write e.g. "1.5s" (units: ns, us, ms, s, m, h)`},
		{"00", `duration "00" has no unit; write e.g. "00s" (units: ns, us, ms, s, m, h)`},
		{"-10", `duration must not be negative, got "-10"`},
		{"-5s", `duration must not be negative, got "-5s"`},
		{"1d", `unknown duration unit "d" in "1d" (want ns, us, ms, s, m or h)`},
		{"1h30min", `unknown duration unit "min" in "1h30min" (want ns, us, ms, s, m or h)`},
		{"10 s", `unknown duration unit " s" in "10 s" (want ns, us, ms, s, m or h)`},
		{"s", `want a duration such as "30s", got "s"`},
		{"1s2", `want a duration such as "30s", got "1s2"`},
		{"99999999999h", `duration "99999999999h" is too large`},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, nil; want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseDuration(%q) error:\ngot  %s\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   Duration
		want string
	}{
		{0, "0s"},
		{Duration(500 * time.Millisecond), "500ms"},
		{Duration(10 * time.Second), "10s"},
		{Duration(90 * time.Second), "1m30s"},
		{Duration(2 * time.Hour), "2h0m0s"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Duration(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		back, err := ParseDuration(tt.in.String())
		if err != nil || back != tt.in {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (round trip)", tt.in.String(), back, err, tt.in)
		}
		if got := tt.in.Duration(); got != time.Duration(tt.in) {
			t.Errorf("Duration(%d).Duration() = %v", int64(tt.in), got)
		}
	}
}

func TestTextMarshaling(t *testing.T) {
	var s Size
	if err := s.UnmarshalText([]byte("2GiB")); err != nil || s != 2*GiB {
		t.Errorf("Size.UnmarshalText(2GiB) = %v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("big")); err == nil || s != 2*GiB {
		t.Errorf("Size.UnmarshalText(big) = %v, %v; want the value unchanged and an error", s, err)
	}
	if b, _ := s.MarshalText(); string(b) != "2GiB" {
		t.Errorf("Size.MarshalText() = %q, want 2GiB", b)
	}
	var d Duration
	if err := d.UnmarshalText([]byte("2m")); err != nil || d != Duration(2*time.Minute) {
		t.Errorf("Duration.UnmarshalText(2m) = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("2")); err == nil || d != Duration(2*time.Minute) {
		t.Errorf("Duration.UnmarshalText(2) = %v, %v; want the value unchanged and an error", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "2m0s" {
		t.Errorf("Duration.MarshalText() = %q, want 2m0s", b)
	}
}
