// Package hass publishes Home Assistant MQTT discovery messages for the
// gateway's devices: each entity's retained configuration on
// <prefix>/<component>/<unique id>/config, published at start and again
// whenever Home Assistant announces itself with "online" on
// <prefix>/status.
package hass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Components of Home Assistant that entities can be.
const (
	Sensor       = "sensor"
	BinarySensor = "binary_sensor"
	Switch       = "switch"
)

// publishTimeout bounds one discovery publish.
const publishTimeout = 5 * time.Second

// Client is the part of the broker's in-process client that Discovery
// uses (devices.Client has this shape).
type Client interface {
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
	Subscribe(filter string, qos byte, h func(topic string, payload []byte)) error
}

// Entity is one Home Assistant entity: a value a device publishes, or
// a switch it obeys.
type Entity struct {
	// Device is the edgemq device id; Field the value's name.
	Device, Field string
	// Model describes the device (its type, e.g. gpio_in, bme280).
	Model string
	// Component is Sensor, BinarySensor or Switch.
	Component string
	// StateTopic carries the value; ValueTemplate extracts it from a
	// JSON payload (empty: the payload is the value).
	StateTopic, ValueTemplate string
	// CommandTopic takes ON and OFF (switches).
	CommandTopic string
	// AvailabilityTopic carries online/offline.
	AvailabilityTopic string
	// Unit, DeviceClass and StateClass as Home Assistant knows them;
	// optional.
	Unit, DeviceClass, StateClass string
}

// Options configure Discovery.
type Options struct {
	Client Client
	// Prefix is the discovery prefix; empty: homeassistant.
	Prefix    string
	GatewayID string
	// Version of edgemq, in the origin of each message.
	Version string
	Logger  *slog.Logger
}

// Discovery publishes the configurations of a set of entities.
type Discovery struct {
	opts   Options
	topics map[string][]byte // config topic -> payload
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Start publishes the configurations of entities, removes (with an
// empty retained message) those of stale, config topics published
// before that are no longer wanted, and republishes when Home Assistant
// comes online. Close stops it.
func Start(opts Options, entities []Entity, stale []string) (*Discovery, error) {
	if opts.Client == nil {
		return nil, errors.New("hass: no client")
	}
	if opts.Prefix == "" {
		opts.Prefix = "homeassistant"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	d := &Discovery{opts: opts, topics: make(map[string][]byte), wake: make(chan struct{}, 1), done: make(chan struct{})}
	for _, e := range entities {
		topic, payload, err := d.config(e)
		if err != nil {
			return nil, err
		}
		d.topics[topic] = payload
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	for _, t := range stale {
		if _, ok := d.topics[t]; !ok {
			d.publish(t, nil)
		}
	}
	err := opts.Client.Subscribe(opts.Prefix+"/status", 1, func(_ string, payload []byte) {
		if strings.TrimSpace(string(payload)) == "online" {
			select {
			case d.wake <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		d.cancel()
		return nil, fmt.Errorf("hass: subscribe %s/status: %w", opts.Prefix, err)
	}
	d.wake <- struct{}{} // the first publication
	// Exits when Close cancels d.ctx.
	go d.loop()
	return d, nil
}

// Topics returns the config topics Discovery publishes.
func (d *Discovery) Topics() []string {
	out := make([]string, 0, len(d.topics))
	for t := range d.topics {
		out = append(out, t)
	}
	return out
}

// Close stops republishing. The retained configurations stay.
func (d *Discovery) Close() {
	d.once.Do(d.cancel)
	<-d.done
}

func (d *Discovery) loop() {
	defer close(d.done)
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-d.wake:
			for t, p := range d.topics {
				if d.ctx.Err() != nil {
					return
				}
				d.publish(t, p)
			}
		}
	}
}

func (d *Discovery) publish(topic string, payload []byte) {
	ctx, cancel := context.WithTimeout(d.ctx, publishTimeout)
	defer cancel()
	if err := d.opts.Client.Publish(ctx, topic, payload, 1, true); err != nil && d.ctx.Err() == nil {
		d.opts.Logger.Warn("discovery not published", "topic", topic, "err", err)
	}
}

// idPart makes s usable in a unique id and a topic level.
func idPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func (d *Discovery) config(e Entity) (topic string, payload []byte, err error) {
	switch e.Component {
	case Sensor, BinarySensor, Switch:
	default:
		return "", nil, fmt.Errorf("hass: entity %s/%s: unknown component %q", e.Device, e.Field, e.Component)
	}
	gw := idPart(d.opts.GatewayID)
	dev := "edgemq_" + gw + "_" + idPart(e.Device)
	uid := dev + "_" + idPart(e.Field)
	m := map[string]any{
		"name":                  strings.ReplaceAll(e.Field, "/", " "),
		"unique_id":             uid,
		"state_topic":           e.StateTopic,
		"availability_topic":    e.AvailabilityTopic,
		"payload_available":     "online",
		"payload_not_available": "offline",
		"device": map[string]any{
			"identifiers":  []string{dev},
			"name":         e.Device,
			"manufacturer": "edgemq",
			"model":        e.Model,
			"via_device":   "edgemq_" + gw,
		},
		"origin": map[string]any{"name": "edgemq", "sw_version": d.opts.Version},
	}
	if e.Component != Sensor {
		m["payload_on"], m["payload_off"] = "ON", "OFF"
	}
	if e.Component == Switch {
		m["command_topic"] = e.CommandTopic
		m["state_on"], m["state_off"] = "ON", "OFF"
	}
	for k, v := range map[string]string{"value_template": e.ValueTemplate, "unit_of_measurement": e.Unit,
		"device_class": e.DeviceClass, "state_class": e.StateClass} {
		if v != "" {
			m[k] = v
		}
	}
	payload, err = json.Marshal(m)
	if err != nil {
		return "", nil, err
	}
	return d.opts.Prefix + "/" + e.Component + "/" + uid + "/config", payload, nil
}
