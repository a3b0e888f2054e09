package i2cdev

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// BME280 registers and values (Bosch BST-BME280-DS002).
const (
	bmeRegCalib1  = 0x88 // 26 bytes: dig_T1..dig_P9, reserved, dig_H1
	bmeRegChipID  = 0xD0
	bmeRegCalib2  = 0xE1 // 7 bytes: dig_H2..dig_H6
	bmeRegCtrlHum = 0xF2
	bmeRegStatus  = 0xF3
	bmeRegCtrl    = 0xF4
	bmeRegData    = 0xF7 // 8 bytes: press[3], temp[3], hum[2]

	bmeCalib1Len = 26
	bmeCalib2Len = 7
	bmeDataLen   = 8

	// BME280ChipID is the BME280's chip id (register 0xD0).
	BME280ChipID = 0x60
	// bmp280ChipID is the chip id of the BMP280, which has no humidity
	// sensor but the same address and pinout.
	bmp280ChipID = 0x58

	bmeHumX1     = 0x01                       // ctrl_hum: osrs_h ×1
	bmeMeasForce = 0b001<<5 | 0b001<<2 | 0b01 // ctrl_meas: osrs_t ×1, osrs_p ×1, forced mode
	bmeMeasuring = 1 << 3                     // status: conversion running
	bmeSkipped20 = 0x80000                    // a 20-bit value that was not measured
	bmeSkipped16 = 0x8000                     // a 16-bit value that was not measured
)

// Measurement timing with ×1 oversampling: at most 9.3 ms (datasheet
// section 9.1), then the status is polled.
const (
	bmeMeasureTime = 10 * time.Millisecond
	bmePollGap     = 2 * time.Millisecond
	bmePolls       = 10
)

// BME280 is a Bosch BME280 temperature, humidity and pressure sensor on
// an I²C bus. It is not safe for concurrent use.
type BME280 struct {
	dev i2c.Dev
	cal calibration
}

// NewBME280 checks that the chip at addr on bus is a BME280 and reads
// its calibration. A chip with another id gives an error wrapping
// ErrWrongChip.
func NewBME280(bus i2c.Bus, addr uint16) (*BME280, error) {
	d := &BME280{dev: i2c.Dev{Bus: bus, Addr: addr}}
	id, err := d.read(bmeRegChipID, 1)
	if err != nil {
		return nil, err
	}
	switch id[0] {
	case BME280ChipID:
	case bmp280ChipID:
		return nil, fmt.Errorf("i2cdev: bme280 at %#x: chip id 0x%02x is a BMP280 (no humidity sensor), not a BME280 (0x%02x): %w",
			addr, id[0], BME280ChipID, ErrWrongChip)
	default:
		return nil, fmt.Errorf("i2cdev: bme280 at %#x: chip id 0x%02x, want 0x%02x: %w", addr, id[0], BME280ChipID, ErrWrongChip)
	}
	c1, err := d.read(bmeRegCalib1, bmeCalib1Len)
	if err != nil {
		return nil, err
	}
	c2, err := d.read(bmeRegCalib2, bmeCalib2Len)
	if err != nil {
		return nil, err
	}
	d.cal = parseCalibration(c1, c2)
	return d, nil
}

// String names the chip and its address.
func (d *BME280) String() string { return fmt.Sprintf("bme280 at %#x", d.dev.Addr) }

// read reads n bytes from register reg on.
func (d *BME280) read(reg byte, n int) ([]byte, error) {
	b := make([]byte, n)
	if err := d.dev.Tx([]byte{reg}, b); err != nil {
		return nil, fmt.Errorf("i2cdev: %v: read 0x%02x: %w", d, reg, err)
	}
	return b, nil
}

// write writes v to register reg.
func (d *BME280) write(reg, v byte) error {
	if err := d.dev.Tx([]byte{reg, v}, nil); err != nil {
		return fmt.Errorf("i2cdev: %v: write 0x%02x: %w", d, reg, err)
	}
	return nil
}

// Sense runs one forced-mode measurement with ×1 oversampling and
// returns it compensated. A chip that is still measuring after the
// polls, or whose data registers hold the "not measured" value, gives
// an error wrapping ErrNoData.
func (d *BME280) Sense(ctx context.Context) (Measurement, error) {
	// ctrl_hum takes effect with the next write to ctrl_meas. Each write
	// is a transaction of its own: the chip takes register/value pairs,
	// not consecutive values.
	if err := d.write(bmeRegCtrlHum, bmeHumX1); err != nil {
		return Measurement{}, err
	}
	if err := d.write(bmeRegCtrl, bmeMeasForce); err != nil {
		return Measurement{}, err
	}
	if err := sleep(ctx, bmeMeasureTime); err != nil {
		return Measurement{}, err
	}
	for i := 0; ; i++ {
		st, err := d.read(bmeRegStatus, 1)
		if err != nil {
			return Measurement{}, err
		}
		if st[0]&bmeMeasuring == 0 {
			break
		}
		if i == bmePolls-1 {
			return Measurement{}, fmt.Errorf("i2cdev: %v: still measuring after %d polls: %w", d, bmePolls, ErrNoData)
		}
		if err := sleep(ctx, bmePollGap); err != nil {
			return Measurement{}, err
		}
	}
	b, err := d.read(bmeRegData, bmeDataLen)
	if err != nil {
		return Measurement{}, err
	}
	adcP := int32(b[0])<<12 | int32(b[1])<<4 | int32(b[2])>>4
	adcT := int32(b[3])<<12 | int32(b[4])<<4 | int32(b[5])>>4
	adcH := int32(b[6])<<8 | int32(b[7])
	if adcT == bmeSkipped20 || adcP == bmeSkipped20 || adcH == bmeSkipped16 {
		return Measurement{}, fmt.Errorf("i2cdev: %v: data registers hold no measurement (% x): %w", d, b, ErrNoData)
	}
	return d.cal.measurement(adcT, adcP, adcH), nil
}
