package packet

import (
	"errors"

	"github.com/google/go-cmp/cmp"
)

// tcase is one entry of the canonical table in packets_test.go.
type tcase struct {
	name    string
	version byte
	raw     []byte // the whole packet, fixed header included
	pkt     Packet // the decoded packet; nil when err is set
	err     error  // the error the decoder must return, matched by code
	// noncanonical marks input that decodes but that Append writes in
	// another (shorter or reordered) form.
	noncanonical bool
}

// pset returns p with the single-valued properties ids marked present.
func pset(p Properties, ids ...PropID) Properties {
	for _, id := range ids {
		p.Set(id)
	}
	return p
}

// cmpOpts compares packets field by field, including which properties are
// present.
var cmpOpts = cmp.Options{cmp.AllowUnexported(Properties{})}

// decodeWhole decodes a packet held whole in b, as the table stores it.
func decodeWhole(b []byte, version byte) (Packet, error) {
	fh, n, err := DecodeFixedHeader(b)
	if err != nil {
		return nil, err
	}
	return Decode(fh, b[n:], version)
}

// sameError reports whether two errors are the same for the tests: both
// nil, or equal codes with equal text.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	var ea, eb *Error
	if errors.As(a, &ea) && errors.As(b, &eb) {
		return *ea == *eb
	}
	return a.Error() == b.Error()
}
