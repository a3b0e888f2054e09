package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Bridge is one store-and-forward bridge to an uplink MQTT broker
// (package bridge). Zero values take the bridge's defaults.
type Bridge struct {
	// Name names the bridge and its forward queue; required, unique.
	Name string `yaml:"name"`
	// Preset fills in the defaults and checks of a cloud: aws-iot-core or
	// azure-iot-hub (see presets.go and docs/clouds.md); a key set here
	// wins over the preset's value.
	Preset string `yaml:"preset"`
	// AWS holds the settings of the aws-iot-core preset.
	AWS BridgeAWS `yaml:"aws"`
	// Azure holds the settings of the azure-iot-hub preset.
	Azure BridgeAzure `yaml:"azure"`
	// Address of the uplink: tcp://host:port or tls://host:port.
	Address string `yaml:"address"`
	// TLS configures tls:// addresses.
	TLS BridgeTLS `yaml:"tls"`
	// Protocol is "3.1.1" (default) or "5".
	Protocol string `yaml:"protocol"`
	// ClientID on the uplink; empty: edgemq-<gateway id>-<name>.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	// Password never shows when the configuration is printed or logged.
	Password Secret `yaml:"password"`
	// KeepAlive on the uplink; 0: 30s; else 1s..65535s.
	KeepAlive Duration `yaml:"keep_alive"`
	// CleanStart starts a fresh uplink session on every connect.
	CleanStart bool `yaml:"clean_start"`
	// SessionExpiry of the uplink session (MQTT 5); nil: 1h.
	SessionExpiry *Duration `yaml:"session_expiry"`
	// SequenceProperty adds the user property edgemq-seq (MQTT 5).
	SequenceProperty bool `yaml:"sequence_property"`
	// Window bounds the messages in flight; 0: 64.
	Window int `yaml:"window"`
	// AckTimeout: a missing PUBACK/PUBCOMP reconnects; 0: 30s.
	AckTimeout Duration `yaml:"ack_timeout"`
	// Pace bounds the forwarding rate (replay of a backlog included).
	Pace BridgePace `yaml:"pace"`
	// Limits drops (counted, logged) the messages the uplink would refuse.
	Limits BridgeLimits `yaml:"limits"`
	// Out rules: local filter -> remote topic prefix.
	Out []BridgeOut `yaml:"out"`
	// In rules: remote filter -> local topic prefix.
	In        []BridgeIn      `yaml:"in"`
	Queue     BridgeQueue     `yaml:"queue"`
	Reconnect BridgeReconnect `yaml:"reconnect"`
}

// BridgeTLS configures the TLS connection of a bridge (TLS 1.2 or later).
type BridgeTLS struct {
	// CA is a PEM file of the CAs that verify the uplink; empty: the
	// system's.
	CA string `yaml:"ca"`
	// Cert and Key are the PEM files of a client certificate; both or
	// neither.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ServerName verified in the uplink's certificate; empty: the
	// address's host.
	ServerName string `yaml:"server_name"`
	// ALPN lists the protocols offered in the TLS handshake, e.g.
	// [x-amzn-mqtt-ca] for AWS IoT Core on port 443.
	ALPN []string `yaml:"alpn"`
}

// BridgePace caps the forwarding of a bridge; 0 is no limit.
type BridgePace struct {
	MessagesPerSecond int  `yaml:"messages_per_second"`
	BytesPerSecond    Size `yaml:"bytes_per_second"`
}

// BridgeOut forwards local messages matching Local to the uplink, with
// Local's prefix replaced by Remote's ("sensors/#" -> "site-7/sensors/#").
type BridgeOut struct {
	Local  string `yaml:"local"`
	Remote string `yaml:"remote"`
	QoS    int    `yaml:"qos"` // 0, 1 or 2: the QoS used on the uplink
	// Retain overrides the retain flag on the uplink; unset: as published.
	Retain *bool `yaml:"retain"`
	// TopicProperty makes Remote one fixed topic and appends the local
	// topic to it as the property bag "<topic_property>=<url-encoded
	// topic>" (Azure IoT Hub's events topic).
	TopicProperty string `yaml:"topic_property"`
}

// BridgeLimits are per-message limits of the uplink; 0 is none. A message
// beyond one is dropped when its turn to be sent comes: counted in
// $SYS/broker/bridge/<name>/dropped/oversize or .../dropped/topic_limit
// and logged.
type BridgeLimits struct {
	// MaxPayload bounds a message's payload.
	MaxPayload Size `yaml:"max_payload"`
	// MaxTopicBytes bounds a remote topic's length in bytes.
	MaxTopicBytes int `yaml:"max_topic_bytes"`
	// MaxTopicLevels bounds a remote topic's levels (slashes + 1).
	MaxTopicLevels int `yaml:"max_topic_levels"`
}

// BridgeAWS holds the settings of the aws-iot-core preset.
type BridgeAWS struct {
	// ThingName is the AWS IoT thing: the client id unless client_id is
	// set.
	ThingName string `yaml:"thing_name"`
}

