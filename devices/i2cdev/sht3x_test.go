package i2cdev

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// fmtMeasurement formats m as published (2 decimals).
func fmtMeasurement(m Measurement) string {
	s := fmt.Sprintf("%.2f °C %.2f %%RH", m.Temperature, m.Humidity)
	if m.Pressure != 0 {
		s += fmt.Sprintf(" %.2f hPa", m.Pressure)
	}
	return s
}

func TestSHT3xCRC(t *testing.T) {
	tests := []struct {
		data []byte
		want byte
	}{
		{[]byte{0xBE, 0xEF}, 0x92}, // the datasheet's example
		{[]byte{0x00, 0x00}, 0x81},
		{[]byte{0x62, 0x02}, 0x6F},
		{[]byte{0x66, 0x66}, 0x93},
		{nil, 0xFF},
	}
	for _, tt := range tests {
		if got := SHT3xCRC(tt.data); got != tt.want {
			t.Errorf("SHT3xCRC(% x) = 0x%02x, want 0x%02x", tt.data, got, tt.want)
		}
	}
}

func TestDecodeSHT3x(t *testing.T) {
	tests := []struct {
		name string
		resp [6]byte
		want string // measurement, or error text
	}{
		{"demo", [6]byte{0x62, 0x02, 0x6F, 0x66, 0x66, 0x93}, "22.00 °C 40.00 %RH"},
		{"minimum", [6]byte{0x00, 0x00, 0x81, 0x00, 0x00, 0x81}, "-45.00 °C 0.00 %RH"},
		{"maximum", [6]byte{0xFF, 0xFF, 0xAC, 0xFF, 0xFF, 0xAC}, "130.00 °C 100.00 %RH"},
		{"temperature crc", [6]byte{0x62, 0x02, 0x6E, 0x66, 0x66, 0x93}, "temperature word 62 02: crc 0x6e, computed 0x6f: CRC mismatch"},
		{"humidity crc", [6]byte{0x62, 0x02, 0x6F, 0x66, 0x67, 0x93}, "humidity word 66 67: crc 0x93, computed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeSHT3x(NewSHT3x(nil, 0x44), tt.resp)
			if strings.Contains(tt.want, "crc") {
				if !errors.Is(err, ErrCRC) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %v, want ErrCRC and %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmtMeasurement(m); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSHT3xPlayback(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x45, W: []byte{0x24, 0x00}},
		{Addr: 0x45, R: []byte{0x62, 0x02, 0x6F, 0x66, 0x66, 0x93}},
	}, DontPanic: true}
	m, err := NewSHT3x(bus, 0x45).Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
	if got := fmtMeasurement(m); got != "22.00 °C 40.00 %RH" {
		t.Errorf("got %s", got)
	}
}

func TestSHT3xSimBus(t *testing.T) {
	bus, err := NewSimBus(DemoSHT3x())
	if err != nil {
		t.Fatal(err)
	}
	d := NewSHT3x(bus, 0x44)
	for range 2 { // the command resets the pointer each time
		m, err := d.Sense(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := fmtMeasurement(m); got != "22.00 °C 40.00 %RH" {
			t.Errorf("got %s", got)
		}
	}
	if _, err := NewSHT3x(bus, 0x45).Sense(context.Background()); !errors.Is(err, ErrNACK) {
		t.Errorf("no chip at 0x45: got %v, want ErrNACK", err)
	}
}
