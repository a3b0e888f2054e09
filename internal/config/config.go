package config

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// Adding a section: add a field with a `yaml:"name"` tag to Config (or
// to a section), using string, bool, integer, Size, Duration, *T for
// "unset", []T for lists of entries and map[string]T; give the default
// in default.yaml (documented there); add the checks that a value's type
// cannot express to a validate method (validate.go); show it in
// edgemq.example.yaml and add test cases. The decoder (decode.go) needs
// no change: unknown keys, wrong types, duplicates and line numbers are
// handled for every field.

// Config is the whole configuration file.
type Config struct {
	Gateway Gateway  `yaml:"gateway"`
	Broker  Broker   `yaml:"broker"`
	Storage Storage  `yaml:"storage"`
	Bridges []Bridge `yaml:"bridges"`
	// Sinks are the webhook sinks (sinks.go).
	Sinks   []Sink   `yaml:"sinks"`
	Devices []Device `yaml:"devices"`
	// Hardware is where GPIO and I2C devices are: "host" (default) or
	// "simulated" (see Simulation).
	Hardware      string        `yaml:"hardware"`
	Simulation    Simulation    `yaml:"simulation"`
	HomeAssistant HomeAssistant `yaml:"homeassistant"`
	HTTP          HTTP          `yaml:"http"`
	Log           Log           `yaml:"log"`
	MemoryLimit   Size          `yaml:"memory_limit"` // becomes GOMEMLIMIT; 0 = unset
	// MaxProcs is the most CPU cores the gateway runs on at once: it uses
	// one while one is enough and adds cores under load (internal/cpugov).
	// 0: every core available to it.
	MaxProcs int `yaml:"max_procs"`

	meta *meta // where the values came from, for messages
}

// meta records the file a Config was parsed from.
type meta struct {
	file  string
	lines map[string]pos // key path -> position of its value
	keys  map[string]pos // key path -> position of its key
}

// pos is a position in a file.
type pos struct{ line, col int }

// Gateway identifies this gateway.
type Gateway struct {
	// ID is used in topics and client ids. Default: the host name.
	ID string `yaml:"id"`
}

// Broker configures the MQTT broker.
type Broker struct {
	// Listeners default to one tcp listener on 127.0.0.1:1883. An empty
	// list means no network listeners (in-process clients only).
	Listeners []Listener `yaml:"listeners"`
	Limits    Limits     `yaml:"limits"`
	Auth      Auth       `yaml:"auth"`
	// SysInterval is how often $SYS topics are published; 0 disables
	// them. Default 10s.
	SysInterval Duration `yaml:"sys_interval"`
}

// Listener is one network endpoint of the broker.
type Listener struct {
	// Type is the transport: "tcp", "tls", "ws" (MQTT over WebSocket) or
	// "wss" (over WebSocket over TLS).
	Type string `yaml:"type"`
	// Address is host:port; an empty host means all interfaces.
	Address string `yaml:"address"`
	// AllowAnonymous says whether clients without a username may
	// connect. nil means the broker's default: allowed on loopback
	// listeners only.
	AllowAnonymous *bool `yaml:"allow_anonymous"`
	// Cert and Key are the PEM files of the server certificate (chain
	// first) and its private key; required for tls and wss.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ClientCA is a PEM file of the CAs that sign client certificates;
	// with it, tls and wss clients that present a certificate are
	// verified.
	ClientCA string `yaml:"client_ca"`
	// RequireCertificate refuses clients without a valid certificate
	// (needs ClientCA).
	RequireCertificate bool `yaml:"require_certificate"`
	// UseIdentityAsUsername takes the username from the client
	// certificate: its subject CN, else its first DNS name, else its
	// first email address. Needs ClientCA; implies RequireCertificate.
	UseIdentityAsUsername bool `yaml:"use_identity_as_username"`
	// Path is the HTTP path of ws and wss listeners; default "/mqtt".
	Path string `yaml:"path"`
	// MaxConnections caps this listener's connections; 0: only
	// broker.limits.max_connections applies.
	MaxConnections int `yaml:"max_connections"`
}

