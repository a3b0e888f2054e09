package nmea

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// withSum appends the "*HH" checksum to body, which starts with '$'.
func withSum(body string) string {
	var sum byte
	for i := 1; i < len(body); i++ {
		sum ^= body[i]
	}
	return fmt.Sprintf("%s*%02X", body, sum)
}

// lowerSum lower-cases the checksum digits of line.
func lowerSum(line string) string {
	i := strings.LastIndexByte(line, '*')
	return line[:i] + strings.ToLower(line[i:])
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Sentence
	}{
		{
			// Published example (NMEA reference, gpsd docs), checksum as printed.
			name: "published GGA",
			line: "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
			want: Sentence{Type: "GGA", Talker: "GP", HasTime: true,
				TimeOfDay: 12*time.Hour + 35*time.Minute + 19*time.Second,
				Time:      time.Date(0, 1, 1, 12, 35, 19, 0, time.UTC),
				Lat:       48 + 7.038/60, Lon: 11 + 31.0/60, HasPosition: true,
				Fix: 1, Satellites: 8, HDOP: 0.9, HasHDOP: true, Altitude: 545.4, HasAltitude: true},
		},
		{
			name: "published RMC",
			line: "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
			want: Sentence{Type: "RMC", Talker: "GP", HasTime: true, HasDate: true,
				TimeOfDay: 12*time.Hour + 35*time.Minute + 19*time.Second,
				Time:      time.Date(1994, 3, 23, 12, 35, 19, 0, time.UTC),
				Lat:       48 + 7.038/60, Lon: 11 + 31.0/60, HasPosition: true,
				Valid: true, SpeedKnots: 22.4, HasSpeed: true, CourseDeg: 84.4, HasCourse: true},
		},
		{
			name: "published RMC with CR",
			line: "$GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E*68\r",
			want: Sentence{Type: "RMC", Talker: "GP", HasTime: true, HasDate: true,
				TimeOfDay: 22*time.Hour + 54*time.Minute + 46*time.Second,
				Time:      time.Date(1994, 11, 19, 22, 54, 46, 0, time.UTC),
				Lat:       49 + 16.45/60, Lon: -(123 + 11.12/60), HasPosition: true,
				Valid: true, SpeedKnots: 0.5, HasSpeed: true, CourseDeg: 54.7, HasCourse: true},
		},
		{
			name: "u-blox GNRMC NMEA 4.1, south west, lowercase checksum",
			line: lowerSum(withSum("$GNRMC,083559.00,A,3355.78921,S,01825.11204,W,0.004,,090426,,,D,V")),
			want: Sentence{Type: "RMC", Talker: "GN", HasTime: true, HasDate: true,
				TimeOfDay: 8*time.Hour + 35*time.Minute + 59*time.Second,
				Time:      time.Date(2026, 4, 9, 8, 35, 59, 0, time.UTC),
				Lat:       -(33 + 55.78921/60), Lon: -(18 + 25.11204/60), HasPosition: true,
				Valid: true, SpeedKnots: 0.004, HasSpeed: true, Mode: 'D'},
		},
		{
			name: "GNGGA RTK fixed, negative altitude, fractional seconds",
			line: withSum("$GNGGA,235959.95,5230.12345678,N,00000.00001,E,4,12,0.58,-12.345,M,47.0,M,1.0,0001"),
			want: Sentence{Type: "GGA", Talker: "GN", HasTime: true,
				TimeOfDay: 23*time.Hour + 59*time.Minute + 59*time.Second + 950*time.Millisecond,
				Time:      time.Date(0, 1, 1, 23, 59, 59, 950000000, time.UTC),
				Lat:       52 + 30.12345678/60, Lon: 0.00001 / 60, HasPosition: true,
				Fix: 4, Satellites: 12, HDOP: 0.58, HasHDOP: true, Altitude: -12.345, HasAltitude: true},
		},
		{
			name: "GGA before first fix: all empty",
			line: withSum("$GPGGA,,,,,,0,00,99.99,,,,,,"),
			want: Sentence{Type: "GGA", Talker: "GP", HDOP: 99.99, HasHDOP: true},
		},
		{
			name: "GGA time but no fix (u-blox cold start)",
			line: withSum("$GNGGA,101010.00,,,,,0,00,99.99,,,,,,"),
			want: Sentence{Type: "GGA", Talker: "GN", HasTime: true,
				TimeOfDay: 10*time.Hour + 10*time.Minute + 10*time.Second,
				Time:      time.Date(0, 1, 1, 10, 10, 10, 0, time.UTC), HDOP: 99.99, HasHDOP: true},
		},
		{
			name: "RMC void, empty everything",
			line: withSum("$GPRMC,,V,,,,,,,,,,N"),
			want: Sentence{Type: "RMC", Talker: "GP", Mode: 'N'},
		},
		{
			name: "RMC NMEA 2.0 (12 fields), BeiDou talker",
			line: withSum("$BDRMC,000000,V,0000.000,N,00000.000,E,,,010180,,"),
			want: Sentence{Type: "RMC", Talker: "BD", HasTime: true, HasDate: true,
				Time: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), HasPosition: true},
		},
		{
			name: "extremes",
			line: withSum("$GLRMC,120000,A,9000.0000,S,18000.0000,W,1.5,359.9,290224,,,A"),
			want: Sentence{Type: "RMC", Talker: "GL", HasTime: true, HasDate: true,
				TimeOfDay: 12 * time.Hour, Time: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
				Lat: -90, Lon: -180, HasPosition: true, Valid: true,
				SpeedKnots: 1.5, HasSpeed: true, CourseDeg: 359.9, HasCourse: true, Mode: 'A'},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.line)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.line, err)
			}
			w := tt.want
			if !near(got.Lat, w.Lat) || !near(got.Lon, w.Lon) || !near(got.HDOP, w.HDOP) ||
				!near(got.Altitude, w.Altitude) || !near(got.SpeedKnots, w.SpeedKnots) || !near(got.CourseDeg, w.CourseDeg) {
				t.Errorf("numbers: got %+v\nwant %+v", got, w)
			}
			got.Lat, got.Lon, got.HDOP, got.Altitude, got.SpeedKnots, got.CourseDeg = w.Lat, w.Lon, w.HDOP, w.Altitude, w.SpeedKnots, w.CourseDeg
			if !got.Time.Equal(w.Time) {
				t.Errorf("Time = %v, want %v", got.Time, w.Time)
			}
			got.Time = w.Time
			if got != w {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	gga := "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
	tests := []struct {
		name string
		line string
		want error
	}{
		{"empty", "", ErrFormat},
		{"no dollar", gga[1:], ErrFormat},
		{"bad checksum", gga[:len(gga)-2] + "48", ErrChecksum},
		{"missing checksum", gga[:len(gga)-3], ErrChecksum},
		{"star without digits", gga[:len(gga)-2], ErrChecksum},
		{"one digit", gga[:len(gga)-1], ErrChecksum},
		{"non-hex checksum", gga[:len(gga)-2] + "G7", ErrChecksum},
		{"text after checksum", gga + "0", ErrChecksum},
		{"flipped bit in body", strings.Replace(gga, "4807", "4806", 1), ErrChecksum},
		{"truncated mid-sentence", gga[:30], ErrChecksum},
		{"truncated and re-summed", withSum("$GPGGA,123519,4807.038,N"), ErrFormat},
		{"huge line", withSum("$GPGGA," + strings.Repeat("1", 10000)), ErrFormat},
		{"too many fields", withSum("$GPRMC" + strings.Repeat(",", 30)), ErrFormat},
		{"control byte", withSum("$GPGGA,12\x003519,,,,,0,,,,,,,,"), ErrFormat},
		{"high byte", withSum("$GPGGA,\xff,,,,,0,,,,,,,,"), ErrFormat},
		{"lowercase address", withSum("$gpgga,,,,,,0,,,,,,,,"), ErrFormat},
		{"empty address", withSum("$,1,2"), ErrFormat},
		{"garbage", withSum("$#%&/()=?"), ErrFormat},
		{"garbage with bad sum", "$#%&/()=?*00", ErrChecksum},
		{"GSV unsupported", withSum("$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00"), ErrUnsupported},
		{"proprietary", withSum("$PUBX,00,081350.00,4717.113210,N"), ErrUnsupported},
		{"AIS style start", "!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26", ErrFormat},
		{"hour 24", withSum("$GPGGA,240000,,,,,0,,,,,,,,"), ErrFormat},
		{"minute 60", withSum("$GPGGA,126000,,,,,0,,,,,,,,"), ErrFormat},
		{"short time", withSum("$GPGGA,1235,,,,,0,,,,,,,,"), ErrFormat},
		{"time fraction letters", withSum("$GPGGA,123519.x,,,,,0,,,,,,,,"), ErrFormat},
		{"lat 91", withSum("$GPGGA,,9100.000,N,00000.000,E,1,,,,,,,,"), ErrFormat},
		{"lat 90 and a bit", withSum("$GPGGA,,9000.001,N,00000.000,E,1,,,,,,,,"), ErrFormat},
		{"lon 181", withSum("$GPGGA,,0000.000,N,18100.000,E,1,,,,,,,,"), ErrFormat},
		{"minutes 60", withSum("$GPGGA,,4860.000,N,00000.000,E,1,,,,,,,,"), ErrFormat},
		{"bad hemisphere", withSum("$GPGGA,,4807.038,X,01131.000,E,1,,,,,,,,"), ErrFormat},
		{"partial position", withSum("$GPGGA,,4807.038,N,,,1,,,,,,,,"), ErrFormat},
		{"exponent", withSum("$GPGGA,,4807e1,N,01131.000,E,1,,,,,,,,"), ErrFormat},
		{"NaN altitude", withSum("$GPGGA,,,,,,1,,,NaN,M,,,,"), ErrFormat},
		{"two dots", withSum("$GPGGA,,,,,,1,,,1.2.3,M,,,,"), ErrFormat},
		{"altitude unit", withSum("$GPGGA,,,,,,1,,,12,F,,,,"), ErrFormat},
		{"fix letter", withSum("$GPGGA,,,,,,X,,,,,,,,"), ErrFormat},
		{"RMC status", withSum("$GPRMC,,X,,,,,,,,,,"), ErrFormat},
		{"RMC 31 April", withSum("$GPRMC,,V,,,,,,,310426,,,"), ErrFormat},
		{"RMC month 13", withSum("$GPRMC,,V,,,,,,,011326,,,"), ErrFormat},
		{"RMC course 400", withSum("$GPRMC,,V,,,,,,400,,,,"), ErrFormat},
		{"RMC negative speed", withSum("$GPRMC,,V,,,,,-1,,,,,"), ErrFormat},
		{"RMC long mode", withSum("$GPRMC,,V,,,,,,,,,,AD"), ErrFormat},
		{"RMC too few fields", withSum("$GPRMC,,V,,,,,,,"), ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.line)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) = %+v, %v; want %v", tt.line, s, err, tt.want)
			}
			if s != (Sentence{}) {
				t.Errorf("non-zero sentence with error: %+v", s)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47")
	f.Add("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A")
	f.Add(withSum("$GNGGA,,,,,,0,00,99.99,,,,,,"))
	f.Fuzz(func(t *testing.T, line string) {
		s, err := Parse(line)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if s.Type != TypeGGA && s.Type != TypeRMC {
			t.Fatalf("type %q", s.Type)
		}
		if math.IsNaN(s.Lat) || math.IsNaN(s.Lon) || s.Lat < -90 || s.Lat > 90 || s.Lon < -180 || s.Lon > 180 {
			t.Fatalf("position out of range: %v,%v", s.Lat, s.Lon)
		}
		if !s.HasPosition && (s.Lat != 0 || s.Lon != 0) {
			t.Fatalf("position without HasPosition")
		}
		for _, v := range []float64{s.Altitude, s.HDOP, s.SpeedKnots, s.CourseDeg} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite value in %+v", s)
			}
		}
		if s.TimeOfDay < 0 || s.TimeOfDay > 24*time.Hour {
			t.Fatalf("TimeOfDay %v", s.TimeOfDay)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	lines := []string{
		"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
		"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(lines[i&1]); err != nil {
			b.Fatal(err)
		}
	}
}
