package i2cdev_test

import (
	"context"
	"fmt"
	"time"

	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/i2cdev"
	"periph.io/x/conn/v3/i2c"
)

// A BME280 driver on a simulated bus.
func ExampleBME280() {
	bus, err := i2cdev.NewSimBus(i2cdev.DemoBME280())
	if err != nil {
		panic(err)
	}
	d, err := i2cdev.NewBME280(bus, 0x76)
	if err != nil {
		panic(err)
	}
	m, err := d.Sense(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.2f °C, %.2f %%RH, %.2f hPa\n", m.Temperature, m.Humidity, m.Pressure)
	// Output: 21.50 °C, 45.00 %RH, 1013.25 hPa
}

// The adapter polling a simulated SHT3x. On hardware, the opener would
// call periph's host.Init once, then i2creg.Open(name).
func ExampleNew() {
	open := func(string) (i2c.BusCloser, error) { return i2cdev.NewSimBus(i2cdev.DemoSHT3x()) }
	a, err := i2cdev.New(i2cdev.Config{Chip: "sht3x", Interval: time.Second}, open)
	if err != nil {
		panic(err)
	}
	p := &devicestest.Publisher{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx, p) }()
	for len(p.Readings()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	fmt.Println(<-done)
	for _, f := range p.Readings()[0].Fields {
		fmt.Println(f.Name, f.Value)
	}
	// Output:
	// context canceled
	// temperature 22.00
	// humidity 40.00
}
