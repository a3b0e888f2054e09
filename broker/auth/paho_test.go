package auth_test

import (
	"errors"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TestPahoV3: paho.mqtt.golang (3.1.1) with a username and password, a
// refused subscription (0x80) and a wildcard that must not leak.
func TestPahoV3(t *testing.T) {
	t.Parallel()
	_, addr := start(t, newAuthorizer(t, testRoles), false)
	connect := func(id, user, pass string) (mqtt.Client, error) {
		o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(id).
			SetUsername(user).SetPassword(pass).SetProtocolVersion(4).
			SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second)
		c := mqtt.NewClient(o)
		tok := c.Connect()
		if !tok.WaitTimeout(10 * time.Second) {
			return nil, errors.New("connect timed out")
		}
		if tok.Error() != nil {
			return nil, tok.Error()
		}
		t.Cleanup(func() { c.Disconnect(0) })
		return c, nil
	}
	alice, err := connect("p-alice", "alice", "pw-a")
	if err != nil {
		t.Fatal(err)
	}
	w, err := connect("p-w", "w", "pw-w")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 10)
	tok := alice.SubscribeMultiple(map[string]byte{"#": 1, "secrets/#": 1}, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	res := tok.(*mqtt.SubscribeToken).Result()
	if res["#"] != 1 || res["secrets/#"] != 0x80 {
		t.Errorf("SUBACK %v, want # granted 1 and secrets/# 0x80", res)
	}
	for _, tp := range []string{"secrets/a", "plain/a"} {
		if pt := w.Publish(tp, 1, false, "x"); !pt.WaitTimeout(5*time.Second) || pt.Error() != nil {
			t.Fatalf("publish %s: %v", tp, pt.Error())
		}
	}
	select {
	case tp := <-got:
		if tp != "plain/a" {
			t.Errorf("alice received %s first, want plain/a", tp)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
	}
	if _, err := connect("p-bad", "alice", "wrong"); err == nil {
		t.Error("wrong password accepted")
	}
}
