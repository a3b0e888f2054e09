package i2cdev

import (
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // key: message prefix
	}{
		{"bme280 defaults", Config{Chip: "bme280"}, nil},
		{"sht3x", Config{Bus: "/dev/i2c-1", Chip: "sht3x", Address: 0x45, Interval: MinInterval}, nil},
		{"missing chip", Config{}, []string{"chip: missing; known chips: bme280, sht3x"}},
		{"unknown chip", Config{Chip: "BME280", Address: 0x76}, []string{`chip: unknown chip "BME280"; known chips: bme280, sht3x`}},
		{"address", Config{Chip: "bme280", Address: 76}, []string{"address: must be 0x76 or 0x77 for bme280 (0: 0x76), got 0x4c (76)"}},
		{"sht3x address", Config{Chip: "sht3x", Address: 0x76}, []string{"address: must be 0x44 or 0x45 for sht3x (0: 0x44), got 0x76 (118)"}},
		{"interval", Config{Chip: "sht3x", Interval: 50 * time.Millisecond}, []string{"interval: must be at least 100ms (0: 10s), got 50ms"}},
		{"negative interval", Config{Chip: "sht3x", Interval: -time.Second}, []string{"interval: must be at least 100ms"}},
		{"bus", Config{Bus: "1\n", Chip: "sht3x"}, []string{`bus: must be printable, got "1\n"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := tt.cfg.Check()
			if len(ps) != len(tt.want) {
				t.Fatalf("got %v, want %d problems", ps, len(tt.want))
			}
			for i, p := range ps {
				if got := p.Key + ": " + p.Msg; !strings.HasPrefix(got, tt.want[i]) {
					t.Errorf("problem %d: %q, want prefix %q", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		cfg  Config
		addr uint16
	}{
		{Config{Chip: ChipBME280}, 0x76},
		{Config{Chip: ChipSHT3x}, 0x44},
		{Config{Chip: ChipSHT3x, Address: 0x45}, 0x45},
	}
	for _, tt := range tests {
		c := tt.cfg.withDefaults()
		if c.Address != tt.addr || c.Interval != DefaultInterval {
			t.Errorf("%+v: address %#x, interval %v", tt.cfg, c.Address, c.Interval)
		}
	}
}
