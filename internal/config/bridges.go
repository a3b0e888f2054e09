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
	// Address of the uplink: tcp://host:port or tls://host:port.
	Address string `yaml:"address"`
	// TLS configures tls:// addresses.
	TLS BridgeTLS `yaml:"tls"`
	// Protocol is "3.1.1" (default) or "5".
	Protocol string `yaml:"protocol"`
	// ClientID on the uplink; empty: edgemq-<gateway id>-<name>.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
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
			checkBridgeRule(v, p, "local", r.Local, "remote", r.Remote, r.QoS)
		}
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
	for _, x := range []struct{ k, s string }{{fk, filter}, {tk, target}} {
		switch {
		case x.s == "":
			v.errorf(path+"."+x.k, "must not be empty")
		case strings.Contains(x.s, "+"):
			v.errorf(path+"."+x.k, `"+" is not supported in bridge rules, got %q`, x.s)
		case strings.Count(x.s, "#") > 1 || (strings.Contains(x.s, "#") && x.s != "#" && !strings.HasSuffix(x.s, "/#")):
			v.errorf(path+"."+x.k, `"#" may only be the last level, got %q`, x.s)
		}
	}
	if filter != "" && target != "" && strings.HasSuffix(filter, "#") != strings.HasSuffix(target, "#") {
		v.errorf(path+"."+tk, `must end in "#" exactly when %s does, got %q for %q`, fk, target, filter)
	}
	if qos < 0 || qos > 2 {
		v.errorf(path+".qos", "must be 0, 1 or 2, got %d", qos)
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
