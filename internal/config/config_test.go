package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgemq/edgemq/broker/topic"
)

const testHost = "test-host"

func TestMain(m *testing.M) {
	hostname = func() (string, error) { return testHost, nil }
	os.Exit(m.Run())
}

func ptr[T any](v T) *T { return &v }

// plain returns c without its file information, for comparisons.
func plain(c *Config) Config {
	x := *c
	x.meta = nil
	return x
}

// defaults is the default configuration, written out.
func defaults() Config {
	return Config{
		Gateway: Gateway{ID: testHost},
		Broker: Broker{
			Listeners: []Listener{{Type: "tcp", Address: "127.0.0.1:1883"}},
			Limits: Limits{
				MaxConnections:    2000,
				MaxPacketSize:     256 * KiB,
				MaxKeepAlive:      0,
				MaxInflight:       32,
				MaxQueuedMessages: 1000,
				ReceiveMaximum:    64,
			},
			SysInterval: Duration(10 * time.Second),
		},
		Storage:       Storage{Dir: "./data"},
		Bridges:       []Bridge{},
		Sinks:         []Sink{},
		Devices:       []Device{},
		Hardware:      "host",
		HomeAssistant: HomeAssistant{Prefix: "homeassistant"},
		HTTP:          HTTP{Address: "127.0.0.1:8080", Open: true},
		Log:           Log{Level: "info"},
		MemoryLimit:   0,
	}
}

func TestDefault(t *testing.T) {
	got := plain(Default())
	want := defaults()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Default():\ngot  %+v\nwant %+v", got, want)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestDefaultYAML(t *testing.T) {
	// The embedded file must parse on its own, with no problem at all.
	d := newDecoder("default.yaml")
	var c Config
	d.decodeDocument(DefaultYAML(), reflect.ValueOf(&c).Elem())
	if err := d.err(); err != nil {
		t.Fatalf("default.yaml: %v", err)
	}
	// Every key of the file is in default.yaml, so that it documents
	// every default.
	for _, path := range allKeyPaths(reflect.TypeFor[Config](), "") {
		if strings.HasPrefix(path, "broker.auth.roles[0]") || strings.HasPrefix(path, "bridges[0]") || strings.HasPrefix(path, "devices[0]") ||
			strings.HasPrefix(path, "simulation.i2c[0]") || strings.HasPrefix(path, "sinks[0]") {
			continue // no roles, bridges, devices or chips by default (documented in comments)
		}
		if _, ok := d.lines[path]; !ok {
			t.Errorf("default.yaml does not set %s", path)
		}
	}
	got, err := Parse("default.yaml", DefaultYAML())
	if err != nil {
		t.Fatalf("Parse(default.yaml) = %v", err)
	}
	if !reflect.DeepEqual(plain(got), defaults()) {
		t.Errorf("Parse(default.yaml):\ngot  %+v\nwant %+v", plain(got), defaults())
	}
}

// shownByAnyBridge reports whether a bridges[0].key path is shown by some
// entry of the bridges list: the keys of different presets cannot all be
// set on one bridge.
func shownByAnyBridge(lines map[string]pos, path string) bool {
	rest, ok := strings.CutPrefix(path, "bridges[0]")
	if !ok {
		return false
	}
	for i := 0; i < 8; i++ {
		if _, ok := lines["bridges["+strconv.Itoa(i)+"]"+rest]; ok {
			return true
		}
	}
	return false
}

