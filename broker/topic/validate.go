package topic

import (
	"errors"
	"strings"
)

// Sentinel errors returned (possibly wrapped) by ValidName and ValidFilter.
// Test with errors.Is.
var (
	ErrInvalidName   = errors.New("topic: invalid topic name")
	ErrInvalidFilter = errors.New("topic: invalid topic filter")
	ErrInvalidShare  = errors.New("topic: invalid shared subscription")
)

// Wrapped variants, allocated once so that validation never allocates.
var (
	errNameEmpty     = wrap(ErrInvalidName, "empty")
	errNameLong      = wrap(ErrInvalidName, "longer than 65535 bytes")
	errNameWildcard  = wrap(ErrInvalidName, "contains a wildcard")
	errNameNUL       = wrap(ErrInvalidName, "contains U+0000")
	errFilterEmpty   = wrap(ErrInvalidFilter, "empty")
	errFilterLong    = wrap(ErrInvalidFilter, "longer than 65535 bytes")
	errFilterPlus    = wrap(ErrInvalidFilter, "'+' is not a whole level")
	errFilterHash    = wrap(ErrInvalidFilter, "'#' is not the whole last level")
	errFilterNUL     = wrap(ErrInvalidFilter, "contains U+0000")
	errShareGroup    = wrap(ErrInvalidShare, "empty share name")
	errShareGroupChr = wrap(ErrInvalidShare, "share name contains '+' or '#'")
	errShareGroupNUL = wrap(ErrInvalidShare, "share name contains U+0000")
	errShareNoFilter = wrap(ErrInvalidShare, "missing topic filter")
)

type wrapped struct {
	err    error
	reason string
}

func wrap(err error, reason string) error { return &wrapped{err, reason} }
func (w *wrapped) Error() string          { return w.err.Error() + ": " + w.reason }
func (w *wrapped) Unwrap() error          { return w.err }

// maxLen is the longest UTF-8 string an MQTT packet can carry.
const maxLen = 65535

// sharePrefix introduces a shared subscription filter (MQTT 5 section 4.8.2).
const sharePrefix = "$share/"

// ValidName reports whether name is a valid PUBLISH topic name: non-empty,
// at most 65535 bytes, without wildcards ('+', '#') and without U+0000.
// UTF-8 well-formedness is left to the packet decoder.
func ValidName(name string) error {
	switch {
	case name == "":
		return errNameEmpty
	case len(name) > maxLen:
		return errNameLong
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '+', '#':
			return errNameWildcard
		case 0:
			return errNameNUL
		}
	}
	return nil
}

// ValidFilter reports whether filter is a valid SUBSCRIBE topic filter:
// non-empty, at most 65535 bytes, without U+0000, '+' only as a whole level
// and '#' only as the whole last level. A shared subscription
// "$share/{group}/{filter}" needs a non-empty group without '+', '#' or '/'
// and a non-empty valid filter [MQTT-4.8.2-1] [MQTT-4.8.2-2].
func ValidFilter(filter string) error {
	switch {
	case filter == "":
		return errFilterEmpty
	case len(filter) > maxLen:
		return errFilterLong
	}
	group, f, shared := ParseShared(filter)
	if !shared {
		return validPlainFilter(filter)
	}
	switch {
	case group == "":
		return errShareGroup
	case strings.ContainsAny(group, "+#"):
		return errShareGroupChr
	case strings.IndexByte(group, 0) >= 0:
		return errShareGroupNUL
	case f == "":
		return errShareNoFilter
	}
	return validPlainFilter(f)
}

// validPlainFilter checks a non-empty filter without $share prefix.
func validPlainFilter(f string) error {
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '+':
			if (i > 0 && f[i-1] != '/') || (i+1 < len(f) && f[i+1] != '/') {
				return errFilterPlus
			}
		case '#':
			if (i > 0 && f[i-1] != '/') || i+1 != len(f) {
				return errFilterHash
			}
		case 0:
			return errFilterNUL
		}
	}
	return nil
}

// ParseShared splits a shared subscription filter "$share/{group}/{f}".
// For any other filter it returns shared=false and f=filter. A malformed
// shared filter ("$share/g" without a second '/') yields shared=true and
// an empty f; ValidFilter rejects it.
func ParseShared(filter string) (group, f string, shared bool) {
	rest, ok := strings.CutPrefix(filter, sharePrefix)
	if !ok {
		return "", filter, false
	}
	group, f, _ = strings.Cut(rest, "/")
	return group, f, true
}
