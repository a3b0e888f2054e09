package main

import (
	"crypto/tls"
	"fmt"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/internal/config"
)

// loadListenerTLS reads the certificate files of the tls and wss listeners
// of cfg into the matching opts.Listeners (built by brokerOptions, in the
// same order), so that the broker itself never touches files.
func loadListenerTLS(cfg *config.Config, opts *broker.Options) error {
	for i, l := range cfg.Broker.Listeners {
		if l.Type != broker.ListenerTLS && l.Type != broker.ListenerWSS {
			continue
		}
		tc, err := serverTLS(l)
		if err != nil {
			return fmt.Errorf("broker.listeners[%d] (%s %s): %w", i, l.Type, l.Address, err)
		}
		opts.Listeners[i].TLS = tc
	}
	return nil
}

// serverTLS builds the TLS configuration of one listener: TLS 1.2 at
// least, the server certificate, and the client CAs if any (the broker
// sets the client certificate policy).
func serverTLS(l config.Listener) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(l.Cert, l.Key)
	if err != nil {
		return nil, fmt.Errorf("load certificate: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if l.ClientCA != "" {
		if tc.ClientCAs, err = config.LoadCertPool(l.ClientCA); err != nil {
			return nil, fmt.Errorf("load client CA: %w", err)
		}
	}
	return tc, nil
}
