package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgemq/edgemq/bridge"
	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/internal/config"
	"github.com/edgemq/edgemq/internal/kv"
)

// presetBridge parses a one-bridge configuration and maps it as run does.
func presetBridge(t *testing.T, yaml string) bridge.Config {
	t.Helper()
	cfg, err := config.Parse("edgemq.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := bridgeConfig(cfg, cfg.Bridges[0], brokertest.TestLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startPresetBridge runs c against an in-process broker.
func startPresetBridge(t *testing.T, c bridge.Config) (*broker.Server, *bridge.Bridge) {
	t.Helper()
	srv, _ := brokertest.StartServer(t, broker.Options{})
	db, err := kv.Open(t.TempDir(), kv.Options{Logger: brokertest.TestLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridge.New(srv, db, c)
	if err != nil {
		db.Close(context.Background())
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.Close(ctx)
		db.Close(ctx)
	})
	return srv, b
}

// TestAzurePresetToMosquitto: a bridge made from an azure-iot-hub preset
// (the address pointed at a local Mosquitto) logs in with the IoT Hub
// user name and a SAS token that Mosquitto's password file holds (both
// computed here, by hand, for a fixed clock), sends a local message to
// the device's events topic with the local topic as property, and
// receives a cloud-to-device message under azure/devicebound/. A token
// for another expiry is refused.
func TestAzurePresetToMosquitto(t *testing.T) {
	key := []byte("secret-key-for-tests-0123456789")
	connStr := "HostName=myhub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=" + base64.StdEncoding.EncodeToString(key)
	fixed := time.Unix(1700000000, 0)
	user := "myhub.azure-devices.net/dev-1/?api-version=2021-04-12"
	sr := "myhub.azure-devices.net%2Fdevices%2Fdev-1"
	se := strconv.FormatInt(fixed.Add(time.Hour).Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sr + "\n" + se))
	token := "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil))) + "&se=" + se

	up := startUplink(t, "mosquitto")
	passwd := filepath.Join(t.TempDir(), "passwd")
	mp := brokertest.RequireTool(t, "mosquitto_passwd")
	for i, cred := range [][2]string{{user, token}, {"reader", "reader-pw"}} {
		args := []string{"-b", passwd, cred[0], cred[1]}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command(mp, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	conf, err := os.ReadFile(up.conf)
	if err != nil {
		t.Fatal(err)
	}
	conf = []byte(strings.Replace(string(conf), "allow_anonymous true", "allow_anonymous false\npassword_file "+passwd, 1))
	if err := os.WriteFile(up.conf, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	up.stop()
	up.start()

	reader := brokertest.Dial(t, up.addr, packet.Version311)
	reader.Write(&packet.Connect{ProtocolName: "MQTT", ProtocolVersion: packet.Version311, CleanStart: true, KeepAlive: 60,
		ClientID: "reader", UsernameFlag: true, Username: "reader", PasswordFlag: true, Password: []byte("reader-pw")})
	if p, err := reader.Read(5 * time.Second); err != nil || p.(*packet.Connack).ReasonCode != 0 {
		t.Fatalf("reader CONNACK: %v %v", p, err)
	}
	reader.Write(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.SubOptions{{Filter: "devices/dev-1/messages/events/#", QoS: 1}}})
	if _, err := reader.Read(5 * time.Second); err != nil {
		t.Fatalf("SUBACK: %v", err)
	}

	c := presetBridge(t, fmt.Sprintf(`bridges:
  - name: azure
    preset: azure-iot-hub
    address: tcp://%s
    azure: {connection_string: %q}
    out: [{local: "sensors/#", qos: 1}]
    reconnect: {min: 50ms, max: 200ms}
`, up.addr, connStr))
	if c.Username != user || c.ClientID != "dev-1" || !c.NoStatus || c.Credentials == nil || c.Password != "" {
		t.Fatalf("bridge config: user %q, client id %q, no status %v, credentials %v", c.Username, c.ClientID, c.NoStatus, c.Credentials != nil)
	}
	sas := c.Credentials
	c.Credentials = func(time.Time) (string, string, time.Time, error) {
		u, p, _, err := sas(fixed)
		return u, p, time.Time{}, err // the fixed clock's token never expires here
	}
	srv, b := startPresetBridge(t, c)
	brokertest.Eventually(t, 10*time.Second, func() bool { return b.Stats().Connected }, "connected with the SAS token")

	local, err := srv.NewClient("local")
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	c2d := make(chan *broker.Message, 1)
	if err := local.Subscribe("azure/devicebound/#", 1, func(m *broker.Message) { c2d <- m }); err != nil {
		t.Fatal(err)
	}
	if err := local.Publish(context.Background(), "sensors/a/t", []byte("21.5"), 1, false); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := reader.Read(10 * time.Second)
		if err != nil {
			t.Fatalf("reader: %v", err)
		}
		pub, ok := p.(*packet.Publish)
		if !ok {
			continue
		}
		if pub.Topic != "devices/dev-1/messages/events/topic=sensors%2Fa%2Ft" || string(pub.Payload) != "21.5" {
			t.Fatalf("uplink got %s %q", pub.Topic, pub.Payload)
		}
		reader.Write(&packet.Ack{Kind: packet.PUBACK, PacketID: pub.PacketID})
		break
	}
	const bound = "devices/dev-1/messages/devicebound/%24.to=%2Fdevices%2Fdev-1%2Fmessages%2FdeviceBound"
	reader.Write(&packet.Publish{QoS: 1, PacketID: 2, Topic: bound, Payload: []byte("open")})
	select {
	case m := <-c2d:
		if m.Topic != "azure/devicebound/%24.to=%2Fdevices%2Fdev-1%2Fmessages%2FdeviceBound" || string(m.Payload) != "open" {
			t.Errorf("cloud-to-device: %s %q", m.Topic, m.Payload)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no cloud-to-device message")
	}

	// A token for another expiry is not in the password file.
	c.Name = "azure-late"
	c.Credentials = func(time.Time) (string, string, time.Time, error) {
		u, p, _, err := sas(fixed.Add(time.Second))
		return u, p, time.Time{}, err
	}
	_, late := startPresetBridge(t, c)
	brokertest.Eventually(t, 10*time.Second, func() bool { return strings.Contains(late.Stats().LastError, "refused") }, "refused")
}

// TestAWSPresetALPN: a bridge made from an aws-iot-core preset offers
// ALPN x-amzn-mqtt-ca and its client certificate to a TLS server that
// requires both, and connects with the thing name as client id; without
// the ALPN protocol the handshake fails.
func TestAWSPresetALPN(t *testing.T) {
	certs := t.TempDir()
	ca, caKey := brokertest.WriteCert(t, certs, "ca", nil, nil, false)
	brokertest.WriteCert(t, certs, "server", ca, caKey, true, net.IPv4(127, 0, 0, 1))
	brokertest.WriteCert(t, certs, "client", ca, caKey, false)
	sc, err := tls.LoadX509KeyPair(filepath.Join(certs, "server.pem"), filepath.Join(certs, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{sc}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		NextProtos: []string{config.AWSALPN},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if !slices.Contains(h.SupportedProtos, config.AWSALPN) {
				return nil, errors.New("ALPN x-amzn-mqtt-ca required")
			}
			return nil, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		clients []string // negotiated protocol + " " + client id
		wg      sync.WaitGroup
	)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				tc := conn.(*tls.Conn)
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				if tc.Handshake() != nil {
					return
				}
				br := bufio.NewReader(tc)
				p, err := packet.Read(br, 0, packet.Version311)
				if err != nil {
					return
				}
				c, ok := p.(*packet.Connect)
				if !ok {
					return
				}
				mu.Lock()
				clients = append(clients, tc.ConnectionState().NegotiatedProtocol+" "+c.ClientID)
				mu.Unlock()
				b, _ := packet.Append(nil, &packet.Connack{}, c.ProtocolVersion)
				tc.Write(b)
				for { // a tiny acceptor: answer PINGREQ, drop the rest
					p, err := packet.Read(br, 0, c.ProtocolVersion)
					if err != nil {
						return
					}
					if _, ok := p.(*packet.Pingreq); ok {
						b, _ := packet.Append(nil, &packet.Pingresp{}, c.ProtocolVersion)
						tc.Write(b)
					}
				}
			}()
		}
	}()

	c := presetBridge(t, fmt.Sprintf(`bridges:
  - name: aws
    preset: aws-iot-core
    address: %s
    aws: {thing_name: gw-thing}
    tls: {ca: %q, cert: %q, key: %q, alpn: [x-amzn-mqtt-ca]}
    out: [{local: "sensors/#", remote: "gw-thing/sensors/#", qos: 1}]
    reconnect: {min: 50ms, max: 200ms}
`, ln.Addr(), filepath.Join(certs, "ca.pem"), filepath.Join(certs, "client.pem"), filepath.Join(certs, "client.key")))
	if c.ClientID != "gw-thing" || c.Limits != (bridge.Limits{MaxPayload: 128 << 10, MaxTopicBytes: 256, MaxTopicLevels: 8}) ||
		!slices.Equal(c.TLS.NextProtos, []string{config.AWSALPN}) || !strings.HasPrefix(c.Address, "tls://") {
		t.Fatalf("bridge config: client id %q, limits %+v, ALPN %q, address %q", c.ClientID, c.Limits, c.TLS.NextProtos, c.Address)
	}
	_, b := startPresetBridge(t, c)
	brokertest.Eventually(t, 10*time.Second, func() bool { return b.Stats().Connected }, "connected with ALPN")
	mu.Lock()
	got := slices.Clone(clients)
	mu.Unlock()
	if len(got) == 0 || got[0] != config.AWSALPN+" gw-thing" {
		t.Errorf("server saw %q, want %q", got, config.AWSALPN+" gw-thing")
	}

	c.Name = "aws-no-alpn"
	c.TLS = c.TLS.Clone()
	c.TLS.NextProtos = nil
	_, b2 := startPresetBridge(t, c)
	brokertest.Eventually(t, 10*time.Second, func() bool { return b2.Stats().LastError != "" }, "handshake refused")
	if b2.Stats().Connected {
		t.Error("connected without ALPN")
	}
}
