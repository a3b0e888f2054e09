package broker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// TestInprocInvalidProperties: an in-process publisher cannot make the
// broker send a v5 subscriber a packet its decoder would refuse.
func TestInprocInvalidProperties(t *testing.T) {
	s, _ := brokertest.StartServer(t, broker.Options{})
	c, err := s.NewClient("props")
	if err != nil {
		t.Fatal(err)
	}
	set := func(id packet.PropID, f func(*packet.Properties)) *packet.Properties {
		p := &packet.Properties{}
		f(p)
		p.Set(id)
		return p
	}
	tests := []struct {
		name  string
		props *packet.Properties
		ok    bool
	}{
		{"valid", set(packet.PropContentType, func(p *packet.Properties) {
			p.ContentType = "text/plain"
			p.User = []packet.UserProperty{{Key: "k", Value: "v"}}
		}), true},
		{"content type not UTF-8", set(packet.PropContentType, func(p *packet.Properties) { p.ContentType = "\xff" }), false},
		{"user property NUL", set(packet.PropContentType, func(p *packet.Properties) { p.User = []packet.UserProperty{{Key: "a\x00", Value: "v"}} }), false},
		{"response topic wildcard", set(packet.PropResponseTopic, func(p *packet.Properties) { p.ResponseTopic = "reply/+" }), false},
		{"payload format 2", set(packet.PropPayloadFormat, func(p *packet.Properties) { p.PayloadFormat = 2 }), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := c.PublishMessage(context.Background(), &broker.Message{Topic: "t", Payload: []byte("x"), Properties: tc.props})
			if got := err == nil; got != tc.ok {
				t.Fatalf("PublishMessage error = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, broker.ErrInvalidProperty) {
				t.Errorf("error %v does not wrap ErrInvalidProperty", err)
			}
		})
	}
}
