package onewire

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		file  string // in testdata
		milli int
		err   error
	}{
		{"valid.txt", 23125, nil},
		{"room.txt", 21500, nil},
		{"negative.txt", -1062, nil},
		{"crc_no.txt", 0, errCRC},
		{"reset.txt", 0, errReset},
		{"zeros.txt", 0, errZero},
		{"range.txt", 0, errRange},
		{"garbage.txt", 0, errFormat},
		{"truncated.txt", 0, errFormat},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			milli, err := parse(b)
			if !errors.Is(err, tt.err) || milli != tt.milli {
				t.Errorf("parse = %d, %v; want %d, %v", milli, err, tt.milli, tt.err)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	const crc = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"
	const bytes = "72 01 4b 46 7f ff 0e 10 57"
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"three lines", crc + bytes + " t=23125\n\n"},
		{"no verdict", "72 01 4b 46 7f ff 0e 10 57 : crc=57\n" + bytes + " t=23125\n"},
		{"maybe", "72 01 4b 46 7f ff 0e 10 57 : crc=57 MAYBE\n" + bytes + " t=23125\n"},
		{"crc not hex", "72 01 4b 46 7f ff 0e 10 57 : crc=zz YES\n" + bytes + " t=23125\n"},
		{"no crc=", "72 01 4b 46 7f ff 0e 10 57 : 57 YES\n" + bytes + " t=23125\n"},
		{"no colon", "72 01 4b 46 7f ff 0e 10 57 crc=57 YES\n" + bytes + " t=23125\n"},
		{"eight bytes", "72 01 4b 46 7f ff 0e 10 : crc=57 YES\n" + bytes + " t=23125\n"},
		{"byte not hex", crc + "72 01 4b 46 7f ff 0e 10 5g t=23125\n"},
		{"uppercase byte", crc + "72 01 4B 46 7f ff 0e 10 57 t=23125\n"},
		{"no t=", crc + bytes + " 23125\n"},
		{"t empty", crc + bytes + " t=\n"},
		{"t decimal", crc + bytes + " t=23.125\n"},
		{"t hex", crc + bytes + " t=0x5a55\n"},
		{"trailing", crc + bytes + " t=23125 ok\n"},
		{"too long", crc + bytes + " t=23125" + strings.Repeat(" ", maxFile) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if milli, err := parse([]byte(tt.in)); !errors.Is(err, errFormat) {
				t.Errorf("parse(%q) = %d, %v; want %v", tt.in, milli, err, errFormat)
			}
		})
	}
	// Without the final newline it is still a reading.
	if milli, err := parse([]byte(crc + bytes + " t=23125")); err != nil || milli != 23125 {
		t.Errorf("no final newline: %d, %v", milli, err)
	}
}
