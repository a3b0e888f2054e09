package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/gpio"
	"github.com/edgemq/edgemq/devices/hardware"
	"github.com/edgemq/edgemq/devices/hass"
	"github.com/edgemq/edgemq/devices/i2cdev"
	"github.com/edgemq/edgemq/devices/modbusdev"
	"github.com/edgemq/edgemq/devices/onewire"
	"github.com/edgemq/edgemq/devices/serial"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
	"periph.io/x/conn/v3/i2c"
)

// deviceClientID is the in-process client of the device adapters.
const deviceClientID = "edgemq-devices"

// deviceSet runs the devices section: one in-process client and a
// devices.Supervisor, replaced whole when SIGHUP changes the section.
type deviceSet struct {
	srv         *broker.Server
	db          *kv.DB // counts of the gpio_counter devices
	log         *slog.Logger
	gatewayID   string
	sysInterval time.Duration
	host        hardware.Host // initialised once, on first use

	mu     sync.Mutex
	client *broker.Client
	sup    *devices.Supervisor
	disc   *hass.Discovery
	// running are the devices sup runs, in its order.
	running []config.Device
	// discovered are the discovery topics published by this process, so
	// that a restart removes those of devices no longer configured.
	discovered []string
}

// deviceSection is the part of the configuration the devices run from;
// a change to any of it restarts them on SIGHUP.
type deviceSection struct {
	Devices       []config.Device
	Hardware      string
	Simulation    config.Simulation
	HomeAssistant config.HomeAssistant
}

func devicesOf(cfg *config.Config) deviceSection {
	return deviceSection{Devices: cfg.Devices, Hardware: cfg.Hardware, Simulation: cfg.Simulation, HomeAssistant: cfg.HomeAssistant}
}

// startDevices starts the configured devices on srv; stop them before
// the bridges and the broker.
func startDevices(srv *broker.Server, db *kv.DB, cfg *config.Config, log *slog.Logger) (*deviceSet, error) {
	ds := &deviceSet{srv: srv, db: db, log: log.With("component", "devices"), gatewayID: cfg.Gateway.ID,
		sysInterval: time.Duration(cfg.Broker.SysInterval)}
	if err := ds.restart(devicesOf(cfg)); err != nil {
		return nil, err
	}
	return ds, nil
}

// restart stops the running devices, if any, and starts those of sec.
func (ds *deviceSet) restart(sec deviceSection) error {
	var hw hardware.Hardware = &ds.host
	var sim *hardware.Simulated
	if sec.Hardware == config.HardwareSimulated {
		buses, err := simBuses(sec.Simulation)
		if err != nil {
			return err
		}
		sim = hardware.NewSimulated(ds.gatewayID, buses, ds.log.With("hardware", "simulated"))
		hw = sim
	}
	built, err := buildDevices(sec.Devices, ds.gatewayID, hw, ds.db)
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
	if sim != nil {
		if err := sim.Attach(brokerClient{c}); err != nil {
			c.Close()
			return fmt.Errorf("devices: simulated hardware: %w", err)
		}
	}
	sup, err := devices.Start(devices.Options{
		Client: brokerClient{c}, GatewayID: ds.gatewayID, SysInterval: ds.sysInterval, Logger: ds.log,
	}, built)
	if err != nil {
		c.Close()
		return err
	}
	var disc *hass.Discovery
	if sec.HomeAssistant.Discovery {
		disc, err = hass.Start(hass.Options{
			Client: brokerClient{c}, Prefix: sec.HomeAssistant.DiscoveryPrefix(), GatewayID: ds.gatewayID,
			Version: version, Logger: ds.log,
		}, discoveryEntities(sec.Devices, ds.gatewayID), ds.discovered)
		if err != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sup.Close(ctx)
			c.Close()
			return err
		}
		ds.discovered = disc.Topics()
	}
	ds.mu.Lock()
	ds.client, ds.sup, ds.disc, ds.running = c, sup, disc, sec.Devices
	ds.mu.Unlock()
	for _, d := range sec.Devices {
		ds.log.Info("device started", "device", d.ID, "type", d.Type, "topic", d.DeviceTopic(ds.gatewayID))
	}
	return nil
}

// stop stops the devices (publishing them offline) and closes their
// client. It may be called more than once.
func (ds *deviceSet) stop() {
	ds.mu.Lock()
	sup, c, disc := ds.sup, ds.client, ds.disc
	ds.sup, ds.client, ds.disc, ds.running = nil, nil, nil, nil
	ds.mu.Unlock()
	if disc != nil {
		disc.Close()
	}
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

// buildDevices makes the adapters of the devices section, with their
// pins and buses from hw and the counts of counters in db.
func buildDevices(devs []config.Device, gatewayID string, hw hardware.Hardware, db *kv.DB) ([]devices.Device, error) {
	var out []devices.Device
	for _, d := range devs {
		var a devices.Adapter
		var err error
		switch d.Type {
		case "serial":
			a, err = serial.New(d.SerialConfig())
		case "modbus":
			a, err = modbusdev.New(d.ModbusConfig())
		case "gpio_in":
			a, err = gpio.NewIn(d.GPIOInConfig(), hw.Pin)
		case "gpio_counter":
			a, err = gpio.NewCounter(d.GPIOCounterConfig(), hw.Pin, kvCount{db, d.ID})
		case "gpio_out":
			a, err = gpio.NewOut(d.GPIOOutConfig(), hw.Pin)
		case "i2c":
			a, err = i2cdev.New(d.I2CConfig(), hw.I2C)
		case "onewire":
			a, err = onewire.New(d.OneWireConfig())
		default:
			err = fmt.Errorf("unknown type %q", d.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("device %q: %w", d.ID, err)
		}
		out = append(out, devices.Device{
			ID: d.ID, Adapter: a, Topic: d.DeviceTopic(gatewayID), QoS: byte(d.QoS), Retain: d.Retained(),
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

// simBuses makes the simulated I2C buses of sim (validated).
func simBuses(sim config.Simulation) (map[string]i2c.Bus, error) {
	chips := make(map[string][]i2cdev.SimChip)
	for _, c := range sim.I2C {
		chips[c.Bus] = append(chips[c.Bus], i2cdev.SimChip{Addr: uint16(c.Address), PointerBytes: c.PointerBytes, Registers: c.Memory()})
	}
	buses := make(map[string]i2c.Bus, len(chips))
	for name, cs := range chips {
		b, err := i2cdev.NewSimBus(cs...)
		if err != nil {
			return nil, fmt.Errorf("simulated I2C bus %q: %w", name, err)
		}
		buses[name] = b
	}
	return buses, nil
}
