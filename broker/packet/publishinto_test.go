package packet

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodePublishInto checks the broker's allocation-free path against
// Decode on every PUBLISH of the canonical table, the malformed ones
// included, with a reused target so that nothing leaks from one packet to
// the next.
func TestDecodePublishInto(t *testing.T) {
	var p Publish
	n := 0
	for _, tc := range table {
		fh, hl, err := DecodeFixedHeader(tc.raw)
		if err != nil || fh.Type != PUBLISH || len(tc.raw) < hl+fh.Remaining {
			continue
		}
		n++
		body := tc.raw[hl:]
		want, werr := Decode(fh, body, tc.version)
		gerr := DecodePublishInto(fh, body, tc.version, &p)
		if (werr == nil) != (gerr == nil) || (werr != nil && !errors.Is(gerr, werr)) {
			t.Errorf("%s: error = %v, Decode says %v", tc.name, gerr, werr)
			continue
		}
		if werr == nil {
			if d := cmp.Diff(want, &p, cmpOpts); d != "" {
				t.Errorf("%s: (-Decode +DecodePublishInto)\n%s", tc.name, d)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d PUBLISH entries in the table", n)
	}
	if err := DecodePublishInto(FixedHeader{Type: PUBACK, Remaining: 2}, []byte{0, 1}, Version311, &p); err == nil {
		t.Error("a PUBACK decoded as a PUBLISH")
	}
}
