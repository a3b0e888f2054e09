package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Validate checks what the types of the fields cannot express: ranges,
// known names, addresses and combinations of fields. Parse and Load
// call it; call it again after changing a Config in code. Messages name
// the key path, and the file and line when c came from a file.
func (c *Config) Validate() error {
	v := newValidator(c.meta)
	c.validate(v)
	return v.err()
}

func (c *Config) validate(v *validator) {
	c.Gateway.validate(v, "gateway")
	c.Broker.validate(v, "broker")
	c.Storage.validate(v, "storage")
	validateBridges(v, c.Bridges)
	validateSinks(v, c.Sinks)
	validateDevices(v, c.Devices, c.Gateway.ID)
	c.validateHardware(v)
	c.HTTP.validate(v, "http")
	c.Log.validate(v, "log")
	switch {
	case c.MemoryLimit < 0:
		v.errorf("memory_limit", "must not be negative, got %s", c.MemoryLimit)
	case c.MemoryLimit != 0 && c.MemoryLimit < minMemoryLimit:
		v.errorf("memory_limit", "must be 0 (unset) or at least %s, got %s%s", minMemoryLimit, c.MemoryLimit, bytesHint(c.MemoryLimit))
	}
	if c.MaxProcs < 0 {
		v.errorf("max_procs", "must be 0 (every core) or a number of cores, got %d", c.MaxProcs)
	}
}

// minMemoryLimit is the smallest memory_limit: less cannot run the
// gateway, and is most likely a forgotten unit.
const minMemoryLimit = 16 * MiB

func bytesHint(s Size) string {
	if s < KiB {
		return " (a size without a unit is in bytes)"
	}
	return ""
}

const maxIDLen = 64

func validIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

func (g *Gateway) validate(v *validator, path string) {
	p := path + ".id"
	switch {
	case g.ID == "":
		v.errorf(p, "must not be empty")
	case len(g.ID) > maxIDLen:
		v.errorf(p, "must be at most %d characters, got %d", maxIDLen, len(g.ID))
	default:
		for _, r := range g.ID {
			if !validIDRune(r) {
				v.errorf(p, "invalid character %q; use letters, digits, '.', '_' and '-'", r)
				break
			}
		}
	}
}

// listenerTypes are the listener types this version knows.
var listenerTypes = []string{"tcp", "tls", "ws", "wss"}

func (b *Broker) validate(v *validator, path string) {
	type bound struct {
		path, addr, host string
		port             int
	}
	var bounds []bound
	for i := range b.Listeners {
		p := fmt.Sprintf("%s.listeners[%d]", path, i)
		host, port, ok := b.Listeners[i].validate(v, p)
		if !ok || port == 0 {
			continue
		}
		for _, o := range bounds {
			if o.port == port && hostsOverlap(o.host, host) {
				v.errorf(p+".address", "port %d is already used by %s (%q)", port, o.path, o.addr)
				break
			}
		}
		bounds = append(bounds, bound{p, b.Listeners[i].Address, host, port})
	}
	b.Limits.validate(v, path+".limits")
	b.Auth.validate(v, path+".auth")
	if d := b.SysInterval; d != 0 && d < Duration(time.Second) {
		v.errorf(path+".sys_interval", "must be 0 (disabled) or at least 1s, got %s", d)
	}
}

// hostsOverlap reports whether listening on a and on b with the same
// port would collide.
func hostsOverlap(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if a == "" || b == "" { // all interfaces, IPv4 and IPv6
		return true
	}
	ia, errA := netip.ParseAddr(a)
	ib, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return false
	}
	ia, ib = ia.Unmap(), ib.Unmap()
	if ia == ib {
		return true
	}
	if ia.Is6() && ia.IsUnspecified() || ib.Is6() && ib.IsUnspecified() {
		return true // "::" listens on IPv4 too
	}
	if ia.Is4() && ib.Is4() && (ia.IsUnspecified() || ib.IsUnspecified()) {
		return true
	}
	return false
}