// allKeyPaths lists the key paths of the struct type t, entering
// structs (and the first element of lists of structs).
func allKeyPaths(t reflect.Type, path string) []string {
	var out []string
	info := structInfoOf(t)
	for _, name := range info.names {
		p := keyPath(path, name)
		out = append(out, p)
		ft := t.FieldByIndex(info.byName[name]).Type
		switch {
		case ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(textUnmarshalerType):
			out = append(out, allKeyPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			for _, sub := range allKeyPaths(ft.Elem(), p+"[0]") {
				// allow_anonymous is nil by default; a rule shows one of
				// its keys (publish, subscribe or topic).
				if !strings.HasSuffix(sub, ".allow_anonymous") && !strings.Contains(sub, "allow[0].") && !strings.Contains(sub, "deny[0].") {
					out = append(out, sub)
				}
			}
		}
	}
	return out
}

func TestExampleFile(t *testing.T) {
	c, err := Load("../../edgemq.example.yaml")
	if err != nil {
		t.Fatalf("Load(edgemq.example.yaml) = %v", err)
	}
	// The example shows every key, each with a value other than its
	// default (except log.level), so that a typo in it cannot hide.
	d := newDecoder("edgemq.example.yaml")
	data, err := os.ReadFile("../../edgemq.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var x Config
	d.decodeDocument(data, reflect.ValueOf(&x).Elem())
	for _, path := range allKeyPaths(reflect.TypeFor[Config](), "") {
		if _, ok := d.lines[path]; !ok && !shownByAnyDevice(d.lines, path) && !shownByAnyBridge(d.lines, path) {
			t.Errorf("edgemq.example.yaml does not show %s", path)
		}
	}
	want := Config{
		Gateway: Gateway{ID: "gw1"},
		Broker: Broker{
			Listeners: []Listener{
				{Type: "wss", Address: "0.0.0.0:8081", Cert: "/etc/edgemq/server.pem", Key: "/etc/edgemq/server.key",
					ClientCA: "/etc/edgemq/ca.pem", RequireCertificate: true, UseIdentityAsUsername: true, Path: "/ws", MaxConnections: 200},
				{Type: "tcp", Address: "127.0.0.1:1883"},
				{Type: "tcp", Address: "0.0.0.0:1884", AllowAnonymous: ptr(true)},
				{Type: "tls", Address: "0.0.0.0:8883", Cert: "/etc/edgemq/server.pem", Key: "/etc/edgemq/server.key", ClientCA: "/etc/edgemq/ca.pem"},
				{Type: "ws", Address: "0.0.0.0:8080"},
			},
			Limits: Limits{
				MaxConnections:    500,
				MaxPacketSize:     64 * KiB,
				MaxKeepAlive:      Duration(5 * time.Minute),
				MaxInflight:       16,
				MaxQueuedMessages: 500,
				ReceiveMaximum:    32,
			},
			Auth: Auth{
				PasswordFile: "/etc/edgemq/passwd",
				Roles: []Role{
					{Name: "operator", Admin: true,
						Allow: []Rule{{Subscribe: "#"}, {Publish: "edgemq/+/+/+/set"}, {Topic: "home/%u/#"}},
						Deny:  []Rule{{Subscribe: "secrets/#"}}},
					{Name: "sensors", Allow: []Rule{{Publish: "sensors/%c/#"}, {Subscribe: "cmd/%c/+"}}, Deny: []Rule{}},
				},
				Users:          map[string][]string{"alice": {"operator"}, "pi-sensor-1": {"sensors"}},
				AnonymousRoles: []string{"sensors"},
			},
			SysInterval: Duration(30 * time.Second),
		},
		Storage: Storage{Dir: "/var/lib/edgemq"},
		Bridges: []Bridge{{
			Name: "cloud", Address: "tls://broker.example.com:8883", Protocol: "5", ClientID: "gw1-cloud",
			TLS: BridgeTLS{CA: "/etc/edgemq/cloud-ca.pem", Cert: "/etc/edgemq/gw1.pem", Key: "/etc/edgemq/gw1.key",
				ServerName: "mqtt.example.com", ALPN: []string{"mqtt"}},
			Username: "gw1", Password: "secret", KeepAlive: Duration(time.Minute),
			SessionExpiry: ptr(Duration(24 * time.Hour)), SequenceProperty: true, Window: 128,
			AckTimeout: Duration(20 * time.Second), Pace: BridgePace{MessagesPerSecond: 500, BytesPerSecond: MiB},
			Out:       []BridgeOut{{Local: "sensors/#", Remote: "site-7/sensors/#", QoS: 1, Retain: ptr(false)}},
			In:        []BridgeIn{{Remote: "site-7/cmd/#", Local: "cmd/#", QoS: 1}},
			Queue:     BridgeQueue{MaxBytes: GiB, WhenFull: "reject_new"},
			Reconnect: BridgeReconnect{Min: Duration(2 * time.Second), Max: Duration(5 * time.Minute)},
			Limits:    BridgeLimits{MaxPayload: 128 * KiB, MaxTopicBytes: 256, MaxTopicLevels: 8},
		}, {
			Name: "aws", Preset: PresetAWS, Address: "abc123-ats.iot.eu-west-1.amazonaws.com",
			AWS: BridgeAWS{ThingName: "gw1"}, TLS: BridgeTLS{Cert: "/etc/edgemq/gw1-aws.pem", Key: "/etc/edgemq/gw1-aws.key"},
			Out: []BridgeOut{{Local: "sensors/#", Remote: "gw1/sensors/#", QoS: 1}},
		}, {
			Name: "azure", Preset: PresetAzure,
			Azure: BridgeAzure{ConnectionString: "HostName=myhub.azure-devices.net;DeviceId=gw1;SharedAccessKey=c2VjcmV0LWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OQ==",
				TokenLifetime: Duration(2 * time.Hour), CloudToDevice: "c2d/#"},
			Out: []BridgeOut{{Local: "sensors/#", QoS: 1, TopicProperty: "src"}},
		}},
		Sinks: []Sink{{Name: "events", URL: "https://ingest.example.com/edgemq", Filters: []string{"sensors/#", "alarms/#"},
			Headers: map[string]Secret{"Authorization": "Bearer change-me"},
			TLS:     SinkTLS{CA: "/etc/edgemq/ingest-ca.pem", Cert: "/etc/edgemq/gw1.pem", Key: "/etc/edgemq/gw1.key", ServerName: "ingest.example.com"},
			Gzip:    true, Timeout: Duration(5 * time.Second),
			Batch: SinkBatch{MaxMessages: 500, MaxBytes: 256 * KiB, MaxDelay: Duration(2 * time.Second)},
			Pace:  SinkPace{MessagesPerSecond: 200}, Queue: SinkQueue{MaxBytes: 512 * MiB, WhenFull: "reject_new"},
			Retry: SinkRetry{Min: Duration(2 * time.Second), Max: Duration(5 * time.Minute)}}},
		Devices:  exampleDevices(),
		Hardware: "simulated",
		Simulation: Simulation{I2C: []SimChip{{Bus: "1", Address: 0x77, PointerBytes: 1,
			Registers: map[string][]int{"0xD0": {0x60}}}}},
		HomeAssistant: HomeAssistant{Discovery: true, Prefix: "ha"},
		HTTP:          HTTP{Address: "0.0.0.0:8443", Cert: "/etc/edgemq/server.pem", Key: "/etc/edgemq/server.key"},
		Log:           Log{Level: "info"},
		MemoryLimit:   96 * MiB,
		MaxProcs:      2,
	}
	if got := plain(c); !reflect.DeepEqual(got, want) {
		t.Errorf("edgemq.example.yaml:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestParseFixtures(t *testing.T) {
	full := Config{
		Gateway: Gateway{ID: "gw-full.site_7"},
		Broker: Broker{
			Listeners: []Listener{
				{Type: "tcp", Address: "127.0.0.1:1883", AllowAnonymous: ptr(true)},
				{Type: "tcp", Address: "0.0.0.0:1884", AllowAnonymous: ptr(false)},
				{Type: "tcp", Address: "[::1]:1885"},
				{Type: "tcp", Address: "localhost:0"},
			},
			Limits: Limits{
				MaxConnections:    10,
				MaxPacketSize:     MiB,
				MaxKeepAlive:      Duration(2 * time.Minute),
				MaxInflight:       65535,
				MaxQueuedMessages: 5,
				ReceiveMaximum:    1,
			},
			SysInterval: 0,
		},
		Storage: Storage{Dir: "/var/lib/edgemq # not a comment"},
		Bridges: []Bridge{},
		Sinks:   []Sink{}, Devices: []Device{}, Hardware: "host", HomeAssistant: HomeAssistant{Prefix: "homeassistant"}, HTTP: HTTP{Address: "127.0.0.1:8080", Open: true},
		Log:         Log{Level: "debug"},
		MemoryLimit: GB,
	}
	minimal := defaults()
	minimal.Gateway.ID = "gw-min"
	anchors := defaults()
	anchors.Gateway.ID = "gw-anchors"
	anchors.Broker.Listeners = []Listener{
		{Type: "tcp", Address: "0.0.0.0:1883", AllowAnonymous: ptr(false)},
		{Type: "tcp", Address: "127.0.0.1:1884", AllowAnonymous: ptr(true)},
		{Type: "tcp", Address: ":0", AllowAnonymous: ptr(false)},
	}
	anchors.Broker.Limits.MaxConnections = 100
	anchors.Broker.Limits.MaxQueuedMessages = 100
	anchors.Log.Level = "warn"

	tests := []struct {
		file string
		want Config
	}{
		{"full.yaml", full},
		{"minimal.yaml", minimal},
		{"empty.yaml", defaults()},
		{"nulls.yaml", defaults()},
		{"anchors.yaml", anchors},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := plain(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load:\ngot  %+v\nwant %+v", got, tt.want)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestParseFixtureErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"bad_mixed.yaml", []string{
			`testdata/bad_mixed.yaml:5: broker.sys_interval: duration "10" has no unit; write e.g. "10s" (units: ns, us, ms, s, m, h)`,
			`testdata/bad_mixed.yaml:7: broker.limts: unknown key (did you mean "limits"?)`,
			`testdata/bad_mixed.yaml:9: broker.limits.max_connections: want an integer, got "lots"`,
			`testdata/bad_mixed.yaml:12: broker.listeners[1].address: missing port`,
			`testdata/bad_mixed.yaml:13: log.level: unknown level "verbose"; known levels: debug, info, warn, error`,
			`testdata/bad_mixed.yaml:16: storage.dir: duplicate key (first on line 15)`,
		}},
		{"bad_syntax.yaml", []string{
			`testdata/bad_syntax.yaml:6: syntax error: did not find expected key`,
		}},
		{"bad_two_documents.yaml", []string{
			`testdata/bad_two_documents.yaml:2: a second YAML document starts here; the configuration must be a single document`,
		}},
		{"bad_alias_bomb.yaml", []string{
			`testdata/bad_alias_bomb.yaml:9: broker.listeners[4]: aliases expand to more than 10000 values; write the configuration out`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatalf("Load = %+v, nil; want errors", plain(c))
			}
			if c != nil {
				t.Errorf("Load returned a config with the error")
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("Load error:\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(c *Config)
	}{
		{"empty", "", func(c *Config) {}},
		{"only a document marker", "---\n", func(c *Config) {}},
		{"document end marker", "gateway: {id: a}\n...\n", func(c *Config) { c.Gateway.ID = "a" }},
		{"null document", "~\n", func(c *Config) {}},
		{"byte order mark", "\uFEFFgateway: {id: a}\n", func(c *Config) { c.Gateway.ID = "a" }},
		{"windows line ends", "gateway:\r\n  id: a\r\n", func(c *Config) { c.Gateway.ID = "a" }},
		{"empty id means the host name", `gateway: {id: ""}`, func(c *Config) {}},
		{"numeric id", "gateway: {id: 0123}", func(c *Config) { c.Gateway.ID = "0123" }},
		{"no listeners", "broker: {listeners: []}", func(c *Config) { c.Broker.Listeners = []Listener{} }},
		{"listeners replace the default", "broker:\n  listeners:\n    - {type: tcp, address: ':1883'}\n", func(c *Config) {
			c.Broker.Listeners = []Listener{{Type: "tcp", Address: ":1883"}}
		}},
		{"allow_anonymous null", "broker: {listeners: [{type: tcp, address: ':1', allow_anonymous: ~}]}", func(c *Config) {
			c.Broker.Listeners = []Listener{{Type: "tcp", Address: ":1"}}
		}},
		{"booleans in capitals", "broker: {listeners: [{type: tcp, address: ':1', allow_anonymous: TRUE}]}", func(c *Config) {
			c.Broker.Listeners = []Listener{{Type: "tcp", Address: ":1", AllowAnonymous: ptr(true)}}
		}},
		{"same port on different hosts", "broker: {listeners: [{type: tcp, address: '127.0.0.1:1883'}, {type: tcp, address: '192.0.2.1:1883'}, {type: tcp, address: '[::1]:1883'}]}", func(c *Config) {
			c.Broker.Listeners = []Listener{{Type: "tcp", Address: "127.0.0.1:1883"}, {Type: "tcp", Address: "192.0.2.1:1883"}, {Type: "tcp", Address: "[::1]:1883"}}
		}},
		{"port 0 twice", "broker: {listeners: [{type: tcp, address: ':0'}, {type: tcp, address: ':0'}]}", func(c *Config) {
			c.Broker.Listeners = []Listener{{Type: "tcp", Address: ":0"}, {Type: "tcp", Address: ":0"}}
		}},
		{"integers", "broker: {limits: {max_connections: 0x10, max_inflight: 0100, max_queued_messages: 1_000, receive_maximum: +7}}", func(c *Config) {
			c.Broker.Limits.MaxConnections = 16
			c.Broker.Limits.MaxInflight = 100
			c.Broker.Limits.MaxQueuedMessages = 1000
			c.Broker.Limits.ReceiveMaximum = 7
		}},
		{"limits at their bounds", "broker: {limits: {max_connections: 1, max_packet_size: 16, max_keep_alive: 65535s, max_inflight: 1, max_queued_messages: 1, receive_maximum: 65535}}", func(c *Config) {
			c.Broker.Limits = Limits{MaxConnections: 1, MaxPacketSize: 16, MaxKeepAlive: Duration(65535 * time.Second), MaxInflight: 1, MaxQueuedMessages: 1, ReceiveMaximum: 65535}
		}},
		{"largest packet", "broker: {limits: {max_packet_size: 256MiB, max_keep_alive: 1s}}", func(c *Config) {
			c.Broker.Limits.MaxPacketSize = 256 * MiB
			c.Broker.Limits.MaxKeepAlive = Duration(time.Second)
		}},
		{"quoted size and duration", `broker: {limits: {max_packet_size: "64KiB"}, sys_interval: "1m"}`, func(c *Config) {
			c.Broker.Limits.MaxPacketSize = 64 * KiB
			c.Broker.SysInterval = Duration(time.Minute)
		}},
		{"sys_interval 0", "broker: {sys_interval: 0}", func(c *Config) { c.Broker.SysInterval = 0 }},
		{"memory limit", "memory_limit: 96MiB", func(c *Config) { c.MemoryLimit = 96 * MiB }},
		{"memory limit in bytes", "memory_limit: 16777216", func(c *Config) { c.MemoryLimit = 16 * MiB }},
		{"max procs", "max_procs: 2", func(c *Config) { c.MaxProcs = 2 }},
		{"log levels", "log: {level: error}", func(c *Config) { c.Log.Level = "error" }},
		{"merge keeps explicit keys", "broker:\n  limits:\n    <<: {max_connections: 1, max_inflight: 2}\n    max_connections: 3\n", func(c *Config) {
			c.Broker.Limits.MaxConnections = 3
			c.Broker.Limits.MaxInflight = 2
		}},
		{"first merge wins", "broker:\n  limits:\n    <<: [{max_inflight: 1}, {max_inflight: 2, receive_maximum: 3}]\n", func(c *Config) {
			c.Broker.Limits.MaxInflight = 1
			c.Broker.Limits.ReceiveMaximum = 3
		}},
		{"alias as a key", "broker:\n  limits: {&k max_inflight: 5}\n  sys_interval: 1s\n", func(c *Config) {
			c.Broker.Limits.MaxInflight = 5
			c.Broker.SysInterval = Duration(time.Second)
		}},
		{"explicit standard tags", "gateway: {id: !!str gw}\nbroker: {limits: {max_connections: !!int 5}}\n", func(c *Config) {
			c.Gateway.ID = "gw"
			c.Broker.Limits.MaxConnections = 5
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("edgemq.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.yaml, err)
			}
			want := defaults()
			tt.want(&want)
			if got := plain(c); !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q):\ngot  %+v\nwant %+v", tt.yaml, got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the whole error, lines joined with \n
	}{
		// Keys.
		{"unknown top-level key", "brokr: {}",
			`edgemq.yaml:1: brokr: unknown key (did you mean "broker"?)`},
		{"unknown key, no suggestion", "widgets: []",
			`edgemq.yaml:1: widgets: unknown key; known keys: gateway, broker, storage, bridges, sinks, devices, hardware, simulation, homeassistant, http, log, memory_limit, max_procs`},
		{"unknown nested key", "broker:\n  limits:\n    max_conections: 5\n",
			`edgemq.yaml:3: broker.limits.max_conections: unknown key (did you mean "max_connections"?)`},
		{"key in camel case", "broker: {limits: {maxConnections: 5}}",
			`edgemq.yaml:1: broker.limits.maxConnections: unknown key (did you mean "max_connections"?)`},
		{"key with a dash", "memory-limit: 1GiB",
			`edgemq.yaml:1: memory-limit: unknown key (did you mean "memory_limit"?)`},
		{"unknown key in a listener", "broker:\n  listeners:\n    - type: tcp\n      address: ':1'\n      adress: ':2'\n",
			`edgemq.yaml:5: broker.listeners[0].adress: unknown key (did you mean "address"?)`},
		{"odd key quoted in the path", "broker: {\"a b\": 1, \"\": 2}",
			"edgemq.yaml:1: broker.\"a b\": unknown key; known keys: listeners, limits, auth, sys_interval\n" +
				`edgemq.yaml:1: broker."": unknown key; known keys: listeners, limits, auth, sys_interval`},
		{"duplicate key", "log:\n  level: info\n  level: debug\n",
			`edgemq.yaml:3: log.level: duplicate key (first on line 2)`},
		{"duplicate section", "gateway: {id: a}\nlog: {}\ngateway: {id: b}\n",
			`edgemq.yaml:3: gateway: duplicate key (first on line 1)`},
		{"list as a key", "broker: {[a]: 1}",
			`edgemq.yaml:1: broker: want a string key, got a list`},

		// Types.
		{"not an integer", "broker:\n  limits:\n    max_connections: lots\n",
			`edgemq.yaml:3: broker.limits.max_connections: want an integer, got "lots"`},
		{"quoted integer", `broker: {limits: {max_inflight: "5"}}`,
			`edgemq.yaml:1: broker.limits.max_inflight: want an integer, got "5"`},
		{"float for an integer", `broker: {limits: {max_inflight: 1.5}}`,
			`edgemq.yaml:1: broker.limits.max_inflight: want an integer, got "1.5"`},
		{"integer out of range", `broker: {limits: {max_inflight: 99999999999999999999}}`,
			`edgemq.yaml:1: broker.limits.max_inflight: "99999999999999999999" is out of range`},
		{"integer out of int64 range", `broker: {limits: {max_inflight: 9223372036854775808}}`,
			`edgemq.yaml:1: broker.limits.max_inflight: "9223372036854775808" is out of range`},
		{"mapping for an integer", `broker: {limits: {max_inflight: {a: 1}}}`,
			`edgemq.yaml:1: broker.limits.max_inflight: want an integer, got a mapping`},
		{"yes is not a boolean", "broker: {listeners: [{type: tcp, address: ':1', allow_anonymous: yes}]}",
			`edgemq.yaml:1: broker.listeners[0].allow_anonymous: want true or false, got "yes"`},
		{"quoted boolean", `broker: {listeners: [{type: tcp, address: ':1', allow_anonymous: "true"}]}`,
			`edgemq.yaml:1: broker.listeners[0].allow_anonymous: want true or false, got "true"`},
		{"list for a string", "gateway: {id: [a, b]}",
			`edgemq.yaml:1: gateway.id: want a string, got a list`},
		{"scalar for a section", "broker: 5",
			`edgemq.yaml:1: broker: want a mapping, got "5"`},
		{"list for a section", "log: [info]",
			`edgemq.yaml:1: log: want a mapping, got a list`},
		{"mapping for a list", "broker:\n  listeners: {type: tcp}\n",
			`edgemq.yaml:2: broker.listeners: want a list, got a mapping`},
		{"scalar in a list", "broker:\n  listeners:\n    - tcp://0.0.0.0:1883\n",
			`edgemq.yaml:3: broker.listeners[0]: want a mapping, got "tcp://0.0.0.0:1883"`},
		{"top level is a list", "- gateway\n",
			`edgemq.yaml:1: want a mapping, got a list`},
		{"top level is a scalar", "hello\n",
			`edgemq.yaml:1: want a mapping, got "hello"`},
		{"unsupported tag", "gateway: {id: !secret x}",
			`edgemq.yaml:1: gateway.id: unsupported tag "!secret"`},
		{"binary tag", "gateway: {id: !!binary aGk=}",
			`edgemq.yaml:1: gateway.id: unsupported tag "!!binary"`},
		{"long value shortened", "broker: {limits: {max_inflight: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}",
			`edgemq.yaml:1: broker.limits.max_inflight: want an integer, got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"...`},

		// Durations and sizes.
		{"duration without unit", "broker:\n  sys_interval: 10\n",
			`edgemq.yaml:2: broker.sys_interval: duration "10" has no unit; write e.g. "10s" (units: ns, us, ms, s, m, h)`},
		{"duration in days", "broker: {sys_interval: 1d}",
			`edgemq.yaml:1: broker.sys_interval: unknown duration unit "d" in "1d" (want ns, us, ms, s, m or h)`},
		{"negative duration", "broker: {sys_interval: -1s}",
			`edgemq.yaml:1: broker.sys_interval: duration must not be negative, got "-1s"`},
		{"mapping for a duration", "broker: {sys_interval: {s: 1}}",
			`edgemq.yaml:1: broker.sys_interval: want a duration such as "30s", got a mapping`},
		{"size with unknown unit", "broker: {limits: {max_packet_size: 64K}}",
			`edgemq.yaml:1: broker.limits.max_packet_size: unknown size unit "K" in "64K" (want B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)`},
		{"size in lower case", "memory_limit: 96mib",
			`edgemq.yaml:1: memory_limit: unknown size unit "mib" in "96mib" (did you mean "MiB"?)`},
		{"negative size", "memory_limit: -1MiB",
			`edgemq.yaml:1: memory_limit: size must not be negative, got "-1MiB"`},
		{"fractional size", "broker: {limits: {max_packet_size: 100.5}}",
			`edgemq.yaml:1: broker.limits.max_packet_size: size "100.5" is not a whole number of bytes`},
		{"list for a size", "memory_limit: [1]",
			`edgemq.yaml:1: memory_limit: want a size such as "256KiB", got a list`},

		// Ranges and names.
		{"max_connections 0", "broker: {limits: {max_connections: 0}}",
			`edgemq.yaml:1: broker.limits.max_connections: must be at least 1, got 0`},
		{"max_packet_size too small", "broker: {limits: {max_packet_size: 8}}",
			`edgemq.yaml:1: broker.limits.max_packet_size: must be between 16B and 256MiB, got 8B (a size without a unit is in bytes)`},
		{"max_packet_size too large", "broker: {limits: {max_packet_size: 1GiB}}",
			`edgemq.yaml:1: broker.limits.max_packet_size: must be between 16B and 256MiB, got 1GiB`},
		{"max_keep_alive too short", "broker: {limits: {max_keep_alive: 500ms}}",
			`edgemq.yaml:1: broker.limits.max_keep_alive: must be 0 (no cap) or between 1s and 65535s, got 500ms`},
		{"max_keep_alive too long", "broker: {limits: {max_keep_alive: 24h}}",
			`edgemq.yaml:1: broker.limits.max_keep_alive: must be 0 (no cap) or between 1s and 65535s, got 24h0m0s`},
		{"max_keep_alive not whole seconds", "broker: {limits: {max_keep_alive: 1500ms}}",
			`edgemq.yaml:1: broker.limits.max_keep_alive: must be a whole number of seconds, got 1.5s`},
		{"max_inflight too large", "broker: {limits: {max_inflight: 65536}}",
			`edgemq.yaml:1: broker.limits.max_inflight: must be between 1 and 65535, got 65536`},
		{"max_queued_messages 0", "broker: {limits: {max_queued_messages: 0}}",
			`edgemq.yaml:1: broker.limits.max_queued_messages: must be at least 1, got 0`},
		{"receive_maximum 0", "broker: {limits: {receive_maximum: 0}}",
			`edgemq.yaml:1: broker.limits.receive_maximum: must be between 1 and 65535, got 0`},
		{"sys_interval too short", "broker: {sys_interval: 100ms}",
			`edgemq.yaml:1: broker.sys_interval: must be 0 (disabled) or at least 1s, got 100ms`},
		{"memory_limit without unit", "memory_limit: 96",
			`edgemq.yaml:1: memory_limit: must be 0 (unset) or at least 16MiB, got 96B (a size without a unit is in bytes)`},
		{"memory_limit too small", "memory_limit: 8MiB",
			`edgemq.yaml:1: memory_limit: must be 0 (unset) or at least 16MiB, got 8MiB`},
		{"negative max_procs", "max_procs: -1",
			`edgemq.yaml:1: max_procs: must be 0 (every core) or a number of cores, got -1`},
		{"max_procs not a number", "max_procs: all",
			`edgemq.yaml:1: max_procs: want an integer, got "all"`},
		{"unknown log level", "log: {level: verbose}",
			`edgemq.yaml:1: log.level: unknown level "verbose"; known levels: debug, info, warn, error`},
		{"log level warning", "log: {level: warning}",
			`edgemq.yaml:1: log.level: unknown level "warning" (did you mean "warn"?); known levels: debug, info, warn, error`},
		{"log level in capitals", "log: {level: INFO}",
			`edgemq.yaml:1: log.level: unknown level "INFO" (did you mean "info"?); known levels: debug, info, warn, error`},
		{"empty storage dir", `storage: {dir: ""}`,
			`edgemq.yaml:1: storage.dir: must not be empty`},
		{"NUL in storage dir", `storage: {dir: "/var/lib\0"}`,
			`edgemq.yaml:1: storage.dir: must not contain a NUL character`},
		{"gateway id with a slash", "gateway: {id: site/gw1}",
			`edgemq.yaml:1: gateway.id: invalid character '/'; use letters, digits, '.', '_' and '-'`},
		{"gateway id with a wildcard", "gateway: {id: 'gw+'}",
			`edgemq.yaml:1: gateway.id: invalid character '+'; use letters, digits, '.', '_' and '-'`},
		{"gateway id too long", "gateway: {id: " + strings.Repeat("g", 65) + "}",
			`edgemq.yaml:1: gateway.id: must be at most 64 characters, got 65`},

		// Listeners.
		{"missing port", "broker:\n  listeners:\n    - {type: tcp, address: '127.0.0.1:1883'}\n    - {type: tcp, address: '0.0.0.0'}\n",
			`edgemq.yaml:4: broker.listeners[1].address: missing port`},
		{"empty port", "broker: {listeners: [{type: tcp, address: 'localhost:'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: missing port`},
		{"port too large", "broker: {listeners: [{type: tcp, address: ':65536'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: invalid port "65536" (want 0..65535)`},
		{"named port", "broker: {listeners: [{type: tcp, address: ':mqtt'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: invalid port "mqtt" (want 0..65535)`},
		{"signed port", "broker: {listeners: [{type: tcp, address: ':+1883'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: invalid port "+1883" (want 0..65535)`},
		{"ipv6 without brackets", "broker: {listeners: [{type: tcp, address: '::1:1883'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: invalid address "::1:1883": too many colons (write an IPv6 address in brackets, e.g. "[::1]:1883")`},
		{"unclosed bracket", "broker: {listeners: [{type: tcp, address: '[::1:1883'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: invalid address "[::1:1883": missing ']' in address`},
		{"bad host", "broker: {listeners: [{type: tcp, address: 'my host:1883'}]}",
			`edgemq.yaml:1: broker.listeners[0].address: invalid host "my host" (want an IP address or a host name)`},
		{"missing address", "broker:\n  listeners:\n    - type: tcp\n",
			`edgemq.yaml:3: broker.listeners[0].address: missing; want host:port, e.g. "127.0.0.1:1883"`},
		{"missing type", "broker:\n  listeners:\n    - address: ':1883'\n",
			`edgemq.yaml:3: broker.listeners[0].type: missing; known types: tcp, tls, ws, wss`},
		{"unknown type", "broker: {listeners: [{type: udp, address: ':1883'}]}",
			`edgemq.yaml:1: broker.listeners[0].type: unknown type "udp"; known types: tcp, tls, ws, wss`},
		{"misspelt type", "broker: {listeners: [{type: TCP, address: ':1883'}]}",
			`edgemq.yaml:1: broker.listeners[0].type: unknown type "TCP" (did you mean "tcp"?); known types: tcp, tls, ws, wss`},
		{"tls without cert and key", "broker:\n  listeners:\n    - {type: tls, address: ':8883'}\n",
			"edgemq.yaml:3: broker.listeners[0].cert: missing; a tls listener needs a certificate file\n" +
				"edgemq.yaml:3: broker.listeners[0].key: missing; a tls listener needs a private key file"},
		{"wss without key", "broker:\n  listeners:\n    - type: wss\n      address: ':443'\n      cert: s.pem\n",
			`edgemq.yaml:3: broker.listeners[0].key: missing; a wss listener needs a private key file`},
		{"require_certificate without client_ca", "broker:\n  listeners:\n    - type: tls\n      address: ':8883'\n      cert: s.pem\n      key: s.key\n      require_certificate: true\n",
			`edgemq.yaml:7: broker.listeners[0].require_certificate: needs client_ca to verify client certificates`},
		{"identity without client_ca", "broker:\n  listeners:\n    - {type: wss, address: ':1', cert: a, key: b, use_identity_as_username: true}\n",
			`edgemq.yaml:3: broker.listeners[0].use_identity_as_username: needs client_ca to verify client certificates`},
		{"cert on tcp", "broker:\n  listeners:\n    - type: tcp\n      address: ':1883'\n      cert: s.pem\n",
			`edgemq.yaml:5: broker.listeners[0].cert: does not apply to a tcp listener`},
		{"client_ca on ws", "broker:\n  listeners:\n    - type: ws\n      address: ':1'\n      client_ca: ca.pem\n",
			`edgemq.yaml:5: broker.listeners[0].client_ca: does not apply to a ws listener`},
		{"path on tls", "broker:\n  listeners:\n    - {type: tls, address: ':1', cert: a, key: b, path: /mqtt}\n",
			`edgemq.yaml:3: broker.listeners[0].path: does not apply to a tls listener`},
		{"relative path", "broker:\n  listeners:\n    - type: ws\n      address: ':1'\n      path: mqtt\n",
			`edgemq.yaml:5: broker.listeners[0].path: must start with /, got "mqtt"`},
		{"auth unknown role", "broker:\n  auth:\n    roles: [{name: a, allow: [{topic: x}]}]\n    users: {u: [a, zzz]}\n    anonymous_roles: [aa]\n",
			"edgemq.yaml:4: broker.auth.users.u[1]: unknown role \"zzz\"\n" +
				"edgemq.yaml:5: broker.auth.anonymous_roles[0]: unknown role \"aa\" (did you mean \"a\"?)"},
		{"auth bad rules", "broker:\n  auth:\n    roles:\n      - name: a\n        allow:\n          - {publish: x/#/y}\n          - {publish: a, subscribe: b}\n        deny: [{subscribe: $share/g/x}]\n      - {name: a}\n      - {name: ''}\n",
			"edgemq.yaml:6: broker.auth.roles[0].allow[0].publish: invalid filter \"x/#/y\": " + topicErr("x/#/y") + "\n" +
				"edgemq.yaml:7: broker.auth.roles[0].allow[1]: want exactly one of publish, subscribe or topic\n" +
				"edgemq.yaml:8: broker.auth.roles[0].deny[0].subscribe: a shared subscription filter \"$share/g/x\" is not a rule\n" +
				"edgemq.yaml:9: broker.auth.roles[1].name: role \"a\" is defined twice\n" +
				"edgemq.yaml:10: broker.auth.roles[2].name: missing"},
		{"same address twice", "broker:\n  listeners:\n    - {type: tcp, address: '127.0.0.1:1883'}\n    - {type: tcp, address: '127.0.0.1:1883'}\n",
			`edgemq.yaml:4: broker.listeners[1].address: port 1883 is already used by broker.listeners[0] ("127.0.0.1:1883")`},
		{"all interfaces and loopback", "broker:\n  listeners:\n    - {type: tcp, address: ':1883'}\n    - {type: tcp, address: '127.0.0.1:1883'}\n",
			`edgemq.yaml:4: broker.listeners[1].address: port 1883 is already used by broker.listeners[0] (":1883")`},
		{"ipv4 wildcard", "broker:\n  listeners:\n    - {type: tcp, address: '192.0.2.1:1883'}\n    - {type: tcp, address: '0.0.0.0:1883'}\n",
			`edgemq.yaml:4: broker.listeners[1].address: port 1883 is already used by broker.listeners[0] ("192.0.2.1:1883")`},
		{"ipv6 wildcard", "broker:\n  listeners:\n    - {type: tcp, address: '127.0.0.1:1883'}\n    - {type: tcp, address: '[::]:1883'}\n",
			`edgemq.yaml:4: broker.listeners[1].address: port 1883 is already used by broker.listeners[0] ("127.0.0.1:1883")`},

		// YAML itself.
		{"syntax error on line 1", "key: value: other\n",
			`edgemq.yaml:1: syntax error: mapping values are not allowed in this context`},
		{"syntax error on line 3", "gateway:\n  id: a\nlog: {level: info\n",
			`edgemq.yaml:3: syntax error: did not find expected ',' or '}'`},
		{"bad indentation", "broker:\n  limits:\n    max_inflight: 1\n   max_connections: 2\n",
			`edgemq.yaml:4: syntax error: did not find expected key`},
		{"tab indentation", "gateway:\n\tid: a\n",
			`edgemq.yaml:2: syntax error: found character that cannot start any token`},
		{"unterminated quote", "gateway:\n  id: \"a\n",
			`edgemq.yaml:2: syntax error: found unexpected end of stream`},
		{"list item in a mapping", "a: 1\nb:\n  - x\n  y: 2\n",
			`edgemq.yaml:4: syntax error: did not find expected '-' indicator`},
		{"unclosed flow list", "gateway: {id: a}\nbroker: {listeners: [\n  {type: tcp}\nlog: {}\n",
			`edgemq.yaml:3: syntax error: did not find expected ',' or ']'`},
		{"control character", "gateway:\n  id: a\x01\n",
			`edgemq.yaml:2: character U+0001 in column 8 is not allowed in a YAML file`},
		{"carriage return alone", "gateway:\r  id: a\r",
			`edgemq.yaml:1: carriage return without a line feed in column 9; save the file with LF or CR LF line ends`},
		{"unicode line separator", "gateway:\n  id: a\u2028b\n",
			`edgemq.yaml:2: character U+2028 in column 8 is not allowed in a YAML file`},
		{"next line character", "log: {level: info}\u0085gateway: {}\n",
			`edgemq.yaml:1: character U+0085 in column 19 is not allowed in a YAML file`},
		{"invalid UTF-8", "gateway:\n  id: \xffa\n",
			`edgemq.yaml:2: invalid UTF-8 (byte 0xff in column 7); save the file as UTF-8`},
		{"two documents", "gateway: {id: a}\n---\ngateway: {id: b}\n",
			`edgemq.yaml:2: a second YAML document starts here; the configuration must be a single document`},
		{"unknown anchor", "gateway:\n  id: *name\n",
			`edgemq.yaml:2: alias *name refers to an unknown anchor (define &name before using it)`},
		{"alias of its own parent", "broker: &b\n  limits: *b\n",
			`edgemq.yaml:2: broker.limits.limits: unknown key; known keys: max_connections, max_packet_size, max_keep_alive, max_inflight, max_queued_messages, receive_maximum`},
		{"merge containing itself", "broker:\n  limits: &l\n    <<: *l\n",
			`edgemq.yaml:3: broker.limits: alias *l refers to a value that contains it`},
		{"merge of a scalar", "broker:\n  limits:\n    <<: 5\n",
			`edgemq.yaml:3: broker.limits.<<: want a mapping or a list of mappings to merge, got "5"`},
		{"merge of a list of lists", "broker:\n  limits:\n    <<: [[a]]\n",
			`edgemq.yaml:3: broker.limits.<<: want a mapping or an alias of one, got a list`},

		// Several problems: all reported, ordered by line.
		{"several problems", "log: {level: loud}\nbroker:\n  limits: {max_inflight: 0, max_connections: many}\n  limts: {}\ngateway: {id: 'a b'}\n",
			"edgemq.yaml:1: log.level: unknown level \"loud\"; known levels: debug, info, warn, error\n" +
				"edgemq.yaml:3: broker.limits.max_inflight: must be between 1 and 65535, got 0\n" +
				"edgemq.yaml:3: broker.limits.max_connections: want an integer, got \"many\"\n" +
				"edgemq.yaml:4: broker.limts: unknown key (did you mean \"limits\"?)\n" +
				"edgemq.yaml:5: gateway.id: invalid character ' '; use letters, digits, '.', '_' and '-'"},
		{"a bad value is not reported again as invalid", "broker:\n  listeners:\n    - {type: [tcp], address: 5}\n",
			"edgemq.yaml:3: broker.listeners[0].type: want a string, got a list\n" +
				`edgemq.yaml:3: broker.listeners[0].address: missing port`},
		{"a bad listener is not reported again", "broker:\n  listeners:\n    - 5\n",
			`edgemq.yaml:3: broker.listeners[0]: want a mapping, got "5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("edgemq.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, nil; want error:\n%s", tt.yaml, plain(c), tt.want)
			}
			if c != nil {
				t.Errorf("Parse returned a config with the error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse(%q) error:\ngot:\n%s\nwant:\n%s", tt.yaml, got, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("errors.As(err, *Error) = false")
			}
		})
	}
}

func topicErr(f string) string { return topic.ValidFilter(f).Error() }

func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(": 1\n")
	}
	_, err := Parse("edgemq.yaml", []byte(b.String()))
	errs := Errors(err)
	if got, want := len(errs), maxErrors+1; got != want {
		t.Fatalf("got %d errors, want %d", got, want)
	}
	if got, want := errs[0].Error(), `edgemq.yaml:1: k: unknown key; known keys: gateway, broker, storage, bridges, sinks, devices, hardware, simulation, homeassistant, http, log, memory_limit, max_procs`; got != want {
		t.Errorf("first error:\ngot  %s\nwant %s", got, want)
	}
	if got, want := errs[maxErrors].Error(), "edgemq.yaml: too many problems; 5 more problems not shown"; got != want {
		t.Errorf("last error:\ngot  %s\nwant %s", got, want)
	}
	for i := 1; i < maxErrors; i++ {
		if errs[i].Line != i+1 {
			t.Errorf("error %d is on line %d, want %d", i, errs[i].Line, i+1)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "edgemq.yaml", Line: 12, Path: "broker.listeners[1].address", Msg: "missing port"}, "edgemq.yaml:12: broker.listeners[1].address: missing port"},
		{Error{File: "edgemq.yaml", Path: "gateway.id", Msg: "must not be empty"}, "edgemq.yaml: gateway.id: must not be empty"},
		{Error{File: "edgemq.yaml", Line: 3, Msg: "syntax error: x"}, "edgemq.yaml:3: syntax error: x"},
		{Error{Line: 3, Path: "log.level", Msg: "x"}, "line 3: log.level: x"},
		{Error{Path: "log.level", Msg: "x"}, "log.level: x"},
		{Error{Msg: "x"}, "x"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	if got := Errors(nil); got != nil {
		t.Errorf("Errors(nil) = %v, want nil", got)
	}
	if got := Errors(errors.New("x")); got != nil {
		t.Errorf("Errors(plain error) = %v, want nil", got)
	}
	one := &Error{Msg: "one"}
	two := &Error{Msg: "two"}
	got := Errors(errors.Join(one, fmtWrap(two)))
	if len(got) != 2 || got[0] != one || got[1] != two {
		t.Errorf("Errors(joined) = %v, want [one two]", got)
	}
}

type wrapped struct{ err error }

func (w wrapped) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func fmtWrap(err error) error { return wrapped{err} }

func TestValidate(t *testing.T) {
	// A Config built in code has no file: messages name the path only.
	c := Default()
	c.meta = nil
	c.Broker.Limits.MaxConnections = 0
	c.Broker.Listeners = append(c.Broker.Listeners, Listener{Type: "tcp", Address: "localhost"})
	c.Storage.Dir = " "
	c.Log.Level = ""
	c.MemoryLimit = -1
	c.Broker.SysInterval = Duration(-time.Second)
	c.Gateway.ID = ""
	want := strings.Join([]string{
		"gateway.id: must not be empty",
		"broker.listeners[1].address: missing port",
		"broker.limits.max_connections: must be at least 1, got 0",
		"broker.sys_interval: must be 0 (disabled) or at least 1s, got -1s",
		"storage.dir: must not be empty",
		`log.level: unknown level ""; known levels: debug, info, warn, error`,
		"memory_limit: must not be negative, got -1B",
	}, "\n")
	err := c.Validate()
	if err == nil {
		t.Fatalf("Validate() = nil, want:\n%s", want)
	}
	if got := err.Error(); got != want {
		t.Errorf("Validate():\ngot:\n%s\nwant:\n%s", got, want)
	}

	// A Config from a file names the file and the line, even after a
	// change in code.
	c, err = Parse("edgemq.yaml", []byte("gateway: {id: gw1}\nbroker:\n  limits:\n    max_inflight: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Broker.Limits.MaxInflight = 0
	c.Broker.Limits.ReceiveMaximum = 0
	want = "edgemq.yaml:3: broker.limits.receive_maximum: must be between 1 and 65535, got 0\n" +
		"edgemq.yaml:4: broker.limits.max_inflight: must be between 1 and 65535, got 0"
	if got := c.Validate(); got == nil || got.Error() != want {
		t.Errorf("Validate():\ngot:\n%v\nwant:\n%s", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	_, err := Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) error matches ErrInvalid")
	}

	if _, err := Load(dir); err == nil {
		t.Errorf("Load(directory) = nil error")
	}

	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big)
	if want := big + ": file is larger than 1MiB"; err == nil || err.Error() != want {
		t.Errorf("Load(big) = %v, want %s", err, want)
	}

	// Messages name the file as the caller wrote its path.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("log: {level: loud}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if want := bad + `:1: log.level: unknown level "loud"; known levels: debug, info, warn, error`; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v, want %s", err, want)
	}
}

func TestDefaultGatewayID(t *testing.T) {
	defer func(h func() (string, error)) { hostname = h }(hostname)
	tests := []struct {
		host string
		err  error
		want string
	}{
		{"raspberrypi", nil, "raspberrypi"},
		{"gw1.example.com", nil, "gw1.example.com"},
		{"Pi Zero #2", nil, "Pi-Zero--2"},
		{"héllo", nil, "h-llo"},
		{strings.Repeat("h", 70), nil, strings.Repeat("h", 64)},
		{"", nil, "edgemq"},
		{"##", nil, "edgemq"},
		{"x", errors.New("no hostname"), "edgemq"},
	}
	for _, tt := range tests {
		hostname = func() (string, error) { return tt.host, tt.err }
		if got := defaultGatewayID(); got != tt.want {
			t.Errorf("hostname %q: gateway id %q, want %q", tt.host, got, tt.want)
		}
		c := Default()
		if c.Gateway.ID != tt.want {
			t.Errorf("hostname %q: Default().Gateway.ID = %q, want %q", tt.host, c.Gateway.ID, tt.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	// A Config written with yaml.Marshal parses back to itself, so that
	// the effective configuration can be printed.
	for _, file := range []string{"full.yaml", "anchors.yaml", "minimal.yaml"} {
		c, err := Load(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("%s: yaml.Marshal: %v", file, err)
		}
		back, err := Parse("marshalled.yaml", out)
		if err != nil {
			t.Fatalf("%s: Parse(marshalled) = %v\n%s", file, err, out)
		}
		if !reflect.DeepEqual(plain(back), plain(c)) {
			t.Errorf("%s: round trip:\ngot  %+v\nwant %+v\n%s", file, plain(back), plain(c), out)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"max_connections", "max_packet_size", "max_keep_alive", "max_inflight", "max_queued_messages", "receive_maximum"}
	tests := []struct {
		in   string
		want string
	}{
		{"max_connection", "max_connections"},
		{"maxConnections", "max_connections"},
		{"MAX-INFLIGHT", "max_inflight"},
		{"max_keepalive", "max_keep_alive"},
		{"recieve_maximum", "receive_maximum"},
		{"max", ""}, // a prefix of several
		{"receive", "receive_maximum"},
		{"listeners", ""},
		{"", ""},
		{strings.Repeat("x", 1000), ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBridgesValidate(t *testing.T) {
	data := []byte(`bridges:
  - name: cloud
    address: tcp://broker.example.com:1883
    out:
      - {local: "sensors/#", remote: "site-7/sensors/#", qos: 1}
  - name: cloud
    address: mqtt://x:1883
    protocol: "4"
    keep_alive: 1500ms
    out:
      - {local: "a/+/b", remote: "c/#", qos: 3}
      - {local: "a/#", remote: "c", qos: 1}
    queue: {max_bytes: 1KiB, when_full: reject}
    reconnect: {min: 10s, max: 1s}
  - name: empty
    address: tcp://h:0
    tls: {cert: /x.pem}
`)
	_, err := Parse("edgemq.yaml", data)
	want := strings.Join([]string{
		`edgemq.yaml:6: bridges[1].name: duplicate bridge name "cloud"`,
		`edgemq.yaml:7: bridges[1].address: want tcp://host:port or tls://host:port, got "mqtt://x:1883"`,
		`edgemq.yaml:8: bridges[1].protocol: want 3.1.1 or 5, got "4"`,
		`edgemq.yaml:9: bridges[1].keep_alive: must be 0 (default 30s) or a whole number of seconds from 1s to 65535s, got 1.5s`,
		`edgemq.yaml:11: bridges[1].out[0].local: "+" is not supported in bridge rules, got "a/+/b"`,
		`edgemq.yaml:11: bridges[1].out[0].remote: must end in "#" exactly when local does, got "c/#" for "a/+/b"`,
		`edgemq.yaml:11: bridges[1].out[0].qos: must be 0, 1 or 2, got 3`,
		`edgemq.yaml:12: bridges[1].out[1].remote: must end in "#" exactly when local does, got "c" for "a/#"`,
		`edgemq.yaml:13: bridges[1].queue.max_bytes: must be between 64KiB and 1TiB, got 1KiB`,
		`edgemq.yaml:13: bridges[1].queue.when_full: want drop_oldest or reject_new, got "reject" (did you mean "reject_new"?)`,
		`edgemq.yaml:14: bridges[1].reconnect.max: must be 0 (default 2m) or at least reconnect.min, got 1s`,
		`edgemq.yaml:15: bridges[2]: has neither out nor in rules`,
		`edgemq.yaml:16: bridges[2].address: port must be between 1 and 65535, got "0"`,
		`edgemq.yaml:17: bridges[2].tls: needs a tls:// address, got "tcp://h:0"`,
		`edgemq.yaml:17: bridges[2].tls.cert: cert and key go together`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Parse:\ngot:\n%v\nwant:\n%s", err, want)
	}
}

// TestBridgeOptionsValidate covers the delivery options of a bridge.
func TestBridgeOptionsValidate(t *testing.T) {
	data := []byte(`bridges:
  - name: v5only
    address: tls://h:8883
    tls: {alpn: [""]}
    sequence_property: true
    session_expiry: 1500ms
    window: 40000
    pace: {messages_per_second: -1, bytes_per_second: 2TiB}
    in:
      - {remote: "cmd/#", local: "cmd/#", qos: 1}
`)
	_, err := Parse("edgemq.yaml", data)
	want := strings.Join([]string{
		`edgemq.yaml:4: bridges[0].tls.alpn[0]: must be 1 to 255 bytes, got ""`,
		`edgemq.yaml:5: bridges[0].sequence_property: needs protocol "5" (user properties are MQTT 5)`,
		`edgemq.yaml:6: bridges[0].session_expiry: must be a whole number of seconds from 0s to 4294967295s, got 1.5s`,
		`edgemq.yaml:7: bridges[0].window: must be 0 (default 64) to 32768, got 40000`,
		`edgemq.yaml:8: bridges[0].pace.messages_per_second: must not be negative, got -1`,
		`edgemq.yaml:8: bridges[0].pace.bytes_per_second: must be between 0B and 1TiB, got 2TiB`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Parse:\ngot:\n%v\nwant:\n%s", err, want)
	}
}
