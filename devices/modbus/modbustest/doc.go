// Package modbustest simulates Modbus RTU slaves for tests.
//
// A [Slave] serves coil, discrete input, holding register and input
// register tables for one or more slave ids over a byte stream: one end
// of a net.Pipe, or the master side of a pseudo-terminal whose other side
// the code under test opens as a serial port. Tests can change values,
// make an id fall silent and inject exceptions while it runs.
package modbustest
