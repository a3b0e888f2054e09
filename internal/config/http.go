package config

import (
	"net"
	"net/netip"
)

// HTTP configures the gateway's HTTP side: the dashboard, the JSON API,
// /metrics, /healthz and /readyz (package internal/web).
type HTTP struct {
	// Address is host:port; empty: no HTTP server. Default
	// 127.0.0.1:8080.
	Address string `yaml:"address"`
	// Open serves without a login, but only on a loopback address; on any
	// other address a login is always required (users from
	// broker.auth.password_file with a role that has admin: true, or any
	// user of the file when there are no roles). Default true.
	Open bool `yaml:"open"`
	// Cert and Key serve HTTPS (session cookies are then Secure).
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Loopback reports whether Address binds a loopback address only.
func (h HTTP) Loopback() bool {
	host, _, err := net.SplitHostPort(h.Address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// OpenAccess reports whether the HTTP side needs no login: Open on a
// loopback address.
func (h HTTP) OpenAccess() bool { return h.Open && h.Loopback() }

func (h *HTTP) validate(v *validator, path string) {
	if h.Address != "" {
		checkAddress(v, path+".address", h.Address)
	}
	if (h.Cert == "") != (h.Key == "") {
		v.errorf(path+".cert", "cert and key go together (both set for HTTPS, or neither)")
	}
}