// validate checks l and returns its host and port; ok is false if the
// address is invalid.
func (l *Listener) validate(v *validator, path string) (host string, port int, ok bool) {
	switch {
	case l.Type == "":
		v.errorf(path+".type", "missing; known types: %s", strings.Join(listenerTypes, ", "))
	case !contains(listenerTypes, l.Type):
		v.errorf(path+".type", "unknown type %q%s; known types: %s", l.Type, didYouMean(l.Type, listenerTypes), strings.Join(listenerTypes, ", "))
	default:
		l.validateTransport(v, path)
	}
	return checkAddress(v, path+".address", l.Address)
}

// validateTransport checks the TLS and WebSocket keys of l against its
// type. The files themselves are checked by CheckFiles.
func (l *Listener) validateTransport(v *validator, path string) {
	isTLS := l.Type == "tls" || l.Type == "wss"
	isWS := l.Type == "ws" || l.Type == "wss"
	notFor := func(key string, set bool) {
		if set {
			v.errorf(path+"."+key, "does not apply to a %s listener", l.Type)
		}
	}
	if isTLS {
		if l.Cert == "" {
			v.errorf(path+".cert", "missing; a %s listener needs a certificate file", l.Type)
		}
		if l.Key == "" {
			v.errorf(path+".key", "missing; a %s listener needs a private key file", l.Type)
		}
		if l.RequireCertificate && l.ClientCA == "" {
			v.errorf(path+".require_certificate", "needs client_ca to verify client certificates")
		}
		if l.UseIdentityAsUsername && l.ClientCA == "" {
			v.errorf(path+".use_identity_as_username", "needs client_ca to verify client certificates")
		}
	} else {
		notFor("cert", l.Cert != "")
		notFor("key", l.Key != "")
		notFor("client_ca", l.ClientCA != "")
		notFor("require_certificate", l.RequireCertificate)
		notFor("use_identity_as_username", l.UseIdentityAsUsername)
	}
	if l.MaxConnections < 0 {
		v.errorf(path+".max_connections", "must be 0 (no limit of its own) or more, got %d", l.MaxConnections)
	}
	switch {
	case !isWS:
		notFor("path", l.Path != "")
	case l.Path != "" && !strings.HasPrefix(l.Path, "/"):
		v.errorf(path+".path", "must start with /, got %q", l.Path)
	case strings.ContainsAny(l.Path, " ?#"):
		v.errorf(path+".path", "must be a plain URL path, got %q", l.Path)
	}
}

// CheckFiles reads the certificate and key files that the configuration
// names and reports, with file:line, those that are missing or do not
// parse. Load does not read them (the example file names paths of the
// target system); check-config and run call CheckFiles.
func (c *Config) CheckFiles() error {
	v := newValidator(c.meta)
	for i := range c.Broker.Listeners {
		l := &c.Broker.Listeners[i]
		p := fmt.Sprintf("broker.listeners[%d]", i)
		if l.Cert != "" && l.Key != "" {
			certPEM, err1 := os.ReadFile(l.Cert)
			if err1 != nil {
				v.errorf(p+".cert", "%v", err1)
			}
			keyPEM, err2 := os.ReadFile(l.Key)
			if err2 != nil {
				v.errorf(p+".key", "%v", err2)
			}
			if err1 == nil && err2 == nil {
				if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
					v.errorf(p+".cert", "%s with key %s: %v", l.Cert, l.Key, err)
				}
			}
		}
		if l.ClientCA != "" {
			if _, err := LoadCertPool(l.ClientCA); err != nil {
				v.errorf(p+".client_ca", "%v", err)
			}
		}
	}
	checkBridgeFiles(v, c.Bridges)
	if h := c.HTTP; h.Cert != "" && h.Key != "" {
		if _, err := tls.LoadX509KeyPair(h.Cert, h.Key); err != nil {
			v.errorf("http.cert", "%s with key %s: %v", h.Cert, h.Key, err)
		}
	}
	checkSinkFiles(v, c.Sinks)
	return v.err()
}

// LoadCertPool reads a PEM file of CA certificates.
func LoadCertPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("config: %s: no PEM certificate found", file)
	}
	return pool, nil
}

