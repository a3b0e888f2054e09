package config

import (
	"sort"
	"strconv"
	"strings"
)

// Hardware modes: the host's GPIO and I2C, or simulated ones.
const (
	HardwareHost      = "host"
	HardwareSimulated = "simulated"
)

// Simulation configures the simulated hardware (hardware: simulated).
// Simulated GPIO pins need no configuration: they exist when a device
// names them.
type Simulation struct {
	// I2C lists the simulated I2C chips.
	I2C []SimChip `yaml:"i2c"`
}

// SimChip is one simulated I2C chip: it answers reads from its
// registers. A write sets the register pointer from its first
// pointer_bytes bytes and stores the rest from there; a read returns the
// bytes from the pointer on.
type SimChip struct {
	// Bus is the bus name devices use ("1"; empty: the default bus).
	Bus string `yaml:"bus"`
	// Address is the 7-bit I2C address, 1..127 (e.g. 0x76).
	Address int `yaml:"address"`
	// PointerBytes is 1 (register chips such as the BME280, default) or
	// 2 (command chips such as the SHT3x).
	PointerBytes int `yaml:"pointer_bytes"`
	// Registers maps a register address (0xD0) to the bytes stored from
	// there on.
	Registers map[string][]int `yaml:"registers"`
}

// HomeAssistant configures Home Assistant MQTT discovery.
type HomeAssistant struct {
	// Discovery publishes each device's entities, retained, on
	// <prefix>/<component>/<unique id>/config, and again when
	// <prefix>/status says online.
	Discovery bool `yaml:"discovery"`
	// Prefix is the discovery prefix; empty: homeassistant.
	Prefix string `yaml:"prefix"`
}

// DiscoveryPrefix returns Prefix or its default.
func (h HomeAssistant) DiscoveryPrefix() string {
	if h.Prefix == "" {
		return "homeassistant"
	}
	return h.Prefix
}

// Simulated reports whether c uses simulated hardware.
func (c *Config) Simulated() bool { return c.Hardware == HardwareSimulated }

// Memory returns the chip's registers as a byte map (validated
// values).
func (s SimChip) Memory() map[uint16][]byte {
	m := make(map[uint16][]byte, len(s.Registers))
	for k, vs := range s.Registers {
		reg, err := strconv.ParseUint(k, 0, 16)
		if err != nil {
			continue
		}
		b := make([]byte, len(vs))
		for i, v := range vs {
			b[i] = byte(v)
		}
		m[uint16(reg)] = b
	}
	return m
}

func (c *Config) validateHardware(v *validator) {
	switch c.Hardware {
	case "", HardwareHost, HardwareSimulated:
	default:
		modes := []string{HardwareHost, HardwareSimulated}
		v.errorf("hardware", "want host or simulated, got %q%s", c.Hardware, didYouMean(c.Hardware, modes))
	}
	if len(c.Simulation.I2C) > 0 && !c.Simulated() {
		v.errorf("simulation", "applies only with hardware: simulated")
	}
	seen := make(map[string]string)
	for i, s := range c.Simulation.I2C {
		path := "simulation.i2c[" + strconv.Itoa(i) + "]"
		if s.Address < 1 || s.Address > 127 {
			v.errorf(path+".address", "must be a 7-bit address 1..127 (e.g. 0x76), got %d", s.Address)
		}
		key := s.Bus + "/" + strconv.Itoa(s.Address)
		if other, ok := seen[key]; ok {
			v.errorf(path+".address", "bus %q address %#x is already used by %s", s.Bus, s.Address, other)
		}
		seen[key] = path
		pb := s.PointerBytes
		if pb == 0 {
			pb = 1
		}
		if pb != 1 && pb != 2 {
			v.errorf(path+".pointer_bytes", "must be 1 or 2, got %d", s.PointerBytes)
			continue
		}
		keys := make([]string, 0, len(s.Registers))
		for k := range s.Registers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kp := path + ".registers." + k
			reg, err := strconv.ParseUint(strings.ReplaceAll(k, "_", ""), 0, 16)
			if err != nil || reg >= 1<<(8*pb) {
				v.errorf(kp, "register %q is not a number below %#x", k, 1<<(8*pb))
				continue
			}
			vals := s.Registers[k]
			if len(vals) == 0 {
				v.errorf(kp, "needs at least one byte")
			}
			if int(reg)+len(vals) > 1<<(8*pb) {
				v.errorf(kp, "%d bytes from %#x run past the last register", len(vals), reg)
			}
			for j, b := range vals {
				if b < 0 || b > 255 {
					v.errorf(kp+"["+strconv.Itoa(j)+"]", "a byte is 0..255, got %d", b)
				}
			}
		}
	}
	if p := c.HomeAssistant.Prefix; p != "" {
		if strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "$") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
			v.errorf("homeassistant.prefix", "%q is not a valid topic prefix", p)
		}
	}
}