// Auth configures authentication and access control (package
// broker/auth). With neither a password file nor roles, clients are not
// checked (anonymous access is then the listeners' allow_anonymous).
type Auth struct {
	// PasswordFile holds "user:hash" lines, written by `edgemq passwd`
	// (or mosquitto_passwd). Empty: no client can log in with a username.
	PasswordFile string `yaml:"password_file"`
	// Roles grant publish and subscribe on topic filters. Without roles,
	// every connected client may publish and subscribe everywhere.
	Roles []Role `yaml:"roles"`
	// Users gives users their roles; a user without roles may connect
	// but do nothing.
	Users map[string][]string `yaml:"users"`
	// AnonymousRoles are the roles of clients without a username (on
	// listeners that allow them).
	AnonymousRoles []string `yaml:"anonymous_roles"`
}

// Role is a named set of rules. Filters may hold %u (username) and %c
// (client id). A deny rule wins over every allow rule.
type Role struct {
	Name string `yaml:"name"`
	// Admin lets the role's users log in to the dashboard and HTTP API.
	Admin bool   `yaml:"admin"`
	Allow []Rule `yaml:"allow"`
	Deny  []Rule `yaml:"deny"`
}

// Rule is one of {publish: F}, {subscribe: F} or {topic: F} (both).
type Rule struct {
	Publish   string `yaml:"publish"`
	Subscribe string `yaml:"subscribe"`
	Topic     string `yaml:"topic"`
}

// Filter returns the rule's filter and whether it covers publishing and
// subscribing.
func (r Rule) Filter() (filter string, publish, subscribe bool) {
	switch {
	case r.Topic != "":
		return r.Topic, true, true
	case r.Publish != "":
		return r.Publish, true, false
	default:
		return r.Subscribe, false, true
	}
}

// Limits bound what clients may use.
type Limits struct {
	MaxConnections    int      `yaml:"max_connections"`     // default 2000, >= 1
	MaxPacketSize     Size     `yaml:"max_packet_size"`     // default 256KiB, 16B..256MiB
	MaxKeepAlive      Duration `yaml:"max_keep_alive"`      // default 0 = no cap; else 1s..65535s
	MaxInflight       int      `yaml:"max_inflight"`        // default 32, 1..65535 (outbound QoS 1/2 window per client)
	MaxQueuedMessages int      `yaml:"max_queued_messages"` // default 1000, >= 1
	ReceiveMaximum    int      `yaml:"receive_maximum"`     // default 64, 1..65535 (inbound window granted to clients)
}

// Storage says where state is kept.
type Storage struct {
	Dir string `yaml:"dir"` // default "./data"
}

// Log configures logging.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn or error; default info
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration file, which
// documents every default.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// MaxFileSize is the largest configuration file Parse and Load accept.
const MaxFileSize = 1 << 20

// hostname is os.Hostname, replaced in tests.
var hostname = os.Hostname

// Default returns the embedded default configuration (default.yaml),
// which `edgemq run` uses when no file is given.
func Default() *Config {
	c, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		panic("config: the embedded default.yaml is invalid: " + err.Error())
	}
	return c
}

//go:embed demo.yaml
var demoYAML []byte

// DemoYAML returns the embedded demo configuration file.
func DemoYAML() []byte { return append([]byte(nil), demoYAML...) }

// Demo returns the configuration `edgemq run` uses when no file is
// given: the defaults plus a small set of simulated devices (demo.yaml).
func Demo() *Config {
	c, err := Parse("demo.yaml", demoYAML)
	if err != nil {
		panic("config: the embedded demo.yaml is invalid: " + err.Error())
	}
	return c
}

