package serial

import (
	"errors"
	"strings"
	"testing"
)

// show renders fields as "name=value name=value" (strings quoted).
func show(t *testing.T, c Config, line string) string {
	t.Helper()
	p, err := NewParser(c)
	if err != nil {
		t.Fatalf("NewParser(%+v): %v", c, err)
	}
	fs, err := p(line)
	if errors.Is(err, errSkip) {
		return "SKIP"
	}
	if err != nil {
		return "ERR"
	}
	var parts []string
	for _, f := range fs {
		v := f.Value.String()
		if !f.Value.IsNumber() {
			v = `"` + v + `"`
		}
		parts = append(parts, f.Name+"="+v)
	}
	return strings.Join(parts, " ")
}

func TestParsers(t *testing.T) {
	two := 2
	tests := []struct {
		name string
		c    Config
		line string
		want string
	}{
		{"raw", Config{}, "hello world 21.5", `raw="hello world 21.5"`},
		{"raw field", Config{Field: "line"}, "x", `line="x"`},
		{"raw control char", Config{}, "a\x00b", "ERR"},
		{"raw invalid utf8", Config{}, "a\xffb", "ERR"},
		{"raw tab", Config{}, "a\tb", "raw=\"a\tb\""},
		{"kv", Config{Format: "kv"}, "temp=21.5,hum=40", "temp=21.5 hum=40"},
		{"kv spaces", Config{Format: "kv"}, " temp = 21.50 , state = ok ", `temp=21.50 state="ok"`},
		{"kv separators", Config{Format: "kv", Separator: ";", KVSeparator: ":"}, "t:1;h:2", "t=1 h=2"},
		{"kv decimals", Config{Format: "kv", Decimals: &two}, "t=21.5", "t=21.50"},
		{"kv no =", Config{Format: "kv"}, "temp 21.5", "ERR"},
		{"kv bad key", Config{Format: "kv"}, "te mp=1", "ERR"},
		{"kv empty key", Config{Format: "kv"}, "=1", "ERR"},
		{"kv garbage", Config{Format: "kv"}, "\x01\x02", "ERR"},
		{"kv empty", Config{Format: "kv"}, "   ", "ERR"},
		{"csv", Config{Format: "csv", Columns: []string{"v", "i", "-", "p"}}, "230.1, 1.25,x,287.6", "v=230.1 i=1.25 p=287.6"},
		{"csv too few", Config{Format: "csv", Columns: []string{"a", "b"}}, "1", "ERR"},
		{"csv too many", Config{Format: "csv", Columns: []string{"a", "b"}}, "1,2,3", "ERR"},
		{"csv string", Config{Format: "csv", Columns: []string{"a", "b"}}, "1,on", `a=1 b="on"`},
		{"json", Config{Format: "json"}, `{"temp":21.50,"hum":40,"ok":true,"name":"x","env":{"co2":415,"deep":{"v":1}},"arr":[1],"n":null}`,
			`env_co2=415 env_deep_v=1 hum=40 name="x" ok="true" temp=21.50`},
		{"json exponent", Config{Format: "json"}, `{"v":1.5e2}`, "v=150"},
		{"json not object", Config{Format: "json"}, `[1,2]`, "ERR"},
		{"json trailing", Config{Format: "json"}, `{"a":1} x`, "ERR"},
		{"json broken", Config{Format: "json"}, `{"a":1`, "ERR"},
		{"json empty object", Config{Format: "json"}, `{}`, "ERR"},
		{"json too deep", Config{Format: "json"}, strings.Repeat(`{"a":`, 12) + "1" + strings.Repeat("}", 12), "ERR"},
		{"regex", Config{Format: "regex", Pattern: `^T=(?P<temp>-?[0-9.]+)C H=(?P<hum>[0-9]+)%(?: (?P<note>\w+))?$`}, "T=-3.25C H=40%", "temp=-3.25 hum=40"},
		{"regex optional", Config{Format: "regex", Pattern: `^T=(?P<temp>-?[0-9.]+)C H=(?P<hum>[0-9]+)%(?: (?P<note>\w+))?$`}, "T=1C H=2% hi", `temp=1 hum=2 note="hi"`},
		{"regex no match", Config{Format: "regex", Pattern: `^T=(?P<temp>[0-9.]+)$`}, "X=1", "ERR"},
		{"nmea GGA", Config{Format: "nmea"}, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
			`lat=48.117300 lon=11.516667 altitude=545.4 fix=1 satellites=8 utc="12:35:19.000"`},
		{"nmea RMC", Config{Format: "nmea"}, "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
			`lat=48.117300 lon=11.516667 speed=22.40 course=84.40 utc="1994-03-23T12:35:19.000Z"`},
		{"nmea bad checksum", Config{Format: "nmea"}, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48", "ERR"},
		{"nmea other sentence", Config{Format: "nmea"}, "$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39", "SKIP"},
		{"nmea garbage", Config{Format: "nmea"}, "GPGGA,,,", "ERR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := show(t, tt.c, tt.line); got != tt.want {
				t.Errorf("parse %q:\ngot  %s\nwant %s", tt.line, got, tt.want)
			}
		})
	}
}

