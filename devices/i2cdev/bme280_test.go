package i2cdev

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// datasheetCal is the BMP280 datasheet's worked example (section 3.12)
// for temperature and pressure, with typical humidity parameters.
var datasheetCal = calibration{
	T1: 27504, T2: 26435, T3: -1000,
	P1: 36477, P2: -10685, P3: 3024, P4: 2855, P5: 140, P6: -7, P7: 15500, P8: -14600, P9: 6000,
	H1: 75, H2: 362, H3: 0, H4: 313, H5: 50, H6: 30,
}

func TestCompensateDatasheetExample(t *testing.T) {
	c := datasheetCal
	centi, tFine := c.temperature(519888)
	if centi != 2508 || tFine != 128422 {
		t.Errorf("temperature(519888) = %d, t_fine %d; want 2508 (25.08 °C), t_fine 128422", centi, tFine)
	}
	p := c.pressure(415148, tFine)
	// The datasheet's table prints 25767236 (100653.27 Pa); its published
	// 64-bit formula, executed exactly, gives 25767233 = 100653.25 Pa
	// (a known 3/256 Pa difference, within the datasheet's note that the
	// integer result may deviate slightly); its double formula gives
	// 100653.26 Pa.
	if p != 25767233 || p>>8 != 100653 {
		t.Errorf("pressure(415148) = %d (%.2f Pa), want 25767233 (100653.25 Pa)", p, float64(p)/256)
	}
	if d := pressureDouble(c, 415148, tFine); math.Abs(float64(p)/256-d) > 0.1 {
		t.Errorf("pressure %.2f Pa, double formula %.2f Pa", float64(p)/256, d)
	}
}

// pressureDouble is the datasheet's double-precision pressure formula,
// in Pa.
func pressureDouble(c calibration, adcP, tFine int32) float64 {
	v1 := float64(tFine)/2 - 64000
	v2 := v1 * v1 * float64(c.P6) / 32768
	v2 += v1 * float64(c.P5) * 2
	v2 = v2/4 + float64(c.P4)*65536
	v1 = (float64(c.P3)*v1*v1/524288 + float64(c.P2)*v1) / 524288
	v1 = (1 + v1/32768) * float64(c.P1)
	p := 1048576 - float64(adcP)
	p = (p - v2/4096) * 6250 / v1
	v1 = float64(c.P9) * p * p / 2147483648
	v2 = p * float64(c.P8) / 32768
	return p + (v1+v2+float64(c.P7))/16
}

// humidityDouble is the datasheet's double-precision humidity formula,
// in %RH.
func humidityDouble(c calibration, adcH, tFine int32) float64 {
	x := float64(tFine) - 76800
	h := (float64(adcH) - (float64(c.H4)*64 + float64(c.H5)/16384*x)) *
		(float64(c.H2) / 65536 * (1 + float64(c.H6)/67108864*x*(1+float64(c.H3)/67108864*x)))
	h *= 1 - float64(c.H1)*h/524288
	return min(max(h, 0), 100)
}

func TestHumidityMatchesDouble(t *testing.T) {
	cals := map[string]calibration{"datasheet": datasheetCal}
	other := datasheetCal
	other.H1, other.H2, other.H3, other.H4, other.H5, other.H6 = 75, 370, 0, 298, 50, 30
	cals["other"] = other
	for name, c := range cals {
		for _, adcT := range []int32{450000, 508448, 519888, 560000} {
			_, tFine := c.temperature(adcT)
			for _, adcH := range []int32{18000, 22000, 28213, 32000, 36000, 40000} {
				got := float64(c.humidity(adcH, tFine)) / 1024
				want := humidityDouble(c, adcH, tFine)
				if math.Abs(got-want) > 0.1 {
					t.Errorf("%s: adc_T %d adc_H %d: %.3f %%RH, double formula %.3f", name, adcT, adcH, got, want)
				}
			}
		}
	}
}

func TestHumidityClamped(t *testing.T) {
	c := datasheetCal
	_, tFine := c.temperature(519888)
	if h := c.humidity(0, tFine); h != 0 {
		t.Errorf("humidity(0) = %d, want 0", h)
	}
	if h := c.humidity(65535, tFine); h != 100<<10 {
		t.Errorf("humidity(65535) = %d, want %d (100 %%RH)", h, 100<<10)
	}
}

