// Package modbus is a Modbus RTU master for a serial line, with no
// dependencies beyond the standard library.
//
// A [Client] sends one request at a time over a [Port] (normally a serial
// port) and supports function codes 1, 2, 3, 4, 5, 6, 15 and 16. RTU has no
// frame delimiters on the wire, so the client knows the length of each
// response from the function code and the request (5 bytes for an
// exception). Errors are:
//
//   - [ErrTimeout] when no complete response arrives before
//     Options.Timeout;
//   - [ErrBadFrame] for a response with a bad CRC, another slave id, another
//     function code, or contents that do not match the request;
//   - *[ExceptionError] when the slave answered with an exception;
//   - [ErrInvalid] for arguments the protocol cannot carry;
//   - port errors, returned wrapped as they are.
//
// Timeouts and bad frames are retried Options.Retries times; exceptions are
// answers and are never retried. After a failed attempt the client
// discards stray bytes before the next request.
//
// [Decode] and [Encode] convert between registers and numbers for the usual
// data types and the four word/byte orders (ABCD, CDAB, BADC, DCBA).
//
// The modbustest package beside this one simulates slaves for tests.
package modbus
