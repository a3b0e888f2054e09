package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testKey is a shared access key; testConn a connection string with it.
var (
	testKey  = base64.StdEncoding.EncodeToString([]byte("secret-key-for-tests-0123456789"))
	testConn = "HostName=myhub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=" + testKey
)

func TestParseAzureConnectionString(t *testing.T) {
	tests := []struct {
		in      string
		want    AzureDevice
		wantErr string
	}{
		{testConn, AzureDevice{HostName: "myhub.azure-devices.net", DeviceID: "dev-1", Key: []byte("secret-key-for-tests-0123456789")}, ""},
		{" DeviceId=dev-1 ; hostname=h.azure-devices.net;SharedAccessKey=" + testKey + ";", AzureDevice{HostName: "h.azure-devices.net", DeviceID: "dev-1", Key: []byte("secret-key-for-tests-0123456789")}, ""},
		{"HostName=h;SharedAccessKey=" + testKey, AzureDevice{}, "has no DeviceId= part"},
		{"DeviceId=d", AzureDevice{}, "has no HostName= or SharedAccessKey= part"},
		{"", AzureDevice{}, "has no HostName= or DeviceId= or SharedAccessKey= part"},
		{"HostName=h;DeviceId=d;SharedAccessKey=not base64!", AzureDevice{}, "SharedAccessKey is not base64"},
		{"HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=" + testKey, AzureDevice{}, "module identities are not supported"},
		{"HostName=h;DeviceId=d;x509=true", AzureDevice{}, "X.509 device"},
		{"HostName=h;DeviceId=a/b;SharedAccessKey=" + testKey, AzureDevice{}, "DeviceId must not hold"},
		{"HostName;DeviceId=d", AzureDevice{}, "not key=value"},
	}
	for _, tt := range tests {
		got, err := ParseAzureConnectionString(tt.in)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err %v, want %q", tt.in, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("%q: the error shows the key: %v", tt.in, err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case !reflect.DeepEqual(got, tt.want):
			t.Errorf("%q: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
	d, _ := ParseAzureConnectionString(testConn)
	for got, want := range map[string]string{
		d.ResourceURI():       "myhub.azure-devices.net/devices/dev-1",
		d.Username():          "myhub.azure-devices.net/dev-1/?api-version=2021-04-12",
		d.EventsTopic():       "devices/dev-1/messages/events/",
		d.DeviceboundFilter(): "devices/dev-1/messages/devicebound/#",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestWithPreset(t *testing.T) {
	awsTLS := BridgeTLS{Cert: "/c.pem", Key: "/c.key"}
	out := []BridgeOut{{Local: "sensors/#", Remote: "gw1/sensors/#", QoS: 1}}
	awsLimits := BridgeLimits{MaxPayload: 128 * KiB, MaxTopicBytes: 256, MaxTopicLevels: 8}
	tests := []struct {
		name string
		in   Bridge
		want func(b *Bridge) // the changes the preset makes
	}{
		{"no preset", Bridge{Name: "b", Address: "tcp://h:1", Out: out}, func(*Bridge) {}},
		{"aws, host only", Bridge{Name: "b", Preset: PresetAWS, Address: "abc-ats.iot.eu-west-1.amazonaws.com", TLS: awsTLS, AWS: BridgeAWS{ThingName: "gw1"}, Out: out},
			func(b *Bridge) {
				b.Address, b.ClientID, b.Limits = "tls://abc-ats.iot.eu-west-1.amazonaws.com:8883", "gw1", awsLimits
			}},
		{"aws, port 443 offers ALPN", Bridge{Name: "b", Preset: PresetAWS, Address: "abc-ats.iot.eu-west-1.amazonaws.com:443", TLS: awsTLS, ClientID: "gw1", Out: out},
			func(b *Bridge) {
				b.Address, b.TLS.ALPN, b.Limits = "tls://abc-ats.iot.eu-west-1.amazonaws.com:443", []string{AWSALPN}, awsLimits
			}},
		{"aws, explicit keys win", Bridge{Name: "b", Preset: PresetAWS, Address: "tls://e:443", TLS: BridgeTLS{Cert: "/c", Key: "/k", ALPN: []string{"mqtt"}},
			ClientID: "other", AWS: BridgeAWS{ThingName: "gw1"}, Limits: BridgeLimits{MaxPayload: KiB}, Protocol: "5", Out: out},
			func(b *Bridge) { b.Limits = BridgeLimits{MaxPayload: KiB, MaxTopicBytes: 256, MaxTopicLevels: 8} }},
		{"azure", Bridge{Name: "b", Preset: PresetAzure, Azure: BridgeAzure{ConnectionString: Secret(testConn)}, Out: []BridgeOut{{Local: "sensors/#", QoS: 1}}},
			func(b *Bridge) {
				b.Address, b.ClientID = "tls://myhub.azure-devices.net:8883", "dev-1"
				b.Username = "myhub.azure-devices.net/dev-1/?api-version=2021-04-12"
				b.Azure.TokenLifetime, b.Azure.CloudToDevice = Duration(time.Hour), "azure/devicebound/#"
				b.Limits.MaxPayload = 256 * KiB
				b.Out = []BridgeOut{{Local: "sensors/#", Remote: "devices/dev-1/messages/events/", TopicProperty: "topic", QoS: 1}}
				b.In = []BridgeIn{{Remote: "devices/dev-1/messages/devicebound/#", Local: "azure/devicebound/#", QoS: 1}}
			}},
		{"azure, explicit keys win", Bridge{Name: "b", Preset: PresetAzure, Address: "tcp://127.0.0.1:1883", Username: "u", Password: "p", ClientID: "c",
			Azure: BridgeAzure{ConnectionString: Secret(testConn), TokenLifetime: Duration(time.Minute), CloudToDevice: "c2d/#"},
			Out:   []BridgeOut{{Local: "a/#", Remote: "x/#"}}, In: []BridgeIn{{Remote: "devices/dev-1/messages/devicebound/#", Local: "in/#"}}},
			func(b *Bridge) { b.Limits.MaxPayload = 256 * KiB }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.WithPreset()
			if err != nil {
				t.Fatal(err)
			}
			want := tt.in
			want.Out = append([]BridgeOut(nil), want.Out...)
			want.In = append([]BridgeIn(nil), want.In...)
			tt.want(&want)
			if len(want.In) == 0 {
				want.In = nil
			}
			if len(got.In) == 0 {
				got.In = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestPresetValidate: each problem is reported at its key, with what to do.
func TestPresetValidate(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown preset", `
    preset: aws-iot
    address: tcp://h:1
    out: [{local: a, remote: b}]`, []string{
			`edgemq.yaml:3: bridges[0].preset: want aws-iot-core or azure-iot-hub, got "aws-iot" (did you mean "aws-iot-core"?)`}},
		{"aws without cert, thing or endpoint", `
    preset: aws-iot-core
    out: [{local: a, remote: b, qos: 2}]`, []string{
			`edgemq.yaml:2: bridges[0].address: the AWS IoT endpoint is required, such as abc123-ats.iot.eu-west-1.amazonaws.com (AWS IoT console, Settings, Device data endpoint)`,
			`edgemq.yaml:2: bridges[0].tls.cert: aws-iot-core needs tls.cert and tls.key: the thing's device certificate and private key`,
			`edgemq.yaml:2: bridges[0].aws.thing_name: aws-iot-core needs the thing name (aws.thing_name, or client_id)`,
			`edgemq.yaml:4: bridges[0].out[0].qos: aws-iot-core supports QoS 0 and 1, got 2`}},
		{"aws topic limits", `
    preset: aws-iot-core
    address: e.example.com
    aws: {thing_name: "bad name"}
    tls: {cert: /c.pem, key: /c.key}
    out:
      - {local: "a/#", remote: "1/2/3/4/5/6/7/8/#"}
      - {local: "b/#", remote: "$aws/rules/r/1/2/3/4/5/6/#"}
    in: [{remote: "1/2/3/4/5/6/7/8/#", local: "c/#"}]`, []string{
			`edgemq.yaml:5: bridges[0].aws.thing_name: may hold 1 to 128 letters, digits, ':', '_' and '-', got "bad name"`,
			`edgemq.yaml:8: bridges[0].out[0].remote: has 8 slashes; aws-iot-core allows 7 in a topic (the $aws/rules/<rule>/ prefix not counted)`,
			`edgemq.yaml:10: bridges[0].in[0].remote: has 8 slashes; aws-iot-core allows 7 in a topic filter`}},
		{"azure without connection string", `
    preset: azure-iot-hub
    aws: {thing_name: x}
    out: [{local: a}]`, []string{
			`edgemq.yaml:2: bridges[0].azure.connection_string: azure-iot-hub needs the device's connection string (HostName=...;DeviceId=...;SharedAccessKey=...)`,
			`edgemq.yaml:4: bridges[0].aws: is for preset aws-iot-core, not azure-iot-hub`}},
		{"azure, bad connection string", `
    preset: azure-iot-hub
    azure: {connection_string: "HostName=h.azure-devices.net;SharedAccessKey=` + testKey + `"}
    out: [{local: a}]`, []string{
			`edgemq.yaml:4: bridges[0].azure.connection_string: has no DeviceId= part (want HostName=<hub>.azure-devices.net;DeviceId=<device>;SharedAccessKey=<key>)`}},
		{"azure options", `
    preset: azure-iot-hub
    protocol: "5"
    azure: {connection_string: "` + testConn + `", token_lifetime: 30s, cloud_to_device: "c2d"}
    out: [{local: a/#, qos: 2}]`, []string{
			`edgemq.yaml:4: bridges[0].protocol: azure-iot-hub's device endpoint speaks MQTT 3.1.1: leave protocol out or set 3.1.1`,
			`edgemq.yaml:5: bridges[0].azure.token_lifetime: must be 0 (default 1h) or a whole number of seconds of at least 1m, got 30s`,
			`edgemq.yaml:5: bridges[0].azure.cloud_to_device: must be a local filter ending in "/#", such as azure/devicebound/#, got "c2d"`,
			`edgemq.yaml:6: bridges[0].out[0].qos: azure-iot-hub supports QoS 0 and 1, got 2`}},
		{"settings without preset", `
    address: tcp://h:1
    azure: {token_lifetime: 1h}
    out: [{local: a/#, remote: b/#}]`, []string{
			`edgemq.yaml:4: bridges[0].azure: needs preset: azure-iot-hub`}},
		{"topic property and limits", `
    address: tcp://h:1
    limits: {max_topic_levels: -1, max_payload: 1TiB}
    out: [{local: a/#, remote: b/#, topic_property: t}]`, []string{
			`edgemq.yaml:4: bridges[0].limits: must not be negative, got max_topic_bytes 0, max_topic_levels -1`,
			`edgemq.yaml:4: bridges[0].limits.max_payload: must be between 0B and 256MiB, got 1TiB`,
			`edgemq.yaml:5: bridges[0].out[0].remote: with topic_property, must be one topic without wildcards, got "b/#"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "bridges:\n  - name: cloud" + tt.yaml + "\n"
			_, err := Parse("edgemq.yaml", []byte(data))
			want := strings.Join(tt.want, "\n")
			if err == nil || err.Error() != want {
				t.Errorf("Parse:\ngot:\n%v\nwant:\n%s", err, want)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Error("an error shows the shared access key")
			}
		})
	}
}

// TestPresetConfigs: valid preset entries parse.
func TestPresetConfigs(t *testing.T) {
	data := `bridges:
  - name: aws
    preset: aws-iot-core
    address: abc-ats.iot.eu-west-1.amazonaws.com:443
    aws: {thing_name: gw1}
    tls: {cert: /c.pem, key: /c.key}
    out: [{local: "sensors/#", remote: "$aws/rules/ingest/gw1/sensors/#", qos: 1}]
    in: [{remote: "cmd/gw1/#", local: "cmd/#", qos: 1}]
  - name: azure
    preset: azure-iot-hub
    azure: {connection_string: "` + testConn + `"}
    out: [{local: "sensors/#", qos: 1}]
`
	c, err := Parse("edgemq.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if c.Bridges[1].Out[0].Remote != "" || c.Bridges[0].ClientID != "" {
		t.Error("Parse filled in preset defaults; WithPreset does that")
	}
}

// TestSecretHidden: a connection string or password never shows when a
// configuration is printed or logged.
func TestSecretHidden(t *testing.T) {
	b := Bridge{Name: "b", Password: "hunter2", Azure: BridgeAzure{ConnectionString: Secret(testConn)}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "bridge", b, "conn", b.Azure.ConnectionString, "password", b.Password)
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%+v", b), fmt.Sprintf("%#v", b), fmt.Sprintf("%v", &b), buf.String()} {
		if strings.Contains(s, testKey) || strings.Contains(s, "SharedAccessKey") || strings.Contains(s, "hunter2") {
			t.Errorf("secret shown: %s", s)
		}
		if !strings.Contains(s, "[hidden]") {
			t.Errorf("no [hidden] in %s", s)
		}
	}
	if Secret("").String() != "" {
		t.Error("empty secret not empty")
	}
}
