package modbus

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrTimeout reports that no complete response arrived in time.
	ErrTimeout = errors.New("modbus: timeout")
	// ErrBadFrame reports a response with a bad CRC, another slave id or
	// function code, or contents that do not match the request.
	ErrBadFrame = errors.New("modbus: bad frame")
	// ErrInvalid reports an argument the protocol cannot carry (quantity,
	// address range, slave id) or an unknown data type or order.
	ErrInvalid = errors.New("modbus: invalid argument")
	// ErrRange reports a value that does not fit the data type in Encode.
	ErrRange = errors.New("modbus: value out of range")
)

// ExceptionCode is the code of a Modbus exception response.
type ExceptionCode byte

// Exception codes from the Modbus application protocol specification.
const (
	IllegalFunction                    ExceptionCode = 1
	IllegalDataAddress                 ExceptionCode = 2
	IllegalDataValue                   ExceptionCode = 3
	SlaveDeviceFailure                 ExceptionCode = 4
	Acknowledge                        ExceptionCode = 5
	SlaveDeviceBusy                    ExceptionCode = 6
	NegativeAcknowledge                ExceptionCode = 7
	MemoryParityError                  ExceptionCode = 8
	GatewayPathUnavailable             ExceptionCode = 10
	GatewayTargetDeviceFailedToRespond ExceptionCode = 11
)

// String returns the specification's name of the code, such as
// "illegal data address".
func (c ExceptionCode) String() string {
	switch c {
	case IllegalFunction:
		return "illegal function"
	case IllegalDataAddress:
		return "illegal data address"
	case IllegalDataValue:
		return "illegal data value"
	case SlaveDeviceFailure:
		return "slave device failure"
	case Acknowledge:
		return "acknowledge"
	case SlaveDeviceBusy:
		return "slave device busy"
	case NegativeAcknowledge:
		return "negative acknowledge"
	case MemoryParityError:
		return "memory parity error"
	case GatewayPathUnavailable:
		return "gateway path unavailable"
	case GatewayTargetDeviceFailedToRespond:
		return "gateway target device failed to respond"
	}
	return fmt.Sprintf("exception %d", byte(c))
}

// ExceptionError is a slave's exception response to a request.
type ExceptionError struct {
	Function byte          // function code of the request (without the 0x80 bit)
	Code     ExceptionCode // exception code sent by the slave
}

// Error implements error.
func (e *ExceptionError) Error() string {
	return fmt.Sprintf("modbus: function %d: exception %d (%s)", e.Function, byte(e.Code), e.Code)
}
