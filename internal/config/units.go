package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Size is a number of bytes. In the file it is written with a unit:
// B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of
// 1000); a plain integer is a number of bytes. A decimal fraction is
// accepted when the result is a whole number of bytes ("1.5MiB").
type Size int64

// Units for Size values.
const (
	Byte Size = 1
	KiB  Size = 1 << 10
	MiB  Size = 1 << 20
	GiB  Size = 1 << 30
	TiB  Size = 1 << 40

	KB Size = 1000
	MB Size = 1000 * KB
	GB Size = 1000 * MB
	TB Size = 1000 * GB
)

var sizeUnits = map[string]Size{
	"": Byte, "B": Byte,
	"KiB": KiB, "MiB": MiB, "GiB": GiB, "TiB": TiB,
	"KB": KB, "kB": KB, "MB": MB, "GB": GB, "TB": TB,
}

const sizeUnitList = "B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"

// ParseSize parses a size such as "256KiB", "2GiB", "500MB" or "65536".
func ParseSize(s string) (Size, error) {
	in := strings.TrimSpace(s)
	num, unit := splitNumber(in)
	if num == "" || num == "+" || num == "-" || num == "." {
		return 0, fmt.Errorf("want a size such as %q, got %s", "256KiB", quote(s))
	}
	mult, ok := sizeUnits[strings.TrimSpace(unit)]
	if !ok {
		unit = strings.TrimSpace(unit)
		for known := range sizeUnits {
			if known != "" && strings.EqualFold(known, unit) && strings.Contains(known, "i") {
				return 0, fmt.Errorf("unknown size unit %s in %s (did you mean %q?)", quote(unit), quote(s), known)
			}
		}
		return 0, fmt.Errorf("unknown size unit %s in %s (want %s)", quote(unit), quote(s), sizeUnitList)
	}
	if strings.HasPrefix(num, "-") {
		return 0, fmt.Errorf("size must not be negative, got %s", quote(s))
	}
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(num, "+"))
	if !ok {
		return 0, fmt.Errorf("want a size such as %q, got %s", "256KiB", quote(s))
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(mult)))
	if !r.IsInt() {
		return 0, fmt.Errorf("size %s is not a whole number of bytes", quote(s))
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, fmt.Errorf("size %s is too large", quote(s))
	}
	return Size(n.Int64()), nil
}

// splitNumber splits s into a leading decimal number (optional sign,
// digits, optional fraction) and the rest.
func splitNumber(s string) (num, rest string) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return s[:i], s[i:]
}

// String formats s in the largest binary unit that represents it
// exactly: 262144 is "256KiB", 1000 is "1000B", 0 is "0B".
func (s Size) String() string {
	if s < 0 {
		if s == math.MinInt64 {
			return "-9223372036854775808B"
		}
		return "-" + (-s).String()
	}
	if s == 0 {
		return "0B"
	}
	for _, u := range []struct {
		size Size
		name string
	}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
		if s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// MarshalText implements encoding.TextMarshaler, using String.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, using ParseSize.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func (Size) kind() string { return `a size such as "256KiB"` }

// Duration is a time.Duration written as a Go duration: "500ms", "30s",
// "2m", "1h30m". A number without a unit is an error (except 0), and so
// is a negative duration.
type Duration time.Duration

// ParseDuration parses a duration such as "500ms" or "1m30s".
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("want a duration such as %q, got %s", "30s", quote(s))
	}
	if num, rest := splitNumber(in); rest == "" && num != "" {
		if strings.Trim(num, "+-") == "0" {
			return 0, nil
		}
		if strings.HasPrefix(num, "-") {
			return 0, fmt.Errorf("duration must not be negative, got %s", quote(s))
		}
		return 0, fmt.Errorf("duration %s has no unit; write e.g. %q (units: ns, us, ms, s, m, h)", quote(s), strings.TrimPrefix(num, "+")+"s")
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		if u, ok := unknownDurationUnit(in); ok {
			return 0, fmt.Errorf("unknown duration unit %s in %s (want ns, us, ms, s, m or h)", quote(u), quote(s))
		}
		if errors.Is(err, strconv.ErrRange) || strings.Contains(err.Error(), "invalid duration") && looksLikeDuration(in) {
			return 0, fmt.Errorf("duration %s is too large", quote(s))
		}
		return 0, fmt.Errorf("want a duration such as %q, got %s", "30s", quote(s))
	}
	if d < 0 {
		return 0, fmt.Errorf("duration must not be negative, got %s", quote(s))
	}
	return Duration(d), nil
}

var durationUnits = map[string]bool{"ns": true, "us": true, "µs": true, "μs": true, "ms": true, "s": true, "m": true, "h": true}

// scanDuration splits a string of the shape [sign](number unit)+ into
// its units. ok is false when s does not have that shape.
func scanDuration(s string) (units []string, ok bool) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return nil, false
	}
	for s != "" {
		num, rest := splitNumber(s)
		if num == "" || num == "." {
			return nil, false
		}
		i := 0
		for i < len(rest) && !(rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		if i == 0 {
			return nil, false
		}
		units = append(units, rest[:i])
		s = rest[i:]
	}
	return units, true
}

func unknownDurationUnit(s string) (string, bool) {
	units, ok := scanDuration(s)
	if !ok {
		return "", false
	}
	for _, u := range units {
		if !durationUnits[u] {
			return u, true
		}
	}
	return "", false
}

func looksLikeDuration(s string) bool {
	_, ok := scanDuration(s)
	return ok
}

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler, using String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, using ParseDuration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (Duration) kind() string { return `a duration such as "30s"` }

// quote quotes s for a message, shortening long values.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
