package devices

import (
	"math"
	"strconv"
	"strings"
)

// MaxDecimals is the most decimals a Number is published with.
const MaxDecimals = 12

// Value is a number with a stated number of decimals, or a string. The
// zero Value is the string "".
type Value struct {
	num      float64
	decimals int // -1: the shortest text that reads back as num
	str      string
	isNum    bool
}

// Number returns v published with decimals decimals (clamped to
// 0..MaxDecimals), rounded half away from zero as strconv does; a
// negative decimals means the shortest text that reads back as v. Number
// never gives 23.150000000000002 for 2315*0.01 with 2 decimals: it gives
// 23.15.
func Number(v float64, decimals int) Value {
	if decimals > MaxDecimals {
		decimals = MaxDecimals
	}
	if decimals < 0 {
		decimals = -1
	}
	return Value{num: v, decimals: decimals, isNum: true}
}

// String returns a string value.
func String(s string) Value { return Value{str: s} }

// IsNumber reports whether v is a number.
func (v Value) IsNumber() bool { return v.isNum }

// Float returns the number (0 for a string).
func (v Value) Float() float64 { return v.num }

// Decimals returns the number's decimals (-1: shortest).
func (v Value) Decimals() int { return v.decimals }

// WithDecimals returns v with n decimals if it is a number, else v.
func (v Value) WithDecimals(n int) Value {
	if !v.isNum {
		return v
	}
	return Number(v.num, n)
}

// Valid reports whether v can be published: a finite number, or a
// string.
func (v Value) Valid() bool {
	return !v.isNum || !math.IsNaN(v.num) && !math.IsInf(v.num, 0)
}

// String returns the payload of v: a number in plain decimal notation
// with its decimals (no exponent), or the string.
func (v Value) String() string {
	if !v.isNum {
		return v.str
	}
	s := strconv.FormatFloat(v.num, 'f', v.decimals, 64)
	if s == "-0" || strings.HasPrefix(s, "-0.") && strings.Trim(s[3:], "0") == "" {
		s = s[1:] // -0.00 reads as a glitch
	}
	return s
}

// ParseNumber parses a plain decimal number ("21.5", "-3", "+0.250",
// "1e3") and returns it with the decimals written in s (for "1e3" and
// other exponents: the shortest). Hexadecimal, "NaN", "Inf", underscores
// and surrounding spaces are refused.
func ParseNumber(s string) (Value, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := digits(s[i:])
	i += intDigits
	dec := 0
	if i < len(s) && s[i] == '.' {
		i++
		dec = digits(s[i:])
		i += dec
	}
	if intDigits+dec == 0 {
		return Value{}, false
	}
	exp := false
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := digits(s[i:])
		if n == 0 {
			return Value{}, false
		}
		i += n
		exp = true
	}
	if i != len(s) {
		return Value{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return Value{}, false
	}
	if exp {
		dec = -1
	}
	return Number(f, dec), true
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
