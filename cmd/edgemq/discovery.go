package main

import (
	"github.com/edgemq/edgemq/devices/hass"
	"github.com/edgemq/edgemq/internal/config"
)

// discoveryEntities returns the Home Assistant entities of the devices
// whose values are known from their configuration: GPIO, I2C and listed
// 1-Wire sensors. Serial and Modbus devices are left out: their fields
// come from the data.
func discoveryEntities(devs []config.Device, gatewayID string) []hass.Entity {
	var out []hass.Entity
	for _, d := range devs {
		topic := d.DeviceTopic(gatewayID)
		add := func(group, field, component, unit, devClass, stateClass string) {
			name := field
			if group != "" {
				name = group + "/" + field
			}
			e := hass.Entity{
				Device: d.ID, Field: name, Model: d.Type, Component: component,
				StateTopic: topic + "/" + name, AvailabilityTopic: topic + "/status",
				Unit: unit, DeviceClass: devClass, StateClass: stateClass,
			}
			if d.Payload == "json" {
				e.StateTopic = topic
				if group != "" {
					e.StateTopic += "/" + group
				}
				e.ValueTemplate = "{{ value_json['" + field + "'] }}"
			}
			if component == hass.Switch {
				e.CommandTopic = topic + "/" + name + "/set"
			}
			out = append(out, e)
		}
		switch d.Type {
		case "gpio_in":
			add("", "state", hass.BinarySensor, "", "", "")
		case "gpio_out":
			add("", "state", hass.Switch, "", "", "")
		case "gpio_counter":
			add("", "count", hass.Sensor, "", "", "total_increasing")
			add("", "total", hass.Sensor, d.Unit, unitClass(d.Unit), "total_increasing")
			rate := ""
			if d.Unit != "" {
				rate = d.Unit + "/h"
			}
			add("", "rate", hass.Sensor, rate, "", "measurement")
		case "i2c":
			add("", "temperature", hass.Sensor, "°C", "temperature", "measurement")
			add("", "humidity", hass.Sensor, "%", "humidity", "measurement")
			if d.Chip == "bme280" {
				add("", "pressure", hass.Sensor, "hPa", "pressure", "measurement")
			}
		case "onewire":
			for _, s := range d.Sensors {
				name := s.Name
				if name == "" {
					name = s.ID
				}
				add(name, "temperature", hass.Sensor, "°C", "temperature", "measurement")
			}
		}
	}
	return out
}

// unitClass is Home Assistant's device class for a counter's total in
// unit, if it has one.
func unitClass(unit string) string {
	switch unit {
	case "kWh", "Wh", "MWh":
		return "energy"
	case "m³", "m3", "L", "l", "gal", "ft³":
		return "water"
	}
	return ""
}
