package serial

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/edgemq/edgemq/devices"
)

// fuzzConfigs are the parsers FuzzParseLine exercises, by index.
var fuzzConfigs = []Config{
	{Format: "raw"},
	{Format: "kv"},
	{Format: "csv", Columns: []string{"a", "-", "c"}},
	{Format: "json"},
	{Format: "regex", Pattern: `^T=(?P<temp>-?[0-9.]+)(?:,H=(?P<hum>[0-9]+))?`},
	{Format: "nmea"},
}

// FuzzParseLine feeds any line to each format's parser: no panic, and
// what it accepts is publishable: field names valid or dropped later by
// the publisher, numbers finite and written in plain decimal.
func FuzzParseLine(f *testing.F) {
	for i, line := range []string{
		"hello", "temp=21.5,hum=40", "1,2,3", `{"a":1.50,"b":{"c":"x"}}`, "T=21.5,H=40",
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
		"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
		"a=1e308,b=-0", `{"x":1e400}`, "\xff\xfe", "",
	} {
		f.Add(uint8(i%len(fuzzConfigs)), line)
	}
	parsers := make([]Parser, len(fuzzConfigs))
	for i, c := range fuzzConfigs {
		p, err := NewParser(c)
		if err != nil {
			f.Fatal(err)
		}
		parsers[i] = p
	}
	f.Fuzz(func(t *testing.T, format uint8, line string) {
		i := int(format) % len(parsers)
		fs, err := parsers[i](line)
		if err != nil {
			return
		}
		for _, fl := range fs {
			// json keys are the sensor's: the publisher drops (and
			// counts) those that are not field names.
			if !devices.ValidFieldName(fl.Name) && fuzzConfigs[i].Format != "json" {
				t.Fatalf("invalid field name %q from %q", fl.Name, line)
			}
			v := fl.Value
			if !v.IsNumber() {
				continue
			}
			if !v.Valid() {
				t.Fatalf("%s: non-finite number from %q", fl.Name, line)
			}
			s := v.String()
			if strings.ContainsAny(s, "eE") {
				t.Fatalf("%s: %q is not plain decimal", fl.Name, s)
			}
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s: %q does not read back: %v", fl.Name, s, err)
			}
		}
	})
}

// FuzzSplit feeds a stream in two pieces, cut anywhere: the lines must be
// those of the stream fed whole, and the buffer must stay bounded.
func FuzzSplit(f *testing.F) {
	f.Add([]byte("temp=21.5\nhum=40\n"), uint16(5), uint8(16))
	f.Add([]byte("a\r\nbb\r\nccc\r\n"), uint16(3), uint8(2))
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxxxxxx\nok\n"), uint16(10), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, max uint8) {
		m := int(max)%64 + 1
		run := func(chunks ...[]byte) string {
			s := newSplitter("lf", m)
			var out bytes.Buffer
			for _, c := range chunks {
				s.feed(c, func(l []byte) {
					if len(l) > m {
						t.Fatalf("line of %d bytes, max %d", len(l), m)
					}
					out.Write(l)
					out.WriteByte('|')
				}, func() { out.WriteString("!|") })
				if len(s.buf) > m+1 {
					t.Fatalf("buffer holds %d bytes, max %d", len(s.buf), m)
				}
			}
			return out.String()
		}
		c := int(cut) % (len(data) + 1)
		if whole, split := run(data), run(data[:c], data[c:]); whole != split {
			t.Fatalf("whole %q, split at %d %q", whole, c, split)
		}
	})
}

// BenchmarkParseLine measures the splitter and parser of each format
// (the publish path: BenchmarkAdapterToBroker).
func BenchmarkParseLine(b *testing.B) {
	for _, bc := range []struct {
		name string
		c    Config
		line string
	}{
		{"kv", Config{Format: "kv"}, "temp=21.5,hum=40,press=1013.25\n"},
		{"csv", Config{Format: "csv", Columns: []string{"temp", "hum", "press"}}, "21.5,40,1013.25\n"},
		{"json", Config{Format: "json"}, `{"temp":21.5,"hum":40,"press":1013.25}` + "\n"},
		{"nmea", Config{Format: "nmea"}, "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p, err := NewParser(bc.c)
			if err != nil {
				b.Fatal(err)
			}
			s := newSplitter("lf", DefaultMaxLine)
			line := []byte(bc.line)
			var fields int
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				s.feed(line, func(l []byte) {
					fs, err := p(string(l))
					if err != nil {
						b.Fatal(err)
					}
					for _, f := range fs {
						fields += len(f.Value.String())
					}
				}, func() {})
			}
		})
	}
}