// checkAddress checks a host:port address to listen on.
func checkAddress(v *validator, path, addr string) (string, int, bool) {
	if addr == "" {
		v.errorf(path, "missing; want host:port, e.g. %q", "127.0.0.1:1883")
		return "", 0, false
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*net.AddrError); ok {
			msg = ae.Err
		}
		switch {
		case msg == "missing port in address":
			v.errorf(path, "missing port")
		case msg == "too many colons in address":
			v.errorf(path, "invalid address %s: too many colons (write an IPv6 address in brackets, e.g. %q)", quote(addr), "[::1]:1883")
		default:
			v.errorf(path, "invalid address %s: %s", quote(addr), msg)
		}
		return "", 0, false
	}
	if portStr == "" {
		v.errorf(path, "missing port")
		return "", 0, false
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 || strings.TrimLeft(portStr, "0123456789") != "" {
		v.errorf(path, "invalid port %s (want 0..65535)", quote(portStr))
		return "", 0, false
	}
	if host != "" && !validHost(host) {
		v.errorf(path, "invalid host %s (want an IP address or a host name)", quote(host))
		return "", 0, false
	}
	return host, port, true
}

func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func (l *Limits) validate(v *validator, path string) {
	v.atLeast(path+".max_connections", l.MaxConnections, 1)
	v.sizeBetween(path+".max_packet_size", l.MaxPacketSize, 16*Byte, 256*MiB)
	if k := l.MaxKeepAlive; k != 0 {
		switch {
		case k < Duration(time.Second) || k > Duration(65535*time.Second):
			v.errorf(path+".max_keep_alive", "must be 0 (no cap) or between 1s and 65535s, got %s", k)
		case k%Duration(time.Second) != 0:
			v.errorf(path+".max_keep_alive", "must be a whole number of seconds, got %s", k)
		}
	}
	v.between(path+".max_inflight", l.MaxInflight, 1, 65535)
	v.atLeast(path+".max_queued_messages", l.MaxQueuedMessages, 1)
	v.between(path+".receive_maximum", l.ReceiveMaximum, 1, 65535)
}

func (s *Storage) validate(v *validator, path string) {
	switch {
	case strings.TrimSpace(s.Dir) == "":
		v.errorf(path+".dir", "must not be empty")
	case strings.ContainsRune(s.Dir, 0):
		v.errorf(path+".dir", "must not contain a NUL character")
	}
}

var logLevels = []string{"debug", "info", "warn", "error"}

func (l *Log) validate(v *validator, path string) {
	if !contains(logLevels, l.Level) {
		v.errorf(path+".level", "unknown level %q%s; known levels: %s", l.Level, didYouMean(l.Level, logLevels), strings.Join(logLevels, ", "))
	}
}

// SlogLevel returns the level as a slog.Level (info if it is unknown).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// validator collects problems found by the validate methods.
type validator struct {
	errorList
	lines map[string]pos
	keys  map[string]pos
}

func newValidator(m *meta) *validator {
	if m == nil {
		return &validator{}
	}
	return &validator{errorList: errorList{file: m.file}, lines: m.lines, keys: m.keys}
}

// errorf reports a problem with the value at path, on the line of that
// value or, if the file does not have it, of the key (or list item) of
// the nearest enclosing value that it has.
func (v *validator) errorf(path, format string, args ...any) {
	p := v.posOf(path)
	v.addf(p.line, p.col, path, format, args...)
}

func (v *validator) posOf(path string) pos {
	if p, ok := v.lines[path]; ok {
		return p
	}
	for path = parentPath(path); path != ""; path = parentPath(path) {
		if p, ok := v.keys[path]; ok {
			return p
		}
		if p, ok := v.lines[path]; ok {
			return p
		}
	}
	return pos{}
}

// parentPath strips the last ".key" or "[i]" from path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func (v *validator) atLeast(path string, got, lo int) {
	if got < lo {
		v.errorf(path, "must be at least %d, got %d", lo, got)
	}
}

func (v *validator) between(path string, got, lo, hi int) {
	if got < lo || got > hi {
		v.errorf(path, "must be between %d and %d, got %d", lo, hi, got)
	}
}

func (v *validator) sizeBetween(path string, got, lo, hi Size) {
	if got < lo || got > hi {
		v.errorf(path, "must be between %s and %s, got %s%s", lo, hi, got, bytesHint(got))
	}
}
