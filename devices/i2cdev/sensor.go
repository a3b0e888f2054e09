package i2cdev

import (
	"context"
	"errors"
	"time"
)

// Measurement is one reading of a sensor.
type Measurement struct {
	// Temperature in °C.
	Temperature float64
	// Humidity in %RH, 0..100.
	Humidity float64
	// Pressure in hPa; 0 for chips without a pressure sensor.
	Pressure float64
}

// Sensor is a driver that measures on demand; BME280 and SHT3x
// implement it.
type Sensor interface {
	// Sense triggers one measurement, waits for it (returning early with
	// ctx's error when ctx is done) and returns its result.
	Sense(ctx context.Context) (Measurement, error)
}

var (
	_ Sensor = (*BME280)(nil)
	_ Sensor = (*SHT3x)(nil)
)

// Errors of the drivers, tested with errors.Is.
var (
	// ErrWrongChip: the chip at the address is not the expected one.
	ErrWrongChip = errors.New("wrong chip")
	// ErrCRC: a response failed its CRC check.
	ErrCRC = errors.New("CRC mismatch")
	// ErrNoData: the chip gave no measurement (it was reset, or is
	// still measuring).
	ErrNoData = errors.New("no measurement")
)

// sleep waits d, or until ctx is done (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
