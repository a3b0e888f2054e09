package nmea

import (
	"errors"
	"fmt"
	"time"
)

// MaxLen is the longest line Parse accepts, in bytes, after removing a
// trailing "\r". The standard allows 82 characters including CR LF; some
// receivers exceed that with extra decimals, so there is headroom.
const MaxLen = 200

// Sentinel errors; every error returned by Parse wraps exactly one of them.
var (
	// ErrFormat reports a line that is not a well-formed sentence: no
	// leading '$', bad characters, wrong field count, unparsable or
	// out-of-range field, or a line longer than MaxLen.
	ErrFormat = errors.New("nmea: malformed sentence")
	// ErrChecksum reports a missing, malformed or wrong "*HH" checksum.
	ErrChecksum = errors.New("nmea: checksum")
	// ErrUnsupported reports a well-formed sentence of a type other than
	// GGA or RMC (including proprietary "$P..." sentences).
	ErrUnsupported = errors.New("nmea: unsupported sentence type")
)

// Sentence types decoded by Parse.
const (
	TypeGGA = "GGA"
	TypeRMC = "RMC"
)

// Sentence is one decoded GGA or RMC sentence.
//
// Fields set by both types: Type, Talker, Time, TimeOfDay, HasTime, Lat,
// Lon, HasPosition.
//
// GGA only: Fix, Satellites, HDOP, HasHDOP, Altitude, HasAltitude.
// GGA carries no date: Time is the time of day on the zero date
// 0000-01-01 UTC (HasDate false); combine TimeOfDay with a date from an
// RMC sentence or the system clock.
//
// RMC only: Valid, SpeedKnots, HasSpeed, CourseDeg, HasCourse, Mode,
// HasDate. With both time and date present, Time is the full UTC
// timestamp.
//
// HasPosition only says that the position fields were present. A receiver
// may repeat its last position without a fix, so check Valid (RMC) or
// Fix > 0 (GGA) before trusting it.
type Sentence struct {
	Type   string // TypeGGA or TypeRMC
	Talker string // "GP", "GN", "GL", "GA", "BD", ...

	// Time is in UTC; see the type documentation for GGA.
	Time time.Time
	// TimeOfDay is the UTC time since midnight (up to 24h for a leap second).
	TimeOfDay time.Duration
	HasTime   bool // time field present
	HasDate   bool // RMC date field present; Time includes the date

	Lat, Lon    float64 // decimal degrees, south and west negative
	HasPosition bool    // latitude and longitude present

	// GGA.
	Fix         int     // fix quality: 0 invalid, 1 GPS, 2 DGPS, 4 RTK, 5 float RTK, 6 estimated, ...
	Satellites  int     // satellites in use
	HDOP        float64 // horizontal dilution of precision
	HasHDOP     bool
	Altitude    float64 // metres above mean sea level
	HasAltitude bool

	// RMC.
	Valid      bool    // status 'A' (active); 'V' (void) gives false
	SpeedKnots float64 // speed over ground, knots
	HasSpeed   bool
	CourseDeg  float64 // course over ground, degrees true
	HasCourse  bool
	Mode       byte // NMEA 2.3 mode indicator ('A', 'D', 'E', 'N', ...), 0 if absent
}

// maxFields is the most comma-separated fields (address included) Parse
// accepts; RMC of NMEA 4.1 has 14, GGA has 15.
const maxFields = 20

