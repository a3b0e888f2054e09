package modbusdev

import (
	"math"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestCheck(t *testing.T) {
	ok := Point{Name: "v", Table: "holding"}
	tests := []struct {
		name string
		cfg  Config
		want []string // key: message prefix
	}{
		{"good", Config{Port: "/dev/ttyUSB0", Slaves: []Slave{{ID: 1, Name: "m", Points: []Point{ok}}}}, nil},
		{"bus", Config{Baud: 74880, StopBits: 3, Interval: time.Millisecond, Timeout: time.Minute, Retries: ptr(11)}, []string{
			"port: missing", "baud: 74880 is not a baud rate", "stop_bits: must be 1 or 2",
			"interval: must be at least 10ms", "timeout: must be between 0", "retries: must be between 0 and 10",
			"slaves: missing",
		}},
		{"slaves", Config{Port: "p", Slaves: []Slave{
			{ID: 0, Name: "status", Points: []Point{ok}},
			{ID: 248, Name: "m", Points: []Point{ok}},
			{ID: 2, Name: "m"},
			{ID: 2, Name: "n/x", Points: []Point{ok}},
		}}, []string{
			"slaves[0].id: must be between 1 and 247, got 0", `slaves[0].name: invalid slave name "status"`,
			"slaves[1].id: must be between 1 and 247, got 248",
			`slaves[2].name: duplicate slave name "m"`, "slaves[2].points: missing",
			"slaves[3].id: duplicate slave id 2", `slaves[3].name: invalid slave name "n/x"`,
		}},
		{"points", Config{Port: "p", Slaves: []Slave{{ID: 1, Name: "m", Points: []Point{
			{Name: "a", Table: "holdings"},
			{Name: "a", Table: "input", Type: "float64", Order: "ABDC"},
			{Name: "c", Table: "coil", Type: "int16", Order: "ABCD"},
			{Name: "d", Table: "input", Type: "float32", Address: 65535},
			{Name: "e", Table: "input", Address: -1, Scale: ptr(0.0), Offset: math.Inf(1), Decimals: ptr(13)},
			{Name: "f", Table: "discrete", Writable: true, Scale: ptr(2.0), Offset: 1, Decimals: ptr(1)},
			{Name: "g", Table: "input", Writable: true, Unit: strings.Repeat("x", 33)},
			{Name: "h", Unit: "k\x00"},
			{Name: "i", Table: "holding", Type: "bool", Writable: true},
		}}}}, []string{
			`slaves[0].points[0].table: unknown table "holdings"; known tables: coil, discrete, holding, input`,
			`slaves[0].points[1].name: duplicate point name "a" in slave m`,
			`slaves[0].points[1].type: unknown type "float64"; known types: bool, int16, uint16, int32, uint32, float32`,
			`slaves[0].points[1].order: unknown order "ABDC"; known orders: ABCD, CDAB, BADC, DCBA`,
			"slaves[0].points[2].type: a coil is one bit: only bool, got int16",
			"slaves[0].points[2].order: does not apply to table coil",
			"slaves[0].points[3].address: must be between 0 and 65534 for float32, got 65535",
			"slaves[0].points[4].address: must be between 0 and 65535 for uint16, got -1",
			"slaves[0].points[4].scale: must be a finite number other than 0, got 0",
			"slaves[0].points[4].offset: must be a finite number, got +Inf",
			"slaves[0].points[4].decimals: must be between 0 and 12, got 13",
			"slaves[0].points[5].scale: does not apply to bool points",
			"slaves[0].points[5].offset: does not apply to bool points",
			"slaves[0].points[5].decimals: does not apply to bool points",
			"slaves[0].points[5].writable: a discrete input is read-only; only coil and holding points are writable",
			"slaves[0].points[6].unit: must be at most 32 printable bytes",
			"slaves[0].points[6].writable: an input register is read-only",
			"slaves[0].points[7].table: missing; one of coil, discrete, holding, input",
			`slaves[0].points[7].unit: must be at most 32 printable bytes, got "k\x00"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := tt.cfg.Check()
			var got []string
			for _, p := range ps {
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
	if err := (Config{}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "modbus: port: missing") {
		t.Errorf("Validate() = %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted an empty Config")
	}
}

func TestDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Interval != 10*time.Second || c.Timeout != time.Second || *c.Retries != 1 || c.Open == nil {
		t.Errorf("defaults %+v", c)
	}
	if sc := c.serialConfig(); sc.StopBits != 0 || sc.ReadTimeout != 100*time.Millisecond {
		t.Errorf("serial config %+v", sc)
	}
}

func TestPointValue(t *testing.T) {
	tests := []struct {
		p    Point
		raw  float64
		want string
	}{
		{Point{Table: "input", Type: "int16", Scale: ptr(0.01)}, 2315, "23.15"},
		{Point{Table: "input", Type: "uint16", Scale: ptr(0.1), Offset: -40}, 615, "21.5"},
		{Point{Table: "input", Type: "uint16", Offset: 0.25}, 1, "1.25"},
		{Point{Table: "input", Type: "uint16", Scale: ptr(10.0)}, 7, "70"},
		{Point{Table: "input", Type: "uint16", Scale: ptr(0.001), Decimals: ptr(1)}, 12345, "12.3"},
		{Point{Table: "input", Type: "float32"}, float64(float32(230.1)), "230.1"},
		{Point{Table: "input", Type: "float32", Scale: ptr(0.001)}, float64(float32(230.1)), "0.2301"},
		{Point{Table: "input", Type: "float32", Decimals: ptr(2)}, float64(float32(0.1)), "0.10"},
		{Point{Table: "coil"}, 1, "1"},
		{Point{Table: "holding", Type: "bool"}, 0, "0"},
	}
	for _, tt := range tests {
		p := newPoint(tt.p, &slave{})
		if got := p.value(tt.raw).String(); got != tt.want {
			t.Errorf("%+v of %v: %s, want %s", tt.p, tt.raw, got, tt.want)
		}
	}
}
