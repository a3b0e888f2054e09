package i2cdev

import "encoding/binary"

// calibration holds a BME280's trimming parameters, named as in the
// datasheet (section 4.2.2).
type calibration struct {
	T1                             uint16
	T2, T3                         int16
	P1                             uint16
	P2, P3, P4, P5, P6, P7, P8, P9 int16
	H1                             uint8
	H2                             int16
	H3                             uint8
	H4, H5                         int16 // 12-bit, signed
	H6                             int8
}

// parseCalibration decodes registers 0x88..0xA1 (c1, 26 bytes) and
// 0xE1..0xE7 (c2, 7 bytes). Words are little-endian; dig_H4 and dig_H5
// are 12-bit values sharing register 0xE5: dig_H4 is 0xE4 (the high 8
// bits, signed) and the low nibble of 0xE5, dig_H5 is 0xE6 (the high 8
// bits, signed) and the high nibble of 0xE5.
func parseCalibration(c1, c2 []byte) calibration {
	u16 := func(b []byte, i int) uint16 { return binary.LittleEndian.Uint16(b[i:]) }
	s16 := func(b []byte, i int) int16 { return int16(u16(b, i)) }
	return calibration{
		T1: u16(c1, 0), T2: s16(c1, 2), T3: s16(c1, 4),
		P1: u16(c1, 6), P2: s16(c1, 8), P3: s16(c1, 10), P4: s16(c1, 12), P5: s16(c1, 14),
		P6: s16(c1, 16), P7: s16(c1, 18), P8: s16(c1, 20), P9: s16(c1, 22),
		// c1[24] (0xA0) is reserved.
		H1: c1[25],
		H2: s16(c2, 0),
		H3: c2[2],
		H4: int16(int8(c2[3]))<<4 | int16(c2[4]&0x0F),
		H5: int16(int8(c2[5]))<<4 | int16(c2[4]>>4),
		H6: int8(c2[6]),
	}
}

// temperature returns the temperature in 0.01 °C and t_fine, the fine
// temperature the other compensations take (datasheet section 4.2.3,
// 32-bit integer formula).
func (c *calibration) temperature(adcT int32) (centi, tFine int32) {
	t1 := int32(c.T1)
	v1 := ((adcT>>3 - t1<<1) * int32(c.T2)) >> 11
	d := adcT>>4 - t1
	v2 := (((d * d) >> 12) * int32(c.T3)) >> 14
	tFine = v1 + v2
	return (tFine*5 + 128) >> 8, tFine
}

// pressure returns the pressure in Pa as Q24.8 (1/256 Pa) (datasheet
// section 4.2.3, 64-bit integer formula); 0 if the calibration is
// unusable.
func (c *calibration) pressure(adcP, tFine int32) uint32 {
	v1 := int64(tFine) - 128000
	v2 := v1 * v1 * int64(c.P6)
	v2 += (v1 * int64(c.P5)) << 17
	v2 += int64(c.P4) << 35
	v1 = (v1*v1*int64(c.P3))>>8 + (v1*int64(c.P2))<<12
	v1 = ((int64(1)<<47 + v1) * int64(c.P1)) >> 33
	if v1 == 0 {
		return 0 // division by zero
	}
	p := 1048576 - int64(adcP)
	p = ((p<<31 - v2) * 3125) / v1
	v1 = (int64(c.P9) * (p >> 13) * (p >> 13)) >> 25
	v2 = (int64(c.P8) * p) >> 19
	p = (p+v1+v2)>>8 + int64(c.P7)<<4
	return uint32(p)
}

// humidity returns the relative humidity in %RH as Q22.10 (1/1024 %RH),
// 0..100 %RH (datasheet section 4.2.3, 32-bit integer formula).
func (c *calibration) humidity(adcH, tFine int32) uint32 {
	x := tFine - 76800
	a := (adcH<<14 - int32(c.H4)<<20 - int32(c.H5)*x + 16384) >> 15
	b := ((((x*int32(c.H6))>>10)*(((x*int32(c.H3))>>11)+32768))>>10 + 2097152) * int32(c.H2)
	x = a * ((b + 8192) >> 14)
	x -= ((((x >> 15) * (x >> 15)) >> 7) * int32(c.H1)) >> 4
	x = min(max(x, 0), 419430400)
	return uint32(x >> 12)
}

// measurement compensates raw values.
func (c *calibration) measurement(adcT, adcP, adcH int32) Measurement {
	centi, tFine := c.temperature(adcT)
	return Measurement{
		Temperature: float64(centi) / 100,
		Pressure:    float64(c.pressure(adcP, tFine)) / 256 / 100,
		Humidity:    float64(c.humidity(adcH, tFine)) / 1024,
	}
}
