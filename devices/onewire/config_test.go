package onewire

import (
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // key: message prefix
	}{
		{"zero", Config{}, nil},
		{"good", Config{Root: "/tmp/w1", Interval: time.Second, Decimals: ptr(1), Sensors: []Sensor{
			{ID: "28-0316a2791cff", Name: "boiler"}, {ID: "28-000000000001"},
		}}, nil},
		{"bus", Config{Root: "sys/bus/w1/devices", Interval: 999 * time.Millisecond, Decimals: ptr(13)}, []string{
			`root: must be an absolute path (default /sys/bus/w1/devices), got "sys/bus/w1/devices"`,
			"interval: must be at least 1s (0: 10s), got 999ms",
			"decimals: must be between 0 and 12, got 13",
		}},
		{"negative", Config{Interval: -time.Second, Decimals: ptr(-1)}, []string{
			"interval: must be at least 1s", "decimals: must be between 0 and 12, got -1",
		}},
		{"sensors", Config{Sensors: []Sensor{
			{ID: "28-0316A2791CFF"},
			{ID: "10-0316a2791cff"},
			{ID: "28-0316a2791cf"},
			{ID: "28-0316a2791cff", Name: "status"},
			{ID: "28-0316a2791cff", Name: "a/b"},
			{ID: "28-000000000001", Name: "28-000000000002"},
			{ID: "28-000000000002"},
			{ID: "28-000000000003", Name: "boiler"},
			{ID: "28-000000000004", Name: "boiler"},
		}}, []string{
			`sensors[0].id: must be 28- and 12 lowercase hex digits, as its directory in /sys/bus/w1/devices (28-0316a2791cff), got "28-0316A2791CFF"`,
			`sensors[1].id: must be 28- and 12 lowercase hex digits`,
			`sensors[2].id: must be 28- and 12 lowercase hex digits`,
			`sensors[3].name: invalid sensor name "status"`,
			"sensors[4].id: duplicate sensor id 28-0316a2791cff",
			`sensors[4].name: invalid sensor name "a/b"`,
			`sensors[6].name: duplicate sensor name "28-000000000002"`,
			`sensors[8].name: duplicate sensor name "boiler"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range tt.cfg.Check() {
				got = append(got, p.Key+": "+p.Msg)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d:\ngot  %s\nwant %s...", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{Root: "rel", Interval: time.Millisecond}); err == nil ||
		!strings.Contains(err.Error(), "onewire: root: must be an absolute path") ||
		!strings.Contains(err.Error(), "onewire: interval: must be at least 1s") {
		t.Errorf("New(bad config) error = %v", err)
	}
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.Root != DefaultRoot || a.interval != DefaultInterval || *a.cfg.Decimals != DefaultDecimals {
		t.Errorf("defaults: root %q, interval %v, decimals %d", a.cfg.Root, a.interval, *a.cfg.Decimals)
	}
	a, err = New(Config{Root: "/w1", Interval: 2 * time.Second, Decimals: ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	if a.cfg.Root != "/w1" || a.interval != 2*time.Second || *a.cfg.Decimals != 0 {
		t.Errorf("set: root %q, interval %v, decimals %d", a.cfg.Root, a.interval, *a.cfg.Decimals)
	}
}
