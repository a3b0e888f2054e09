package i2cdev

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// SHT3x commands and timing (Sensirion SHT3x-DIS datasheet).
const (
	// shtMeasureHigh is single shot, high repeatability, clock
	// stretching disabled.
	shtMeasureHigh = 0x2400
	shtRespLen     = 6 // T msb, lsb, crc, RH msb, lsb, crc
)

// shtMeasureTime is how long a high-repeatability measurement takes at
// most (15 ms), with a margin; the chip does not acknowledge reads
// before.
const shtMeasureTime = 16 * time.Millisecond

// SHT3x is a Sensirion SHT30, SHT31 or SHT35 temperature and humidity
// sensor on an I²C bus. It is not safe for concurrent use.
type SHT3x struct {
	dev i2c.Dev
}

// NewSHT3x returns the driver of the SHT3x at addr on bus. It does no
// I/O: the chip has no id register; a missing chip shows with the first
// measurement.
func NewSHT3x(bus i2c.Bus, addr uint16) *SHT3x {
	return &SHT3x{dev: i2c.Dev{Bus: bus, Addr: addr}}
}

// String names the chip and its address.
func (d *SHT3x) String() string { return fmt.Sprintf("sht3x at %#x", d.dev.Addr) }

// Sense runs one single-shot, high-repeatability measurement. A word
// whose CRC does not match gives an error wrapping ErrCRC.
func (d *SHT3x) Sense(ctx context.Context) (Measurement, error) {
	if err := d.dev.Tx([]byte{shtMeasureHigh >> 8, shtMeasureHigh & 0xFF}, nil); err != nil {
		return Measurement{}, fmt.Errorf("i2cdev: %v: measure command: %w", d, err)
	}
	if err := sleep(ctx, shtMeasureTime); err != nil {
		return Measurement{}, err
	}
	var b [shtRespLen]byte
	if err := d.dev.Tx(nil, b[:]); err != nil {
		return Measurement{}, fmt.Errorf("i2cdev: %v: read measurement: %w", d, err)
	}
	return decodeSHT3x(d, b)
}

// decodeSHT3x checks and converts a measurement response; d names the
// chip in errors.
func decodeSHT3x(d fmt.Stringer, b [shtRespLen]byte) (Measurement, error) {
	for i, name := range []string{"temperature", "humidity"} {
		w := b[3*i : 3*i+3]
		if crc := SHT3xCRC(w[:2]); crc != w[2] {
			return Measurement{}, fmt.Errorf("i2cdev: %v: %s word % x: crc 0x%02x, computed 0x%02x: %w", d, name, w[:2], w[2], crc, ErrCRC)
		}
	}
	rawT := float64(uint16(b[0])<<8 | uint16(b[1]))
	rawH := float64(uint16(b[3])<<8 | uint16(b[4]))
	return Measurement{
		Temperature: -45 + 175*rawT/65535,
		Humidity:    100 * rawH / 65535,
	}, nil
}

// SHT3xCRC returns the CRC-8 the SHT3x appends to each 16-bit word:
// polynomial 0x31 (x⁸+x⁵+x⁴+1), initial value 0xFF, no reflection, no
// final XOR. SHT3xCRC([]byte{0xBE, 0xEF}) is 0x92.
func SHT3xCRC(data []byte) byte {
	crc := byte(0xFF)
	for _, b := range data {
		crc ^= b
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x31
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