// Parse decodes one sentence, without the line terminator; a trailing "\r"
// is tolerated. The checksum is mandatory. Parse does not retain line
// beyond the returned Talker string.
func Parse(line string) (Sentence, error) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > MaxLen {
		return Sentence{}, fmt.Errorf("line of %d bytes exceeds %d: %w", len(line), MaxLen, ErrFormat)
	}
	if len(line) == 0 || line[0] != '$' {
		return Sentence{}, fmt.Errorf("line does not start with '$': %w", ErrFormat)
	}
	star := -1
	var sum byte
	for i := 1; i < len(line); i++ {
		c := line[i]
		if c == '*' {
			star = i
			break
		}
		if c < 0x20 || c > 0x7e || c == '$' || c == '!' {
			return Sentence{}, fmt.Errorf("invalid byte 0x%02x at offset %d: %w", c, i, ErrFormat)
		}
		sum ^= c
	}
	if star < 0 {
		return Sentence{}, fmt.Errorf("missing checksum: %w", ErrChecksum)
	}
	if len(line) != star+3 {
		return Sentence{}, fmt.Errorf("checksum must be two hex digits: %w", ErrChecksum)
	}
	hi, ok1 := unhex(line[star+1])
	lo, ok2 := unhex(line[star+2])
	if !ok1 || !ok2 {
		return Sentence{}, fmt.Errorf("checksum %q is not hex: %w", line[star+1:], ErrChecksum)
	}
	if want := hi<<4 | lo; want != sum {
		return Sentence{}, fmt.Errorf("checksum is %02X, computed %02X: %w", want, sum, ErrChecksum)
	}

	var f [maxFields]string
	n := 0
	body := line[1:star]
	start := 0
	for i := 0; i <= len(body); i++ {
		if i == len(body) || body[i] == ',' {
			if n == maxFields {
				return Sentence{}, fmt.Errorf("more than %d fields: %w", maxFields, ErrFormat)
			}
			f[n] = body[start:i]
			n++
			start = i + 1
		}
	}

	addr := f[0]
	if addr == "" {
		return Sentence{}, fmt.Errorf("empty address field: %w", ErrFormat)
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return Sentence{}, fmt.Errorf("invalid address %q: %w", addr, ErrFormat)
		}
	}
	if addr[0] == 'P' || len(addr) != 5 {
		return Sentence{}, fmt.Errorf("sentence %q: %w", addr, ErrUnsupported)
	}
	var s Sentence
	s.Talker = addr[:2]
	switch addr[2:] {
	case TypeGGA:
		s.Type = TypeGGA
		if err := parseGGA(&s, f[:n]); err != nil {
			return Sentence{}, fmt.Errorf("%s: %w", addr, err)
		}
	case TypeRMC:
		s.Type = TypeRMC
		if err := parseRMC(&s, f[:n]); err != nil {
			return Sentence{}, fmt.Errorf("%s: %w", addr, err)
		}
	default:
		return Sentence{}, fmt.Errorf("sentence %q: %w", addr, ErrUnsupported)
	}
	return s, nil
}

// parseGGA decodes
// $--GGA,hhmmss.ss,llll.ll,a,yyyyy.yy,a,q,nn,h.h,a.a,M,g.g,M,age,station
func parseGGA(s *Sentence, f []string) error {
	if len(f) < 15 {
		return fmt.Errorf("%d fields, want 15: %w", len(f), ErrFormat)
	}
	if err := s.setTime(f[1]); err != nil {
		return err
	}
	if err := s.setPosition(f[2], f[3], f[4], f[5]); err != nil {
		return err
	}
	var ok bool
	if s.Fix, ok = parseUint(f[6], 9); !ok {
		return fmt.Errorf("fix quality %q: %w", f[6], ErrFormat)
	}
	if s.Satellites, ok = parseUint(f[7], 99); !ok {
		return fmt.Errorf("satellites %q: %w", f[7], ErrFormat)
	}
	if f[8] != "" {
		if s.HDOP, ok = parseDecimal(f[8], false); !ok {
			return fmt.Errorf("HDOP %q: %w", f[8], ErrFormat)
		}
		s.HasHDOP = true
	}
	if f[9] != "" {
		if s.Altitude, ok = parseDecimal(f[9], true); !ok {
			return fmt.Errorf("altitude %q: %w", f[9], ErrFormat)
		}
		if f[10] != "M" && f[10] != "" {
			return fmt.Errorf("altitude unit %q: %w", f[10], ErrFormat)
		}
		s.HasAltitude = true
	}
	return nil
}

// parseRMC decodes
// $--RMC,hhmmss.ss,A,llll.ll,a,yyyyy.yy,a,x.x,x.x,ddmmyy,x.x,a[,m[,s]]
func parseRMC(s *Sentence, f []string) error {
	if len(f) < 12 {
		return fmt.Errorf("%d fields, want at least 12: %w", len(f), ErrFormat)
	}
	if err := s.setTime(f[1]); err != nil {
		return err
	}
	switch f[2] {
	case "A":
		s.Valid = true
	case "V", "":
	default:
		return fmt.Errorf("status %q: %w", f[2], ErrFormat)
	}
	if err := s.setPosition(f[3], f[4], f[5], f[6]); err != nil {
		return err
	}
	var ok bool
	if f[7] != "" {
		if s.SpeedKnots, ok = parseDecimal(f[7], false); !ok {
			return fmt.Errorf("speed %q: %w", f[7], ErrFormat)
		}
		s.HasSpeed = true
	}
	if f[8] != "" {
		if s.CourseDeg, ok = parseDecimal(f[8], false); !ok || s.CourseDeg > 360 {
			return fmt.Errorf("course %q: %w", f[8], ErrFormat)
		}
		s.HasCourse = true
	}
	if f[9] != "" {
		if err := s.setDate(f[9]); err != nil {
			return err
		}
	}
	if len(f) > 12 {
		switch m := f[12]; len(m) {
		case 0:
		case 1:
			s.Mode = m[0]
		default:
			return fmt.Errorf("mode %q: %w", m, ErrFormat)
		}
	}
	return nil
}

