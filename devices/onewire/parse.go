package onewire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxFile bounds the w1_slave file read; the kernel's is 75 bytes.
const maxFile = 256

// DS18B20 range, in thousandths of a degree Celsius.
const (
	minMilli = -55000
	maxMilli = 125000
)

// resetMilli is the temperature register's power-on value, 85.000 °C.
const resetMilli = 85000

// Why a w1_slave file is not published.
var (
	errFormat = errors.New("not a w1_slave reading")
	errCRC    = errors.New("CRC check failed")
	errReset  = errors.New("85.000 °C: power-on reset value, the sensor did not convert")
	errZero   = errors.New("all-zero scratchpad: data line shorted or sensor lost")
	errRange  = errors.New("outside the DS18B20 range -55..+125 °C")
)

// parse returns the temperature, in thousandths of a degree Celsius, in
// the contents of a DS18B20's w1_slave file:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
func parse(b []byte) (int, error) {
	if len(b) > maxFile {
		return 0, fmt.Errorf("%w: longer than %d bytes", errFormat, maxFile)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2 {
		return 0, fmt.Errorf("%w: %d lines, want 2", errFormat, len(lines))
	}
	f := strings.Fields(lines[0])
	if len(f) != 12 || !scratchpad(f[:9]) || f[9] != ":" ||
		!strings.HasPrefix(f[10], "crc=") || !hexByte(f[10][len("crc="):]) || f[11] != "YES" && f[11] != "NO" {
		return 0, fmt.Errorf("%w: bad CRC line %q", errFormat, lines[0])
	}
	if f[11] == "NO" {
		return 0, errCRC
	}
	f = strings.Fields(lines[1])
	if len(f) != 10 || !scratchpad(f[:9]) || !strings.HasPrefix(f[9], "t=") {
		return 0, fmt.Errorf("%w: bad temperature line %q", errFormat, lines[1])
	}
	t, err := strconv.Atoi(strings.TrimPrefix(f[9], "t="))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errFormat, err)
	}
	switch {
	case strings.Trim(strings.Join(f[:9], ""), "0") == "":
		return 0, errZero
	case t == resetMilli:
		return 0, errReset
	case t < minMilli || t > maxMilli:
		return 0, fmt.Errorf("%w: t=%d", errRange, t)
	}
	return t, nil
}

// scratchpad reports whether f are nine hex bytes.
func scratchpad(f []string) bool {
	for _, s := range f {
		if !hexByte(s) {
			return false
		}
	}
	return len(f) == 9
}

// hexByte reports whether s is two lowercase hex digits.
func hexByte(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := 0; i < 2; i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
