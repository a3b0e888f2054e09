package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/modbusdev"
	"github.com/edgemq/edgemq/devices/serial"
	"github.com/edgemq/edgemq/internal/config"
)

// deviceClientID is the in-process client of the device adapters.
const deviceClientID = "edgemq-devices"

// deviceSet runs the devices section: one in-process client and a
// devices.Supervisor, replaced whole when SIGHUP changes the section.
type deviceSet struct {
	srv         *broker.Server
	log         *slog.Logger
	gatewayID   string
	sysInterval time.Duration

	mu     sync.Mutex
	client *broker.Client
	sup    *devices.Supervisor
}

// startDevices starts the configured devices on srv (started); stop
// them before the bridges and the broker.
func startDevices(srv *broker.Server, cfg *config.Config, log *slog.Logger) (*deviceSet, error) {
	ds := &deviceSet{srv: srv, log: log.With("component", "devices"), gatewayID: cfg.Gateway.ID,
		sysInterval: time.Duration(cfg.Broker.SysInterval)}
	if err := ds.restart(cfg.Devices); err != nil {
		return nil, err
	}
	return ds, nil
}

// restart stops the running devices, if any, and starts devs.
func (ds *deviceSet) restart(devs []config.Device) error {
	built, err := buildDevices(devs, ds.gatewayID)
	if err != nil {
		return err
	}
	ds.stop()
	if len(built) == 0 {
		return nil
	}
	c, err := ds.srv.NewClient(deviceClientID)
	if err != nil {
		return fmt.Errorf("devices: %w", err)
	}
	sup, err := devices.Start(devices.Options{
		Client: brokerClient{c}, GatewayID: ds.gatewayID, SysInterval: ds.sysInterval, Logger: ds.log,
	}, built)
	if err != nil {
		c.Close()
		return err
	}
	ds.mu.Lock()
	ds.client, ds.sup = c, sup
	ds.mu.Unlock()
	for _, d := range devs {
		ds.log.Info("device started", "device", d.ID, "type", d.Type, "topic", d.DeviceTopic(ds.gatewayID))
	}
	return nil
}

// stop stops the devices (publishing them offline) and closes their
// client. It may be called more than once.
func (ds *deviceSet) stop() {
	ds.mu.Lock()
	sup, c := ds.sup, ds.client
	ds.sup, ds.client = nil, nil
	ds.mu.Unlock()
	if sup != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sup.Close(ctx); err != nil {
			ds.log.Error("stop devices", "err", err)
		}
	}
	if c != nil {
		c.Close()
	}
}

// buildDevices makes the adapters of the devices section.
func buildDevices(devs []config.Device, gatewayID string) ([]devices.Device, error) {
	var out []devices.Device
	for _, d := range devs {
		var a devices.Adapter
		var err error
		switch d.Type {
		case "serial":
			a, err = serial.New(d.SerialConfig())
		case "modbus":
			a, err = modbusdev.New(d.ModbusConfig())
		default:
			err = fmt.Errorf("unknown type %q", d.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("device %q: %w", d.ID, err)
		}
		out = append(out, devices.Device{
			ID: d.ID, Adapter: a, Topic: d.DeviceTopic(gatewayID), QoS: byte(d.QoS), Retain: d.Retain,
			JSON: d.Payload == "json", StaleAfter: time.Duration(d.StaleAfter),
			RestartMin: time.Duration(d.Restart.Min), RestartMax: time.Duration(d.Restart.Max),
		})
	}
	return out, nil
}

// brokerClient adapts a *broker.Client to devices.Client.
type brokerClient struct{ *broker.Client }

func (c brokerClient) Subscribe(filter string, qos byte, h func(topic string, payload []byte)) error {
	return c.Client.Subscribe(filter, qos, func(m *broker.Message) { h(m.Topic, m.Payload) })
}
