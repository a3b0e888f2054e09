package devices_test

import (
	"context"
	"fmt"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/devices"
)

// thermometer is an adapter that reads a temperature once per second
// from a sensor that reports hundredths of a degree.
type thermometer struct{ raw int }

func (a *thermometer) Run(ctx context.Context, out devices.Publisher) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		out.Count(devices.Polls, 1)
		v := float64(a.raw) * 0.01 // 23.150000000000002
		err := out.Publish(ctx, devices.Reading{Fields: []devices.Field{{Name: "temp", Value: devices.Number(v, 2)}}})
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// clientOf adapts a *broker.Client to devices.Client.
type clientOf struct{ *broker.Client }

func (c clientOf) Subscribe(filter string, qos byte, h func(string, []byte)) error {
	return c.Client.Subscribe(filter, qos, func(m *broker.Message) { h(m.Topic, m.Payload) })
}

func Example() {
	srv, _ := broker.New(broker.Options{})
	srv.Start()
	defer srv.Shutdown(context.Background())

	got := make(chan string, 1)
	watcher, _ := srv.NewClient("watcher")
	watcher.Subscribe("edgemq/gw1/therm/temp", 0, func(m *broker.Message) {
		select {
		case got <- m.Topic + " " + string(m.Payload):
		default:
		}
	})

	c, _ := srv.NewClient("devices")
	defer c.Close()
	sup, err := devices.Start(devices.Options{Client: clientOf{c}, GatewayID: "gw1"},
		[]devices.Device{{ID: "therm", Adapter: &thermometer{raw: 2315}, StaleAfter: 30 * time.Second}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sup.Close(context.Background())
	fmt.Println(<-got)
	// Output: edgemq/gw1/therm/temp 23.15
}