func TestParseCalibration(t *testing.T) {
	c1 := []byte{
		0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27,
		0x0b, 0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0xAA, 0x4b,
	}
	tests := []struct {
		name   string
		e1     []byte // 0xE1..0xE7
		h2     int16
		h3     uint8
		h4, h5 int16
		h6     int8
	}{
		{"typical", []byte{0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e}, 362, 0, 313, 50, 30},
		// dig_H4 0xF85 (-123): 0xE4 0xF8, low nibble of 0xE5 5; dig_H5
		// 0x7A3 (1955): 0xE6 0x7A, high nibble of 0xE5 3.
		{"nibbles", []byte{0x00, 0x80, 0xFF, 0xF8, 0x35, 0x7A, 0xF6}, -32768, 255, -123, 1955, -10},
		{"negative H5", []byte{0x01, 0x00, 0x01, 0x7F, 0xFF, 0x80, 0x7F}, 1, 1, 0x7FF, -2048 + 0xF, 127},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseCalibration(c1, tt.e1)
			want := datasheetCal
			want.H2, want.H3, want.H4, want.H5, want.H6 = tt.h2, tt.h3, tt.h4, tt.h5, tt.h6
			if c != want {
				t.Errorf("got  %+v\nwant %+v", c, want)
			}
		})
	}
}

// bmeInit is the transactions of NewBME280 on the demo chip.
func bmeInit(chip SimChip) []i2ctest.IO {
	r := chip.Registers
	return []i2ctest.IO{
		{Addr: chip.Addr, W: []byte{0xD0}, R: r[0xD0]},
		{Addr: chip.Addr, W: []byte{0x88}, R: r[0x88]},
		{Addr: chip.Addr, W: []byte{0xE1}, R: r[0xE1]},
	}
}

func TestBME280Playback(t *testing.T) {
	chip := DemoBME280()
	ops := append(bmeInit(chip),
		i2ctest.IO{Addr: 0x76, W: []byte{0xF2, 0x01}},
		i2ctest.IO{Addr: 0x76, W: []byte{0xF4, 0x25}},
		i2ctest.IO{Addr: 0x76, W: []byte{0xF3}, R: []byte{0x08}},
		i2ctest.IO{Addr: 0x76, W: []byte{0xF3}, R: []byte{0x01}}, // im_update only: done
		i2ctest.IO{Addr: 0x76, W: []byte{0xF7}, R: chip.Registers[0xF7]},
	)
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d, err := NewBME280(bus, 0x76)
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Sense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
	if got := fmtMeasurement(m); got != "21.50 °C 45.00 %RH 1013.25 hPa" {
		t.Errorf("got %s", got)
	}
}

func TestNewBME280WrongChip(t *testing.T) {
	tests := []struct {
		id   byte
		want string
	}{
		{0x58, "bme280 at 0x76: chip id 0x58 is a BMP280 (no humidity sensor), not a BME280 (0x60): wrong chip"},
		{0x00, "bme280 at 0x76: chip id 0x00, want 0x60: wrong chip"},
		{0x61, "chip id 0x61, want 0x60"},
	}
	for _, tt := range tests {
		bus := &i2ctest.Playback{Ops: []i2ctest.IO{{Addr: 0x76, W: []byte{0xD0}, R: []byte{tt.id}}}, DontPanic: true}
		_, err := NewBME280(bus, 0x76)
		if !errors.Is(err, ErrWrongChip) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("id 0x%02x: got %v, want ErrWrongChip and %q", tt.id, err, tt.want)
		}
	}
}

func TestBME280NoData(t *testing.T) {
	tests := []struct {
		name string
		reg  uint16
		data []byte
		want string
	}{
		{"still measuring", 0xF3, []byte{0x08}, "still measuring after 10 polls"},
		{"reset values", 0xF7, []byte{0x80, 0x00, 0x00, 0x80, 0x00, 0x00, 0x80, 0x00}, "hold no measurement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus, err := NewSimBus(DemoBME280())
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewBME280(bus, 0x76)
			if err != nil {
				t.Fatal(err)
			}
			if err := bus.Set(0x76, tt.reg, tt.data...); err != nil {
				t.Fatal(err)
			}
			_, err = d.Sense(context.Background())
			if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrNoData and %q", err, tt.want)
			}
		})
	}
}

func TestBME280SenseCancelled(t *testing.T) {
	bus, err := NewSimBus(DemoBME280())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewBME280(bus, 0x76)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Sense(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