func TestSplitter(t *testing.T) {
	tests := []struct {
		name   string
		ending string
		max    int
		chunks []string
		want   string // lines joined by "|", "!" for each too-long line
	}{
		{"lf", "lf", 100, []string{"a\nb\n"}, "a|b"},
		{"split across reads", "lf", 100, []string{"tem", "p=2", "1.5\nhu", "m=4", "0\n"}, "temp=21.5|hum=40"},
		{"crlf", "crlf", 100, []string{"a\r\nb\r", "\n"}, "a|b"},
		{"cr", "cr", 100, []string{"a\rb\r\nc\r"}, "a|b|c"},
		{"lf tolerates cr", "lf", 100, []string{"a\r\n"}, "a"},
		{"empty lines", "lf", 100, []string{"\n\n\r\na\n"}, "a"},
		{"partial last line kept", "lf", 100, []string{"a\nb"}, "a"},
		{"too long", "lf", 4, []string{"12345\nok\n"}, "!|ok"},
		{"too long across reads", "lf", 4, []string{"123", "456", "789\nok\n"}, "!|ok"},
		{"exactly max", "lf", 4, []string{"1234\n"}, "1234"},
		{"exactly max crlf", "crlf", 4, []string{"1234\r\n"}, "1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSplitter(tt.ending, tt.max)
			var got []string
			for _, c := range tt.chunks {
				s.feed([]byte(c), func(l []byte) { got = append(got, string(l)) }, func() { got = append(got, "!") })
				if cap(s.buf) > tt.max+1 && len(s.buf) > tt.max+1 {
					t.Fatalf("buffer grew to %d", len(s.buf))
				}
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("got %q, want %q", g, tt.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		c    Config
		want string
	}{
		{Config{Port: "/dev/x"}, ""},
		{Config{}, "port: missing; the serial device, e.g. /dev/serial/by-id/usb-..."},
		{Config{Port: "p", Baud: 74880}, "baud: 74880 is not a baud rate the serial driver can set; nearest supported: 57600"},
		{Config{Port: "p", Format: "csv"}, "columns: missing; the csv format needs the names of its columns"},
		{Config{Port: "p", Format: "csv", Columns: []string{"a", "a"}}, `columns: duplicate column "a"`},
		{Config{Port: "p", Format: "regex", Pattern: "("}, "pattern: error parsing regexp: missing closing ): `(`"},
		{Config{Port: "p", Format: "regex", Pattern: "(?P<status>x)"}, `pattern: group name "status" is not a valid field name`},
		{Config{Port: "p", Format: "kv", Separator: "=", KVSeparator: "="}, `kv_separator: must differ from separator "="`},
		{Config{Port: "p", Pattern: "x"}, "pattern: does not apply to format raw"},
		{Config{Port: "p", Commands: []Command{{Field: "r", Template: "a\nb"}}}, "commands[0].template: must not hold a line break"},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range tt.c.Check() {
			got = append(got, p.Key+": "+p.Msg)
		}
		if g := strings.Join(got, "\n"); g != tt.want {
			t.Errorf("Check(%+v):\ngot  %s\nwant %s", tt.c, g, tt.want)
		}
	}
	for _, b := range []int{74880, 250000, 0} {
		if b != 0 && ValidBaud(b) {
			t.Errorf("ValidBaud(%d)", b)
		}
	}
}