// setTime parses hhmmss[.sss] into Time (on the zero date) and TimeOfDay.
func (s *Sentence) setTime(v string) error {
	if v == "" {
		return nil
	}
	if len(v) < 6 || (len(v) > 6 && v[6] != '.') {
		return fmt.Errorf("time %q: %w", v, ErrFormat)
	}
	h, ok1 := parseUint(v[0:2], 23)
	m, ok2 := parseUint(v[2:4], 59)
	sec, ok3 := parseUint(v[4:6], 60) // 60: leap second
	if !ok1 || !ok2 || !ok3 {
		return fmt.Errorf("time %q: %w", v, ErrFormat)
	}
	ns := 0
	if len(v) > 7 {
		scale := 100000000
		for i := 7; i < len(v); i++ {
			c := v[i]
			if c < '0' || c > '9' {
				return fmt.Errorf("time %q: %w", v, ErrFormat)
			}
			ns += int(c-'0') * scale
			scale /= 10
		}
	}
	s.TimeOfDay = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec)*time.Second + time.Duration(ns)
	s.Time = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Add(s.TimeOfDay)
	s.HasTime = true
	return nil
}

// setDate parses ddmmyy; years 80-99 are 1980-1999, 00-79 are 2000-2079.
func (s *Sentence) setDate(v string) error {
	if len(v) != 6 {
		return fmt.Errorf("date %q: %w", v, ErrFormat)
	}
	d, ok1 := parseUint(v[0:2], 31)
	m, ok2 := parseUint(v[2:4], 12)
	y, ok3 := parseUint(v[4:6], 99)
	if !ok1 || !ok2 || !ok3 || d == 0 || m == 0 {
		return fmt.Errorf("date %q: %w", v, ErrFormat)
	}
	if y < 80 {
		y += 2000
	} else {
		y += 1900
	}
	day := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if day.Day() != d { // 31 April and the like
		return fmt.Errorf("date %q: %w", v, ErrFormat)
	}
	s.Time = day.Add(s.TimeOfDay)
	s.HasDate = true
	return nil
}

// setPosition parses ddmm.mmm,N|S,dddmm.mmm,E|W. All four empty means no
// position; a partial set is an error.
func (s *Sentence) setPosition(lat, ns, lon, ew string) error {
	if lat == "" && ns == "" && lon == "" && ew == "" {
		return nil
	}
	la, ok := parseCoord(lat, 2, 90)
	if !ok || (ns != "N" && ns != "S") {
		return fmt.Errorf("latitude %q,%q: %w", lat, ns, ErrFormat)
	}
	lo, ok := parseCoord(lon, 3, 180)
	if !ok || (ew != "E" && ew != "W") {
		return fmt.Errorf("longitude %q,%q: %w", lon, ew, ErrFormat)
	}
	if ns == "S" {
		la = -la
	}
	if ew == "W" {
		lo = -lo
	}
	s.Lat, s.Lon, s.HasPosition = la, lo, true
	return nil
}

// parseCoord parses degrees and minutes, "ddmm.mmmm" with up to degDigits
// digits of degrees, into decimal degrees no greater than limit.
func parseCoord(v string, degDigits, limit int) (float64, bool) {
	intLen := len(v)
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			intLen = i
			break
		}
	}
	if intLen < 3 || intLen > degDigits+2 {
		return 0, false
	}
	deg, ok := parseUint(v[:intLen-2], limit)
	if !ok {
		return 0, false
	}
	min, ok := parseDecimal(v[intLen-2:], false)
	if !ok || min >= 60 {
		return 0, false
	}
	d := float64(deg) + min/60
	if d > float64(limit) {
		return 0, false
	}
	return d, true
}

// parseUint parses an unsigned decimal integer no greater than max; the
// empty string is 0.
func parseUint(v string, max int) (int, bool) {
	if len(v) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= max
}

// pow10 holds exact powers of ten for parseDecimal.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal parses [-]digits[.digits] with at most 15 significant
// digits, so that the integer mantissa and the division are exact enough
// for the 15-digit values NMEA carries. It accepts no exponents, signs
// other than a leading '-' (when signed), NaN or Inf.
func parseDecimal(v string, signed bool) (float64, bool) {
	neg := false
	if signed && len(v) > 0 && v[0] == '-' {
		neg = true
		v = v[1:]
	}
	var mant int64
	digits, frac := 0, -1
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' && frac < 0:
			frac = 0
		case c >= '0' && c <= '9':
			if digits == 15 {
				return 0, false
			}
			mant = mant*10 + int64(c-'0')
			if mant != 0 || frac >= 0 {
				digits++
			}
			if frac >= 0 {
				frac++
			}
		default:
			return 0, false
		}
	}
	if digits == 0 && mant == 0 && (len(v) == 0 || v == ".") {
		return 0, false
	}
	if frac < 0 {
		frac = 0
	}
	x := float64(mant) / pow10[frac]
	if neg {
		x = -x
	}
	return x, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
