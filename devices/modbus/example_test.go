package modbus_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/edgemq/edgemq/devices/modbus"
	"github.com/edgemq/edgemq/devices/modbus/modbustest"
)

func Example() {
	// A simulated slave stands in for a serial port here; in production
	// the port is a serial device opened with a read timeout.
	port, bus := net.Pipe()
	sim := modbustest.NewSlave(bus, 1)
	sim.SetHoldingRegisters(1, 100, 0x42F6, 0xE979, 2315)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sim.Serve(ctx) }()
	defer func() { cancel(); <-done }()

	c := modbus.NewClient(port, modbus.Options{Timeout: 500 * time.Millisecond, Retries: 2})
	regs, err := c.ReadHoldingRegisters(ctx, 1, 100, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	temp, _ := modbus.Decode(regs[0:2], modbus.Float32, modbus.ABCD)
	raw, _ := modbus.Decode(regs[2:3], modbus.Int16, modbus.ABCD)
	fmt.Printf("%.3f %.2f\n", temp, raw*0.01)

	_, err = c.ReadHoldingRegisters(ctx, 1, 65535, 2)
	fmt.Println(err)
	// Output:
	// 123.456 23.15
	// address 65535 + quantity 2 exceeds 65536: modbus: invalid argument
}
