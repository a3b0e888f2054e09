package broker_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// prefixAuthz lets a user publish only under "<username>/" and refuses
// every password, so a connection that gets in was let in by its
// certificate alone.
type prefixAuthz struct{}

func (prefixAuthz) Authenticate(broker.ClientInfo, []byte, bool) error {
	return broker.ErrBadCredentials
}
func (prefixAuthz) CanPublish(ci broker.ClientInfo, t string) bool {
	return !ci.Anonymous && strings.HasPrefix(t, ci.Username+"/")
}
func (prefixAuthz) CanSubscribe(broker.ClientInfo, string) bool { return true }
func (prefixAuthz) CanRead(broker.ClientInfo, string) bool      { return true }

// TestIdentityAsUsername: with use_identity_as_username the certificate's
// identity is the username the roles see, and no password is asked for.
func TestIdentityAsUsername(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	s, _ := brokertest.StartServer(t, broker.Options{
		Auth: prefixAuthz{},
		Listeners: []broker.Listener{{
			Address: "127.0.0.1:0", Type: broker.ListenerTLS, TLS: pki.serverTLS(),
			RequireCertificate: true, UseIdentityAsUsername: true,
		}},
	})
	var mu sync.Mutex
	var got []string
	obs, err := s.NewClient("observer")
	if err != nil {
		t.Fatal(err)
	}
	obs.Subscribe("#", 0, func(m *broker.Message) {
		mu.Lock()
		got = append(got, m.Topic)
		mu.Unlock()
	})

	c, err := dialTLS(t, s.Addrs()[0].String(), pki.clientTLS(pki.client(t, "alice")))
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := mqttConnect(c, "dev-1"); err != nil || ack.ReasonCode != 0 {
		t.Fatalf("CONNECT with the certificate as credential: %v, %v", ack, err)
	}
	for i, topic := range []string{"bob/x", "alice/x"} {
		b, _ := packet.Append(nil, &packet.Publish{QoS: 1, PacketID: uint16(i + 1), Topic: topic, Payload: []byte("v")}, packet.Version311)
		c.Write(b)
		if p, err := packet.Read(c, 0, packet.Version311); err != nil || p.Type() != packet.PUBACK {
			t.Fatalf("publish %s: %v, %v", topic, p, err)
		}
	}
	brokertest.Eventually(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	}, "alice/x delivered")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "alice/x" {
		t.Errorf("delivered %q, want only alice/x (bob/x is not alice's)", got)
	}
}
