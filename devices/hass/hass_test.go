package hass

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/devices/devicestest"
)

func TestDiscovery(t *testing.T) {
	c := &devicestest.Client{}
	entities := []Entity{
		{Device: "door.1", Field: "state", Model: "gpio_in", Component: BinarySensor,
			StateTopic: "edgemq/gw/door.1/state", AvailabilityTopic: "edgemq/gw/door.1/status"},
		{Device: "pump", Field: "state", Model: "gpio_out", Component: Switch,
			StateTopic: "edgemq/gw/pump/state", CommandTopic: "edgemq/gw/pump/state/set", AvailabilityTopic: "edgemq/gw/pump/status"},
		{Device: "air", Field: "temperature", Model: "bme280", Component: Sensor, StateTopic: "edgemq/gw/air",
			ValueTemplate: "{{ value_json['temperature'] }}", AvailabilityTopic: "edgemq/gw/air/status",
			Unit: "°C", DeviceClass: "temperature", StateClass: "measurement"},
	}
	stale := []string{"homeassistant/switch/edgemq_gw_old_state/config", "homeassistant/switch/edgemq_gw_pump_state/config"}
	d, err := Start(Options{Client: c, GatewayID: "gw", Version: "1.2.3"}, entities, stale)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	door := "homeassistant/binary_sensor/edgemq_gw_door_1_state/config"
	pump := "homeassistant/switch/edgemq_gw_pump_state/config"
	air := "homeassistant/sensor/edgemq_gw_air_temperature/config"
	brokertest.Eventually(t, 5*time.Second, func() bool {
		return len(c.Messages(door)) == 1 && len(c.Messages(pump)) == 1 && len(c.Messages(air)) == 1
	}, "configs published")
	if m := c.Messages(stale[0]); len(m) != 1 || m[0].Payload != "" || !m[0].Retain {
		t.Errorf("stale config: %+v, want one empty retained message", m)
	}
	var sw map[string]any
	if err := json.Unmarshal([]byte(c.Messages(pump)[0].Payload), &sw); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"unique_id": "edgemq_gw_pump_state", "command_topic": "edgemq/gw/pump/state/set",
		"state_topic": "edgemq/gw/pump/state", "payload_on": "ON", "availability_topic": "edgemq/gw/pump/status"} {
		if sw[k] != want {
			t.Errorf("switch %s = %v, want %q", k, sw[k], want)
		}
	}
	if dev := sw["device"].(map[string]any); dev["via_device"] != "edgemq_gw" || dev["model"] != "gpio_out" {
		t.Errorf("switch device %v", dev)
	}
	var s map[string]any
	json.Unmarshal([]byte(c.Messages(air)[0].Payload), &s)
	if s["value_template"] != "{{ value_json['temperature'] }}" || s["unit_of_measurement"] != "°C" || s["payload_on"] != nil {
		t.Errorf("sensor config %v", s)
	}
	if m := c.Messages(door)[0]; !m.Retain || m.QoS != 1 {
		t.Errorf("config message %+v, want retained QoS 1", m)
	}

	c.Send("homeassistant/status", "offline")
	c.Send("homeassistant/status", "online")
	brokertest.Eventually(t, 5*time.Second, func() bool { return len(c.Messages(pump)) == 2 }, "republished on online")
	time.Sleep(50 * time.Millisecond)
	if n := len(c.Messages(door)); n != 2 {
		t.Errorf("door config published %d times, want 2 (offline must not republish)", n)
	}
}

func TestDiscoveryBadComponent(t *testing.T) {
	_, err := Start(Options{Client: &devicestest.Client{}}, []Entity{{Device: "x", Field: "y", Component: "light"}}, nil)
	if err == nil {
		t.Fatal("an unknown component was accepted")
	}
}
