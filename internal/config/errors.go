package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ErrInvalid matches every *Error with errors.Is: a configuration was
// refused (as opposed to a file that could not be read).
var ErrInvalid = errors.New("invalid configuration")

// Error is one problem found in a configuration. Parse, Load and
// Validate return either a single *Error or several joined with
// errors.Join; use errors.As to get the first or Errors to get all.
type Error struct {
	File string // file name as given to Parse or Load; empty when unknown
	Line int    // 1-based line; 0 when unknown
	Path string // key path such as "broker.listeners[1].address"; empty for the whole file
	Msg  string // what is wrong

	col int // for ordering errors on one line
	seq int // for a stable order
}

// Error formats e as "file:line: path: msg", leaving out the parts that
// are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	case e.File != "":
		b.WriteString(e.File)
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors returns every *Error in err, which may be a single *Error or
// errors joined with errors.Join. It returns nil if there is none.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *Error:
			out = append(out, x)
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// maxErrors is how many problems one call reports at most.
const maxErrors = 20

// errorList collects problems.
type errorList struct {
	file string
	errs []*Error
}

func (l *errorList) add(e *Error) {
	e.seq = len(l.errs)
	l.errs = append(l.errs, e)
}

func (l *errorList) addf(line, col int, path, format string, args ...any) {
	l.add(&Error{File: l.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...), col: col})
}

// err orders the problems by line, drops repeats, and joins at most
// maxErrors of them. It returns nil if there are none.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := append([]*Error(nil), l.errs...)
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0 // known lines first
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.col != b.col {
			return a.col < b.col
		}
		return a.seq < b.seq
	})
	seen := make(map[string]bool, len(errs))
	var out []error
	more := 0
	for _, e := range errs {
		text := e.Error()
		if seen[text] {
			continue
		}
		seen[text] = true
		if len(out) == maxErrors {
			more++
			continue
		}
		out = append(out, e)
	}
	if more > 0 {
		s := "s"
		if more == 1 {
			s = ""
		}
		out = append(out, &Error{File: l.file, Msg: fmt.Sprintf("too many problems; %d more problem%s not shown", more, s)})
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of the YAML parser (as opposed to
// its scanner). The parser reports 0-based line numbers.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected <document start>": true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"did not find expected <stream-start>":   true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
	"found duplicate %TAG directive":         true,
}

// positionless are YAML errors that do not come with a position.
var positionless = []string{
	"unknown anchor ",
	"the YAML parser failed",
	"attempted to go past the end of stream",
	"document contains excessive aliasing",
	"invalid leading UTF-8 octet",
	"invalid trailing UTF-8 octet",
	"incomplete UTF-8 octet sequence",
	"invalid length of a UTF-8 sequence",
	"invalid Unicode character",
	"control characters are not allowed",
	"input error",
	"invalid UTF-16",
	"incomplete UTF-16",
	"unexpected low surrogate",
	"expected low surrogate",
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntaxError turns an error of the YAML parser into an *Error with the
// right line. The parser reports scanner errors with 1-based lines,
// parser errors with 0-based lines, and leaves out the line entirely
// when it is the first.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblems[msg] {
			// The parser names the line where the enclosing mapping or
			// list starts, 0-based; the line where it went wrong is
			// more use.
			line++
			if l := problemLine(data, msg); l > 0 {
				line = l
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
			line = aliasLine(data, m[1])
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("alias *%s refers to an unknown anchor (define &%s before using it)", m[1], m[1])}
		}
		line = 1
		for _, p := range positionless {
			if strings.HasPrefix(msg, p) {
				line = 0
				break
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "syntax error: " + msg}
}

// problemLine returns the first line at which the YAML parser reports
// problem msg: the smallest number of leading lines of data that give
// it. It returns 0 if data as a whole does not give it.
func problemLine(data []byte, msg string) int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	gives := func(lines int) bool {
		err := parseYAML(data[:ends[lines-1]])
		if err == nil {
			return false
		}
		text := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			text = m[2]
		}
		return text == msg
	}
	lo, hi := 0, len(ends) // lo lines do not give msg, hi lines do
	if !gives(hi) {
		return 0
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if gives(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// parseYAML parses the first two documents of data and returns the
// first error.
func parseYAML(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for range 2 {
		var n yaml.Node
		if err := decodeYAML(dec, &n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}

// aliasLine finds the line of the first alias *name in data, or 0.
func aliasLine(data []byte, name string) int {
	pat := []byte("*" + name)
	off := 0
	for {
		i := bytes.Index(data[off:], pat)
		if i < 0 {
			return 0
		}
		end := off + i + len(pat)
		if end == len(data) || bytes.IndexByte([]byte(" \t\r\n,[]{}"), data[end]) >= 0 {
			return 1 + bytes.Count(data[:off+i], []byte("\n"))
		}
		off = end
	}
}

// checkText reports the first byte sequence that is not allowed in a
// configuration file: invalid UTF-8 and control characters, which the
// YAML library rejects without saying where, and line breaks other than
// LF and CR LF, which the YAML library counts as lines but editors do
// not (so that every line number means the same to both).
func checkText(file string, data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("invalid UTF-8 (byte 0x%02x in column %d); save the file as UTF-8", data[i], col)}
		case r == '\n':
			line++
			col = 0
		case r == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("carriage return without a line feed in column %d; save the file with LF or CR LF line ends", col)}
		case r == '\t' || r == '\r':
		case r == 0xFEFF && i == 0: // byte order mark
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) ||
			r == 0x2028 || r == 0x2029 || r == 0xFEFF || r == 0xFFFE || r == 0xFFFF:
			return &Error{File: file, Line: line, Msg: fmt.Sprintf("character %U in column %d is not allowed in a YAML file", r, col)}
		}
		i += size
		col++
	}
	return nil
}
