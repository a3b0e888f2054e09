// Package modbusdev is the Modbus RTU device adapter: it polls the
// slaves of one RS-485 bus (energy meters, PLCs) with the master of
// package devices/modbus and publishes their registers and bits through
// a devices.Publisher, so that a meter becomes MQTT topics by
// configuration alone. The RTU master knows nothing of MQTT; this
// package is the glue.
//
// # One adapter per bus
//
// A bus is one serial port, one Modbus client and one poller: requests
// go out one at a time, as RTU requires, and every configured slave is
// polled once per Config.Interval. Contiguous points of one table are
// read with one request (never across a gap: meters often refuse
// unmapped registers); if a slave answers such a request with an
// exception, its points are read one by one from then on.
//
// # Topics
//
// Each slave is a group of the device (devices.Reading.Group):
//
//	<topic>/<slave>/<point>       the value (payload json: one object on <topic>/<slave>)
//	<topic>/<slave>/status        "online" or "offline", retained, QoS 1
//	<topic>/<slave>/<point>/set   writable coils and holding registers
//	<topic>/status                the bus: online while the port works
//
// A slave that does not answer within Config.Timeout after
// Config.Retries retries is published offline, the rest of its points
// are skipped for the cycle, and while offline it gets one attempt per
// cycle, so a silent meter delays the others by one timeout per cycle.
// (The cycle in which it falls silent costs Timeout per attempt,
// retries included.) It goes online again with its next answer. An
// exception answer (illegal address) means the slave is there: that
// point is counted as a parse error and skipped. The bus device itself goes
// online with its first poll cycle and stays online while the port
// works; a port error (an unplugged USB adapter) ends Run and the
// supervisor reopens the port with back-off; the slaves then go
// offline with it.
//
// # Values
//
// A register value is decoded with its type and word/byte order
// (modbus.Decode), then value = raw*scale + offset is published with a
// fixed number of decimals (devices.Number: 23.15, never
// 23.150000000000002). Bits and bool registers are published as 1 or 0.
// Units are kept in the configuration (Adapter.Unit) for dashboards;
// they are not part of the payload.
//
// # Writes
//
// A payload on <topic>/<slave>/<point>/set is written to a writable
// point: ON, OFF, 1, 0, true or false for coils (function 5) and bool
// registers; a number for other holding registers, turned back into the
// raw value ((v-offset)/scale, rounded for integer types), encoded with
// the point's type and order and range-checked (function 6 for one
// register, 16 for two). A payload that does not parse or does not fit
// is counted as a parse error and not written. After a write the point
// is read back and its value published, which confirms the command.
//
// # The port
//
// Ports are opened with serial.OpenTarm (github.com/tarm/serial), with
// the serial adapter's line settings and defaults (9600 baud, 8 data
// bits, no parity, 1 stop bit: never a silent 2) and a 0.1 s read
// timeout; the Modbus client keeps its own per-request deadline.
package modbusdev
