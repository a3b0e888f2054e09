package serial

import "bytes"

// splitter cuts a byte stream into lines of at most max bytes, keeping
// at most max bytes buffered. A line longer than max is dropped whole
// (up to its line ending) and reported once.
type splitter struct {
	term     byte // '\n' for lf and crlf, '\r' for cr
	max      int
	buf      []byte
	overlong bool // dropping the rest of an over-long line
}

func newSplitter(lineEnding string, max int) *splitter {
	term := byte('\n')
	if lineEnding == "cr" {
		term = '\r'
	}
	return &splitter{term: term, max: max, buf: make([]byte, 0, min(max, 512))}
}

// feed splits p, calling line for each complete non-empty line (valid
// only during the call, without "\r" and "\n" around it) and tooLong for
// each dropped line.
func (s *splitter) feed(p []byte, line func([]byte), tooLong func()) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, s.term)
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !s.overlong {
			if len(s.buf)+len(chunk) > s.max+1 { // +1: a "\r" before "\n"
				s.overlong = true
				s.buf = s.buf[:0]
			} else {
				s.buf = append(s.buf, chunk...)
			}
		}
		if i < 0 {
			return
		}
		p = p[i+1:]
		if s.overlong {
			s.overlong = false
			tooLong()
			continue
		}
		l := trim(s.buf)
		s.buf = s.buf[:0]
		if len(l) > s.max {
			tooLong()
		} else if len(l) > 0 {
			line(l)
		}
	}
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
