// Package onewire is the DS18B20 device adapter: it reads 1-Wire
// temperature sensors through the Linux kernel's w1 sysfs files
// (/sys/bus/w1/devices/28-*/w1_slave) and publishes their temperatures
// through a devices.Publisher. The kernel does the 1-Wire protocol (the
// w1-gpio bus master and the w1-therm slave driver; on a Raspberry Pi,
// dtoverlay=w1-gpio); this package only reads files.
//
// # One adapter per bus
//
// Every Config.Interval the adapter lists Config.Root and reads the
// w1_slave file of each sensor, one at a time: the configured ones, or,
// when none are configured, every 28-* directory found in that cycle, so
// that a sensor plugged in later appears within a cycle. A read blocks
// for the sensor's conversion (about 750 ms at 12 bits), so a cycle
// takes about that long per sensor; the adapter checks its context
// between sensors.
//
// # Topics
//
// Each sensor is a group of the device (devices.Reading.Group), named
// by Sensor.Name or, by default, by its id:
//
//	<topic>/<sensor>/temperature  °C with Config.Decimals decimals (23.125)
//	<topic>/<sensor>/status       "online" or "offline", retained, QoS 1
//
// A sensor goes online with its first valid reading, and offline when
// its directory disappears from Config.Root (the kernel removes it some
// time after the sensor stops answering) or after three failed reads in
// a row. A configured sensor that is not on the bus is published
// offline in the first cycle.
//
// # Readings that are discarded
//
// The kernel's w1_slave file has two lines: the nine scratchpad bytes
// with the kernel's CRC verdict, then the bytes again with the
// temperature in thousandths of a degree:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
//
// These are counted as devices.ParseErrors and not published: a CRC
// verdict of NO (noise, a loose wire), t=85000 (85.000 °C, the
// power-on reset value of a sensor that did not convert: a brown-out or
// a weak parasite supply; a real 85.000 °C is lost with it), an
// all-zero scratchpad (a shorted data line passes the CRC check),
// temperatures outside the sensor's -55..+125 °C range, and anything
// that does not parse. Each counts as a failed read. A file that cannot
// be read at all is a failed read too, and shows as devices.Polls
// without devices.LinesRead.
//
// # Errors
//
// Run returns an error only when Config.Root cannot be listed, most
// often because the w1 kernel modules are not loaded; the supervisor
// then runs it again with back-off. With no sensors on the bus it keeps
// polling.
package onewire