// BridgeAzure holds the settings of the azure-iot-hub preset.
type BridgeAzure struct {
	// ConnectionString is the device's connection string,
	// HostName=<hub>.azure-devices.net;DeviceId=<id>;SharedAccessKey=<key>.
	// A secret: never shown.
	ConnectionString Secret `yaml:"connection_string"`
	// TokenLifetime of the SAS tokens; 0: 1h. The bridge reconnects with
	// a fresh token at 80% of it.
	TokenLifetime Duration `yaml:"token_lifetime"`
	// CloudToDevice is the local filter under which cloud-to-device
	// messages are published (the default in rule); empty:
	// azure/devicebound/#.
	CloudToDevice string `yaml:"cloud_to_device"`
}

// BridgeIn republishes uplink messages matching Remote locally, with
// Remote's prefix replaced by Local's.
type BridgeIn struct {
	Remote string `yaml:"remote"`
	Local  string `yaml:"local"`
	QoS    int    `yaml:"qos"` // 0, 1 or 2: the QoS of the uplink subscription
}

// BridgeQueue bounds a bridge's forward queue.
type BridgeQueue struct {
	// MaxBytes bounds the queued payload; 0: 256MiB.
	MaxBytes Size `yaml:"max_bytes"`
	// WhenFull is drop_oldest (default) or reject_new.
	WhenFull string `yaml:"when_full"`
}

// BridgeReconnect bounds the reconnect back-off (exponential, jittered).
type BridgeReconnect struct {
	Min Duration `yaml:"min"` // 0: 1s
	Max Duration `yaml:"max"` // 0: 2m
}

// DefaultBridgeQueueBytes is the queue bound when max_bytes is 0.
const DefaultBridgeQueueBytes = 256 * MiB

var (
	bridgeProtocols = []string{"3.1.1", "5"}
	bridgePolicies  = []string{"drop_oldest", "reject_new"}
)

func validateBridges(v *validator, bs []Bridge) {
	names := make(map[string]bool)
	for i := range bs {
		b := &bs[i]
		path := "bridges[" + strconv.Itoa(i) + "]"
		switch {
		case b.Name == "":
			v.errorf(path+".name", "must not be empty")
		case strings.IndexFunc(b.Name, func(r rune) bool { return !validIDRune(r) }) >= 0:
			v.errorf(path+".name", "may hold only letters, digits, '.', '_' and '-', got %q", b.Name)
		case names[b.Name]:
			v.errorf(path+".name", "duplicate bridge name %q", b.Name)
		}
		names[b.Name] = true
		eff, perrs := applyPreset(*b)
		for _, e := range perrs {
			v.errorf(path+e.path, "%s", e.msg)
		}
		if len(perrs) > 0 {
			continue // the rest would repeat what the preset found missing
		}
		b = &eff
		hostPort, ok := strings.CutPrefix(b.Address, "tcp://")
		isTLS := false
		if !ok {
			hostPort, isTLS = strings.CutPrefix(b.Address, "tls://")
		}
		if !ok && !isTLS {
			v.errorf(path+".address", "want tcp://host:port or tls://host:port, got %q", b.Address)
		} else if host, port, err := net.SplitHostPort(hostPort); err != nil || host == "" {
			v.errorf(path+".address", "want tcp://host:port or tls://host:port, got %q", b.Address)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.errorf(path+".address", "port must be between 1 and 65535, got %q", port)
		}
		if t := b.TLS; (t.CA != "" || t.Cert != "" || t.Key != "" || t.ServerName != "" || len(t.ALPN) > 0) && !isTLS {
			v.errorf(path+".tls", "needs a tls:// address, got %q", b.Address)
		}
		if (b.TLS.Cert == "") != (b.TLS.Key == "") {
			v.errorf(path+".tls.cert", "cert and key go together")
		}
		if b.Protocol != "" && !contains(bridgeProtocols, b.Protocol) {
			v.errorf(path+".protocol", "want 3.1.1 or 5, got %q", b.Protocol)
		}
		if k := b.KeepAlive; k != 0 && (k < Duration(time.Second) || k > Duration(65535*time.Second) || k%Duration(time.Second) != 0) {
			v.errorf(path+".keep_alive", "must be 0 (default 30s) or a whole number of seconds from 1s to 65535s, got %s", k)
		}
		for j, p := range b.TLS.ALPN {
			if p == "" || len(p) > 255 {
				v.errorf(path+".tls.alpn["+strconv.Itoa(j)+"]", "must be 1 to 255 bytes, got %q", p)
			}
		}
		if e := b.SessionExpiry; e != nil && (*e < 0 || *e > Duration(0xFFFFFFFF*time.Second) || *e%Duration(time.Second) != 0) {
			v.errorf(path+".session_expiry", "must be a whole number of seconds from 0s to 4294967295s, got %s", *e)
		}
		if b.SequenceProperty && b.Protocol != "5" {
			v.errorf(path+".sequence_property", `needs protocol "5" (user properties are MQTT 5)`)
		}
		if b.Window < 0 || b.Window > 32768 {
			v.errorf(path+".window", "must be 0 (default 64) to 32768, got %d", b.Window)
		}
		if b.AckTimeout < 0 {
			v.errorf(path+".ack_timeout", "must not be negative, got %s", b.AckTimeout)
		}
		if b.Pace.MessagesPerSecond < 0 {
			v.errorf(path+".pace.messages_per_second", "must not be negative, got %d", b.Pace.MessagesPerSecond)
		}
		v.sizeBetween(path+".pace.bytes_per_second", b.Pace.BytesPerSecond, 0, 1<<40)
		if len(b.Out) == 0 && len(b.In) == 0 {
			v.errorf(path, "has neither out nor in rules")
		}
		for j, r := range b.Out {
			p := path + ".out[" + strconv.Itoa(j) + "]"
			if r.TopicProperty == "" {
				checkBridgeRule(v, p, "local", r.Local, "remote", r.Remote, r.QoS)
				continue
			}
			// One fixed remote topic; the local topic goes in a property.
			checkBridgeFilter(v, p+".local", r.Local)
			checkBridgeQoS(v, p, r.QoS)
			if r.Remote == "" || strings.ContainsAny(r.Remote, "+#") {
				v.errorf(p+".remote", "with topic_property, must be one topic without wildcards, got %q", r.Remote)
			}
		}
		if l := b.Limits; l.MaxTopicBytes < 0 || l.MaxTopicLevels < 0 {
			v.errorf(path+".limits", "must not be negative, got max_topic_bytes %d, max_topic_levels %d", l.MaxTopicBytes, l.MaxTopicLevels)
		}
		v.sizeBetween(path+".limits.max_payload", b.Limits.MaxPayload, 0, 256*MiB)
		for j, r := range b.In {
			p := path + ".in[" + strconv.Itoa(j) + "]"
			checkBridgeRule(v, p, "remote", r.Remote, "local", r.Local, r.QoS)
		}
		if q := b.Queue.MaxBytes; q != 0 {
			v.sizeBetween(path+".queue.max_bytes", q, 64*KiB, 1<<40)
		}
		if w := b.Queue.WhenFull; w != "" && !contains(bridgePolicies, w) {
			v.errorf(path+".queue.when_full", "want drop_oldest or reject_new, got %q%s", w, didYouMean(w, bridgePolicies))
		}
		if b.Reconnect.Min < 0 {
			v.errorf(path+".reconnect.min", "must not be negative, got %s", b.Reconnect.Min)
		}
		if b.Reconnect.Max < 0 || (b.Reconnect.Max != 0 && b.Reconnect.Max < b.Reconnect.Min) {
			v.errorf(path+".reconnect.max", "must be 0 (default 2m) or at least reconnect.min, got %s", b.Reconnect.Max)
		}
	}
}

