// Package i2cdev is the I²C sensor adapter: it polls one temperature and
// humidity sensor on an I²C bus and publishes its readings through a
// devices.Publisher. Two chips are supported:
//
//   - the Bosch BME280 (temperature, humidity, pressure), in forced
//     mode with ×1 oversampling, compensated with the datasheet's
//     integer formulas;
//   - the Sensirion SHT3x (SHT30, SHT31, SHT35: temperature, humidity),
//     single shot, high repeatability, without clock stretching, each
//     word checked with its CRC-8.
//
// The drivers (BME280, SHT3x) work on any periph.io i2c.Bus. The
// adapter gets its bus from an opener function given to New, so that the
// same adapter runs on real hardware (an opener calling periph's
// i2creg.Open after host.Init) or on a SimBus, a simulated bus holding
// register images of chips (see DemoBME280 and DemoSHT3x).
//
// # Topics
//
// Each poll publishes one reading with the fields
//
//	<topic>/temperature   °C, 2 decimals
//	<topic>/humidity      %RH, 2 decimals
//	<topic>/pressure      hPa, 2 decimals (BME280 only)
//
// # Errors
//
// A chip that is not the configured one (a BMP280 where a BME280 was
// expected) ends Run with an error wrapping ErrWrongChip. An I/O error (a
// chip that does not acknowledge, an unplugged bus) ends Run; the
// supervisor restarts it with back-off and the device goes offline. An
// SHT3x response with a bad CRC (ErrCRC) or a BME280 without a
// measurement (ErrNoData) is counted as a parse error and skipped: the
// next poll usually succeeds.
package i2cdev
