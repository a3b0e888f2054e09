package packet

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpus in testdata/fuzz from the table")

// FuzzDecode reads arbitrary bytes as a packet. Read must not panic, must
// agree with DecodeFixedHeader and Decode on the same bytes, must respect
// maxSize, and whatever decodes must encode (to Size bytes, no more than it
// came in) and decode again to the same packet.
func FuzzDecode(f *testing.F) {
	for _, tc := range table {
		f.Add(tc.raw, tc.version, uint32(0))
		f.Add(tc.raw, tc.version, uint32(len(tc.raw)-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, version byte, maxSize uint32) {
		max := int(maxSize % (1 << 20))
		r := bytes.NewReader(data)
		p, err := Read(r, max, version)
		read := len(data) - r.Len()

		fh, hlen, herr := DecodeFixedHeader(data)
		total := hlen + fh.Remaining
		switch {
		case herr == ErrIncomplete:
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("incomplete header: Read error %v", err)
			}
			return
		case herr != nil:
			if !sameError(err, herr) {
				t.Fatalf("header error %v, Read error %v", herr, err)
			}
			return
		case max > 0 && total > max:
			if !errors.Is(err, ErrTooLarge) || read != hlen {
				t.Fatalf("%d-byte packet over limit %d: Read error %v after %d bytes", total, max, err, read)
			}
			return
		case len(data) < total:
			if err != io.ErrUnexpectedEOF {
				t.Fatalf("truncated packet: Read error %v", err)
			}
			return
		}
		if read != total {
			t.Fatalf("Read consumed %d bytes of a %d-byte packet", read, total)
		}
		p2, err2 := Decode(fh, data[hlen:total], version)
		if !sameError(err, err2) {
			t.Fatalf("Read error %v, Decode error %v", err, err2)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("decode error %v is not an *Error", err)
			}
			return
		}
		if diff := cmp.Diff(p, p2, cmpOpts); diff != "" {
			t.Fatalf("Read and Decode differ (-Read +Decode):\n%s", diff)
		}
		checkReencode(t, p, version, total)
	})
}

// checkReencode encodes a decoded packet and decodes it again.
func checkReencode(t *testing.T, p Packet, version byte, inSize int) {
	t.Helper()
	enc, err := Append(nil, p, version)
	if err != nil {
		t.Fatalf("Append of decoded %#v: %v", p, err)
	}
	if n := Size(p, version); n != len(enc) {
		t.Fatalf("Size = %d, Append wrote %d bytes", n, len(enc))
	}
	if len(enc) > inSize {
		t.Fatalf("canonical form of %d bytes is longer than the %d-byte input", len(enc), inSize)
	}
	again, err := decodeWhole(enc, version)
	if err != nil {
		t.Fatalf("decode of re-encoded % x: %v", enc, err)
	}
	if diff := cmp.Diff(p, again, cmpOpts); diff != "" {
		t.Fatalf("re-encoded packet differs (-first +again):\n%s", diff)
	}
	enc2, err := Append(nil, again, version)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("canonical form is not stable:\n% x\n% x (%v)", enc, enc2, err)
	}
}

// chunkReader returns data in two reads split at a point.
type chunkReader struct {
	data  []byte
	split int
	off   int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if c.off >= len(c.data) {
		return 0, io.EOF
	}
	end := len(c.data)
	if c.off < c.split {
		end = c.split
	}
	n := copy(b, c.data[c.off:end])
	c.off += n
	return n, nil
}

// FuzzDecodeSplit checks that Read gives the same result however the
// stream is cut: whole, in two chunks at a fuzzed point, or a byte at a time.
func FuzzDecodeSplit(f *testing.F) {
	for _, tc := range table {
		f.Add(tc.raw, tc.version, uint16(len(tc.raw)/2))
		f.Add(tc.raw, tc.version, uint16(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, version byte, split uint16) {
		whole := bytes.NewReader(data)
		want, wantErr := Read(whole, 0, version)
		wantRead := len(data) - whole.Len()

		chunks := &chunkReader{data: data, split: int(split) % (len(data) + 1)}
		got, err := Read(chunks, 0, version)
		if !sameError(err, wantErr) || chunks.off != wantRead {
			t.Fatalf("split at %d: error %v after %d bytes, want %v after %d", chunks.split, err, chunks.off, wantErr, wantRead)
		}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Fatalf("split at %d (-whole +split):\n%s", chunks.split, diff)
		}

		one := bytes.NewReader(data)
		got, err = Read(iotest.OneByteReader(one), 0, version)
		if !sameError(err, wantErr) || len(data)-one.Len() != wantRead {
			t.Fatalf("one byte at a time: error %v, want %v", err, wantErr)
		}
		if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
			t.Fatalf("one byte at a time (-whole +onebyte):\n%s", diff)
		}
	})
}

// corpusFile renders fuzz arguments in the "go test fuzz v1" format.
func corpusFile(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch a := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", a)
		default:
			fmt.Fprintf(&b, "%T(%v)\n", a, a)
		}
	}
	return b.Bytes()
}

// TestFuzzCorpus checks that testdata/fuzz holds a seed file for each table
// entry; go test -run TestFuzzCorpus -update-corpus rewrites them.
func TestFuzzCorpus(t *testing.T) {
	for _, tc := range table {
		name := strings.ReplaceAll(tc.name, "/", "-")
		files := map[string][]byte{
			filepath.Join("testdata", "fuzz", "FuzzDecode", name):      corpusFile(tc.raw, tc.version, uint32(0)),
			filepath.Join("testdata", "fuzz", "FuzzDecodeSplit", name): corpusFile(tc.raw, tc.version, uint16(len(tc.raw)/2)),
		}
		for path, want := range files {
			if *updateCorpus {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale (%v); run go test -run TestFuzzCorpus -update-corpus", path, err)
			}
		}
	}
}
