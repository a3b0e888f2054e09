package serial

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/nmea"
)

// Parse errors.
var (
	// ErrGarbage: the line is not in the configured format.
	ErrGarbage = errors.New("serial: line not in the configured format")
	// errSkip: a valid line that carries nothing to publish (an NMEA
	// sentence type other than GGA and RMC).
	errSkip = errors.New("serial: nothing to publish")
)

// maxJSONDepth bounds the nesting of a json line.
const maxJSONDepth = 8

// Parser turns one line (without its line ending) into fields.
type Parser func(line string) ([]devices.Field, error)

// NewParser returns the parser of c's format, applying c.Decimals.
func NewParser(c Config) (Parser, error) {
	for _, p := range c.Check() {
		if p.Key != "port" && !strings.HasPrefix(p.Key, "commands") {
			return nil, fmt.Errorf("serial: %s: %s", p.Key, p.Msg)
		}
	}
	c = c.withDefaults()
	var p Parser
	switch c.Format {
	case "raw":
		field := c.Field
		p = func(line string) ([]devices.Field, error) {
			if !printable(line) {
				return nil, ErrGarbage
			}
			return []devices.Field{{Name: field, Value: devices.String(line)}}, nil
		}
	case "kv":
		p = kvParser(c.Separator, c.KVSeparator)
	case "csv":
		p = csvParser(c.Separator, c.Columns)
	case "json":
		p = parseJSON
	case "regex":
		re, err := regexp.Compile(c.Pattern)
		if err != nil {
			return nil, fmt.Errorf("serial: pattern: %w", err)
		}
		p = regexParser(re)
	case "nmea":
		p = parseNMEA
	default:
		return nil, fmt.Errorf("serial: unknown format %q", c.Format)
	}
	if c.Decimals != nil {
		n := *c.Decimals
		inner := p
		p = func(line string) ([]devices.Field, error) {
			fs, err := inner(line)
			for i := range fs {
				fs[i].Value = fs[i].Value.WithDecimals(n)
			}
			return fs, err
		}
	}
	return p, nil
}

// printable reports whether s is UTF-8 without control characters other
// than tab: what a sensor writes, not line noise.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// value reads s as a number if it is one, else as a string.
func value(s string) devices.Value {
	if v, ok := devices.ParseNumber(s); ok {
		return v
	}
	return devices.String(s)
}

func kvParser(sep, kvSep string) Parser {
	return func(line string) ([]devices.Field, error) {
		if !printable(line) || strings.TrimSpace(line) == "" {
			return nil, ErrGarbage
		}
		var fs []devices.Field
		for pair := range strings.SplitSeq(line, sep) {
			k, v, ok := strings.Cut(pair, kvSep)
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || !devices.ValidFieldName(k) {
				return nil, ErrGarbage
			}
			fs = append(fs, devices.Field{Name: k, Value: value(v)})
		}
		return fs, nil
	}
}

func csvParser(sep string, columns []string) Parser {
	return func(line string) ([]devices.Field, error) {
		if !printable(line) {
			return nil, ErrGarbage
		}
		vals := strings.Split(line, sep)
		if len(vals) != len(columns) {
			return nil, fmt.Errorf("%w: %d values for %d columns", ErrGarbage, len(vals), len(columns))
		}
		fs := make([]devices.Field, 0, len(vals))
		for i, v := range vals {
			if c := columns[i]; c != "" && c != "-" {
				fs = append(fs, devices.Field{Name: c, Value: value(strings.TrimSpace(v))})
			}
		}
		return fs, nil
	}
}

func regexParser(re *regexp.Regexp) Parser {
	names := re.SubexpNames()
	return func(line string) ([]devices.Field, error) {
		if !printable(line) {
			return nil, ErrGarbage
		}
		m := re.FindStringSubmatchIndex(line)
		if m == nil {
			return nil, ErrGarbage
		}
		var fs []devices.Field
		for i, n := range names {
			if n == "" || m[2*i] < 0 {
				continue
			}
			fs = append(fs, devices.Field{Name: n, Value: value(line[m[2*i]:m[2*i+1]])})
		}
		if len(fs) == 0 {
			return nil, ErrGarbage
		}
		return fs, nil
	}
}

// parseJSON reads one object; numbers keep the decimals they are written
// with.
func parseJSON(line string) ([]devices.Field, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, ErrGarbage
	}
	if strings.TrimSpace(line[dec.InputOffset():]) != "" { // trailing data
		return nil, ErrGarbage
	}
	var fs []devices.Field
	if err := flatten(&fs, "", obj, 0); err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, ErrGarbage
	}
	return fs, nil
}

func flatten(fs *[]devices.Field, prefix string, obj map[string]any, depth int) error {
	if depth > maxJSONDepth {
		return ErrGarbage
	}
	for _, k := range sortedKeys(obj) {
		name := prefix + k
		switch v := obj[k].(type) {
		case json.Number:
			n, ok := devices.ParseNumber(v.String())
			if !ok {
				return ErrGarbage
			}
			*fs = append(*fs, devices.Field{Name: name, Value: n})
		case string:
			*fs = append(*fs, devices.Field{Name: name, Value: devices.String(v)})
		case bool:
			*fs = append(*fs, devices.Field{Name: name, Value: devices.String(fmt.Sprint(v))})
		case map[string]any:
			if err := flatten(fs, name+"_", v, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Insertion sort: objects from sensors are small.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// parseNMEA reads a GGA or RMC sentence.
func parseNMEA(line string) ([]devices.Field, error) {
	s, err := nmea.Parse(line)
	switch {
	case errors.Is(err, nmea.ErrUnsupported):
		return nil, errSkip
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrGarbage, err)
	}
	var fs []devices.Field
	add := func(name string, v float64, decimals int) {
		fs = append(fs, devices.Field{Name: name, Value: devices.Number(v, decimals)})
	}
	if s.HasPosition {
		add("lat", s.Lat, 6)
		add("lon", s.Lon, 6)
	}
	switch s.Type {
	case nmea.TypeGGA:
		if s.HasAltitude {
			add("altitude", s.Altitude, 1)
		}
		add("fix", float64(s.Fix), 0)
		add("satellites", float64(s.Satellites), 0)
	case nmea.TypeRMC:
		if s.HasSpeed {
			add("speed", s.SpeedKnots, 2)
		}
		if s.HasCourse {
			add("course", s.CourseDeg, 2)
		}
	}
	if s.HasTime {
		utc := s.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		if !s.HasDate {
			utc = s.Time.UTC().Format("15:04:05.000")
		}
		fs = append(fs, devices.Field{Name: "utc", Value: devices.String(utc)})
	}
	if len(fs) == 0 {
		return nil, errSkip
	}
	return fs, nil
}
