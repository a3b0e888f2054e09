package i2cdev

// DemoBME280 returns the register image of a BME280 at 0x76 that
// reads 21.50 °C, 45.00 %RH and 1013.25 hPa. Its calibration is the
// datasheet's example for temperature and pressure and typical
// humidity values (dig_H1 75, dig_H2 362, dig_H3 0, dig_H4 313, dig_H5
// 50, dig_H6 30); its status register says the measurement is done.
func DemoBME280() SimChip {
	return SimChip{Addr: 0x76, Registers: map[uint16][]byte{
		bmeRegChipID: {BME280ChipID},
		bmeRegCalib1: {
			0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27,
			0x0b, 0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b,
		},
		bmeRegCalib2: {0x6a, 0x01, 0x00, 0x13, 0x29, 0x03, 0x1e},
		bmeRegStatus: {0x00},
		// adc_P 408020, adc_T 508448, adc_H 28213.
		bmeRegData: {0x63, 0x9d, 0x40, 0x7c, 0x22, 0x00, 0x6e, 0x35},
	}}
}

// DemoSHT3x returns the register image of an SHT3x at 0x44 that reads
// 22.00 °C and 40.00 %RH: its measurement response (raw 0x6202 and
// 0x6666, each with its CRC) is at 0x2400, the single-shot command.
func DemoSHT3x() SimChip {
	return SimChip{Addr: 0x44, PointerBytes: 2, Registers: map[uint16][]byte{
		shtMeasureHigh: {0x62, 0x02, 0x6f, 0x66, 0x66, 0x93},
	}}
}