// checkBridgeRule checks a rule's filter and target the way package
// bridge maps them: both end in "#" or neither, no "+".
func checkBridgeRule(v *validator, path, fk, filter, tk, target string, qos int) {
	checkBridgeFilter(v, path+"."+fk, filter)
	checkBridgeFilter(v, path+"."+tk, target)
	if filter != "" && target != "" && strings.HasSuffix(filter, "#") != strings.HasSuffix(target, "#") {
		v.errorf(path+"."+tk, `must end in "#" exactly when %s does, got %q for %q`, fk, target, filter)
	}
	checkBridgeQoS(v, path, qos)
}

func checkBridgeQoS(v *validator, path string, qos int) {
	if qos < 0 || qos > 2 {
		v.errorf(path+".qos", "must be 0, 1 or 2, got %d", qos)
	}
}

// checkBridgeFilter checks one side of a rule: not empty, no "+", "#"
// only as the last level.
func checkBridgeFilter(v *validator, path, s string) {
	switch {
	case s == "":
		v.errorf(path, "must not be empty")
	case strings.Contains(s, "+"):
		v.errorf(path, `"+" is not supported in bridge rules, got %q`, s)
	case strings.Count(s, "#") > 1 || (strings.Contains(s, "#") && s != "#" && !strings.HasSuffix(s, "/#")):
		v.errorf(path, `"#" may only be the last level, got %q`, s)
	}
}

// checkBridgeFiles reads the TLS files of the bridges (see CheckFiles).
func checkBridgeFiles(v *validator, bs []Bridge) {
	for i, b := range bs {
		p := fmt.Sprintf("bridges[%d].tls", i)
		if b.TLS.CA != "" {
			if _, err := LoadCertPool(b.TLS.CA); err != nil {
				v.errorf(p+".ca", "%v", err)
			}
		}
		if b.TLS.Cert != "" && b.TLS.Key != "" {
			if _, err := tls.LoadX509KeyPair(b.TLS.Cert, b.TLS.Key); err != nil {
				v.errorf(p+".cert", "%s with key %s: %v", b.TLS.Cert, b.TLS.Key, err)
			}
		}
	}
}
