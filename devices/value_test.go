package devices

import (
	"math"
	"testing"
)

// scaled multiplies at run time (constants are exact in Go).
func scaled(raw int, scale float64) float64 { return float64(raw) * scale }

func TestNumberString(t *testing.T) {
	if v := scaled(2315, 0.01); v == 23.15 {
		t.Fatalf("2315*0.01 = %v is exact on this machine; the test below proves nothing", v)
	}
	tests := []struct {
		v        float64
		decimals int
		want     string
	}{
		{scaled(2315, 0.01), 2, "23.15"},
		{scaled(2315, 0.01), -1, "23.150000000000002"}, // shortest: what strconv reads back
		{21.5, 2, "21.50"},
		{21.5, 0, "22"},
		{-0.001, 2, "0.00"},
		{-1.5, 1, "-1.5"},
		{0.1 + 0.2, 1, "0.3"},
		{1e21, 0, "1000000000000000000000"},
		{1, 99, "1.000000000000"},
		{12.3456789, 6, "12.345679"},
	}
	for _, tt := range tests {
		if got := Number(tt.v, tt.decimals).String(); got != tt.want {
			t.Errorf("Number(%v, %d) = %q, want %q", tt.v, tt.decimals, got, tt.want)
		}
	}
	if Number(math.NaN(), 1).Valid() || Number(math.Inf(1), 1).Valid() || !Number(1, 1).Valid() || !String("x").Valid() {
		t.Error("Valid")
	}
	if got := String("on").String(); got != "on" {
		t.Errorf("String = %q", got)
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means not a number
	}{
		{"21.5", "21.5"},
		{"21.50", "21.50"},
		{"-3", "-3"},
		{"+0.250", "0.250"},
		{".5", "0.5"},
		{"5.", "5"},
		{"1e3", "1000"},
		{"1.5E-2", "0.015"},
		{"", ""},
		{"-", ""},
		{".", ""},
		{"1e", ""},
		{"0x10", ""},
		{"NaN", ""},
		{"Inf", ""},
		{"1_000", ""},
		{" 1", ""},
		{"1 ", ""},
		{"1e999", ""},
		{"12abc", ""},
	}
	for _, tt := range tests {
		v, ok := ParseNumber(tt.in)
		got := ""
		if ok {
			got = v.String()
		}
		if got != tt.want {
			t.Errorf("ParseNumber(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}