// Load reads and parses the configuration file at path. Messages name
// the file as path is written. A file that cannot be read gives the
// error of the os package (check it with errors.Is(err, fs.ErrNotExist)).
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a configuration file held in data and validates it.
// Keys the file leaves out get their defaults; an empty file gives the
// default configuration. name is the file name used in messages.
//
// The error lists every problem found (at most 20), ordered by line,
// each an *Error such as
//
//	edgemq.yaml:12: broker.listeners[1].address: missing port
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file is larger than %s", Size(MaxFileSize))}
	}
	c := &Config{}
	base := newDecoder("default.yaml")
	base.decodeDocument(defaultYAML, reflect.ValueOf(c).Elem())
	if err := base.err(); err != nil {
		panic("config: the embedded default.yaml is invalid: " + err.Error())
	}

	d := newDecoder(name)
	d.decodeDocument(data, reflect.ValueOf(c).Elem())
	c.fillDefaults()
	c.meta = &meta{file: name, lines: d.lines, keys: d.keys}

	if d.budget < 0 {
		// Decoding stopped part way: validating what it left would only
		// add noise.
		return nil, d.err()
	}
	v := newValidator(c.meta)
	c.validate(v)
	for _, e := range v.errs {
		// A value that could not be decoded kept its default; do not
		// report that default as a second problem.
		if !relatedToAny(e.Path, d.errPaths) {
			d.add(e)
		}
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// fillDefaults sets the defaults that default.yaml cannot hold.
func (c *Config) fillDefaults() {
	// An empty auth list or map means the same as none.
	a := &c.Broker.Auth
	if len(a.Roles) == 0 {
		a.Roles = nil
	}
	if len(a.Users) == 0 {
		a.Users = nil
	}
	if len(a.AnonymousRoles) == 0 {
		a.AnonymousRoles = nil
	}
	if c.Gateway.ID == "" {
		c.Gateway.ID = defaultGatewayID()
	}
	for i := range c.Bridges {
		if len(c.Bridges[i].TLS.ALPN) == 0 {
			c.Bridges[i].TLS.ALPN = nil
		}
		if len(c.Bridges[i].Out) == 0 {
			c.Bridges[i].Out = nil
		}
		if len(c.Bridges[i].In) == 0 {
			c.Bridges[i].In = nil
		}
	}
	fillSinkDefaults(c.Sinks)
	if len(c.Simulation.I2C) == 0 {
		c.Simulation.I2C = nil
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		if len(d.Sensors) == 0 {
			d.Sensors = nil
		}
		if len(d.Columns) == 0 {
			d.Columns = nil
		}
		if len(d.Commands) == 0 {
			d.Commands = nil
		}
		if len(d.Slaves) == 0 {
			d.Slaves = nil
		}
		for j := range d.Slaves {
			if len(d.Slaves[j].Points) == 0 {
				d.Slaves[j].Points = nil
			}
		}
	}
}

// defaultGatewayID is the host name with characters that an ID cannot
// hold replaced by '-', or "edgemq" without a usable host name.
func defaultGatewayID() string {
	h, err := hostname()
	if err != nil {
		return "edgemq"
	}
	id := strings.Map(func(r rune) rune {
		if validIDRune(r) {
			return r
		}
		return '-'
	}, h)
	if len(id) > maxIDLen {
		id = id[:maxIDLen]
	}
	if strings.Trim(id, "-") == "" {
		return "edgemq"
	}
	return id
}

// relatedToAny reports whether path is one of paths, inside one, or
// contains one.
func relatedToAny(path string, paths map[string]bool) bool {
	for p := range paths {
		if isPrefixPath(p, path) || isPrefixPath(path, p) {
			return true
		}
	}
	return false
}

// isPrefixPath reports whether path a is b or an ancestor of b.
func isPrefixPath(a, b string) bool {
	if a == "" || !strings.HasPrefix(b, a) {
		return a == "" && b == ""
	}
	return len(a) == len(b) || b[len(a)] == '.' || b[len(a)] == '['
}
