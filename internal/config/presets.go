package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Bridge presets: defaults and checks for a cloud's MQTT endpoint over
// the general bridge. A key set in the bridge's entry wins over the
// preset's value; a list (out, in) set in the entry replaces the
// preset's list as a whole. See docs/clouds.md.
const (
	PresetAWS   = "aws-iot-core"
	PresetAzure = "azure-iot-hub"
)

var bridgePresets = []string{PresetAWS, PresetAzure}

// AWS IoT Core's documented limits ("AWS IoT Core message broker and
// protocol limits and quotas"): a PUBLISH payload of at most 128 KB, a
// topic of at most 256 bytes of UTF-8 and 7 forward slashes (8 levels),
// the Basic Ingest prefix $aws/rules/<rule-name>/ not counted; QoS 0
// and 1 only.
const (
	AWSMaxPayload     = 128 * KiB
	AWSMaxTopicBytes  = 256
	AWSMaxTopicLevels = 8
	// AWSALPN is the ALPN protocol that AWS IoT Core needs for MQTT with
	// a client certificate on port 443.
	AWSALPN = "x-amzn-mqtt-ca"
)

// Azure IoT Hub: the MQTT API version in the user name, the default SAS
// token lifetime and local filter of cloud-to-device messages, and the
// device-to-cloud message size limit (256 KB).
const (
	AzureAPIVersion           = "2021-04-12"
	DefaultAzureTokenLifetime = Duration(time.Hour)
	DefaultAzureCloudToDevice = "azure/devicebound/#"
	AzureMaxPayload           = 256 * KiB
	// AzureTopicProperty is the property that carries the local topic of a
	// device-to-cloud message.
	AzureTopicProperty = "topic"
)

// Secret is a configuration string that never shows: fmt, log/slog and
// JSON print it as "[hidden]" (empty stays empty). Convert it with string()
// to use it.
type Secret string

// String returns "[hidden]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[hidden]"
}

// GoString is String, for %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue is String, for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON is String, for JSON (a slog JSON handler logging a whole
// entry). YAML keeps the value: a configuration written back as YAML
// must parse to the same.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// AzureDevice is what a device connection string of Azure IoT Hub holds.
type AzureDevice struct {
	HostName string // <hub>.azure-devices.net
	DeviceID string
	Key      []byte // the shared access key, base64-decoded
}

// ResourceURI is the resource a device's SAS token is for:
// <HostName>/devices/<DeviceId>.
func (d AzureDevice) ResourceURI() string { return d.HostName + "/devices/" + d.DeviceID }

// Username is the MQTT user name IoT Hub expects of the device.
func (d AzureDevice) Username() string {
	return d.HostName + "/" + d.DeviceID + "/?api-version=" + AzureAPIVersion
}

// EventsTopic is the device-to-cloud topic, devices/<DeviceId>/messages/events/.
func (d AzureDevice) EventsTopic() string { return "devices/" + d.DeviceID + "/messages/events/" }

// DeviceboundFilter is the cloud-to-device filter,
// devices/<DeviceId>/messages/devicebound/#.
func (d AzureDevice) DeviceboundFilter() string {
	return "devices/" + d.DeviceID + "/messages/devicebound/#"
}

// ParseAzureConnectionString parses a device connection string,
// "HostName=<hub>.azure-devices.net;DeviceId=<id>;SharedAccessKey=<base64>".
// Its errors name the part that is wrong, never the string's content.
func ParseAzureConnectionString(s string) (AzureDevice, error) {
	var d AzureDevice
	var key string
	seen := make(map[string]bool)
	for part := range strings.SplitSeq(strings.TrimSpace(s), ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return d, errors.New("a part is not key=value")
		}
		switch {
		case strings.EqualFold(k, "HostName"):
			d.HostName = strings.TrimSpace(v)
		case strings.EqualFold(k, "DeviceId"):
			d.DeviceID = strings.TrimSpace(v)
		case strings.EqualFold(k, "SharedAccessKey"):
			key = strings.TrimSpace(v)
		case strings.EqualFold(k, "ModuleId"):
			return d, errors.New("has a ModuleId: module identities are not supported, use a device's connection string")
		case strings.EqualFold(k, "x509"):
			return d, errors.New("is for an X.509 device: the preset signs in with a SharedAccessKey, use a device with symmetric keys")
		}
		seen[strings.ToLower(k)] = true
	}
	var missing []string
	for _, x := range []struct{ name, v string }{{"HostName", d.HostName}, {"DeviceId", d.DeviceID}, {"SharedAccessKey", key}} {
		if x.v == "" {
			missing = append(missing, x.name+"=")
		}
	}
	if len(missing) > 0 {
		return d, fmt.Errorf("has no %s part (want HostName=<hub>.azure-devices.net;DeviceId=<device>;SharedAccessKey=<key>)", strings.Join(missing, " or "))
	}
	if strings.ContainsAny(d.HostName, "/: ") {
		return d, errors.New("HostName must be a host name such as <hub>.azure-devices.net")
	}
	if strings.ContainsAny(d.DeviceID, "/#+") {
		return d, errors.New(`DeviceId must not hold "/", "#" or "+"`)
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) == 0 {
		return d, errors.New("SharedAccessKey is not base64")
	}
	d.Key = k
	return d, nil
}

// presetError is a problem found while applying a preset, at a key path
// relative to the bridge.
type presetError struct{ path, msg string }

// WithPreset returns b with its preset's defaults filled in (b itself if
// it has none), or the preset's complaints.
func (b Bridge) WithPreset() (Bridge, error) {
	out, errs := applyPreset(b)
	var all []error
	for _, e := range errs {
		all = append(all, fmt.Errorf("bridge %q: %s: %s", b.Name, strings.TrimPrefix(e.path, "."), e.msg))
	}
	return out, errors.Join(all...)
}

// applyPreset fills in the preset's defaults; the copy shares no slice
// with b.
func applyPreset(b Bridge) (Bridge, []presetError) {
	b.Out = append([]BridgeOut(nil), b.Out...)
	b.In = append([]BridgeIn(nil), b.In...)
	b.TLS.ALPN = append([]string(nil), b.TLS.ALPN...)
	if len(b.TLS.ALPN) == 0 {
		b.TLS.ALPN = nil
	}
	var errs []presetError
	add := func(path, format string, args ...any) {
		errs = append(errs, presetError{path, fmt.Sprintf(format, args...)})
	}
	switch b.Preset {
	case "":
		if b.AWS != (BridgeAWS{}) {
			add(".aws", "needs preset: %s", PresetAWS)
		}
		if b.Azure != (BridgeAzure{}) {
			add(".azure", "needs preset: %s", PresetAzure)
		}
	case PresetAWS:
		applyAWS(&b, add)
	case PresetAzure:
		applyAzure(&b, add)
	default:
		add(".preset", "want %s or %s, got %q%s", PresetAWS, PresetAzure, b.Preset, didYouMean(b.Preset, bridgePresets))
	}
	return b, errs
}

var awsThingName = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`)

func applyAWS(b *Bridge, add func(path, format string, args ...any)) {
	if b.Azure != (BridgeAzure{}) {
		add(".azure", "is for preset %s, not %s", PresetAzure, PresetAWS)
	}
	if b.Address == "" {
		add(".address", "the AWS IoT endpoint is required, such as abc123-ats.iot.eu-west-1.amazonaws.com (AWS IoT console, Settings, Device data endpoint)")
	} else {
		b.Address = presetAddress(b.Address, 8883, add)
	}
	if _, port, err := net.SplitHostPort(strings.TrimPrefix(b.Address, "tls://")); err == nil && port == "443" && b.TLS.ALPN == nil {
		b.TLS.ALPN = []string{AWSALPN}
	}
	if b.TLS.Cert == "" || b.TLS.Key == "" {
		add(".tls.cert", "%s needs tls.cert and tls.key: the thing's device certificate and private key", PresetAWS)
	}
	if t := b.AWS.ThingName; t != "" && !awsThingName.MatchString(t) {
		add(".aws.thing_name", "may hold 1 to 128 letters, digits, ':', '_' and '-', got %q", t)
	}
	switch {
	case b.ClientID == "" && b.AWS.ThingName == "":
		add(".aws.thing_name", "%s needs the thing name (aws.thing_name, or client_id)", PresetAWS)
	case b.ClientID == "":
		b.ClientID = b.AWS.ThingName
	}
	if b.Limits.MaxPayload == 0 {
		b.Limits.MaxPayload = AWSMaxPayload
	}
	if b.Limits.MaxTopicBytes == 0 {
		b.Limits.MaxTopicBytes = AWSMaxTopicBytes
	}
	if b.Limits.MaxTopicLevels == 0 {
		b.Limits.MaxTopicLevels = AWSMaxTopicLevels
	}
	checkPresetQoS(b, PresetAWS, add)
	for j, r := range b.Out {
		prefix := strings.TrimSuffix(r.Remote, "#")
		counted := prefix
		if low := strings.ToLower(prefix); strings.HasPrefix(low, "$aws/rules/") {
			if _, rest, ok := strings.Cut(prefix[len("$aws/rules/"):], "/"); ok {
				counted = rest
			}
		}
		p := ".out[" + strconv.Itoa(j) + "].remote"
		if n := strings.Count(counted, "/"); n > b.Limits.MaxTopicLevels-1 {
			add(p, "has %d slashes; %s allows %d in a topic (the $aws/rules/<rule>/ prefix not counted)", n, PresetAWS, b.Limits.MaxTopicLevels-1)
		} else if len(counted) > b.Limits.MaxTopicBytes {
			add(p, "is %d bytes long; %s allows %d", len(counted), PresetAWS, b.Limits.MaxTopicBytes)
		}
	}
	for j, r := range b.In {
		if n := strings.Count(r.Remote, "/"); n > AWSMaxTopicLevels-1 {
			add(".in["+strconv.Itoa(j)+"].remote", "has %d slashes; %s allows %d in a topic filter", n, PresetAWS, AWSMaxTopicLevels-1)
		}
	}
}

func applyAzure(b *Bridge, add func(path, format string, args ...any)) {
	if b.AWS != (BridgeAWS{}) {
		add(".aws", "is for preset %s, not %s", PresetAWS, PresetAzure)
	}
	if b.Azure.ConnectionString == "" {
		add(".azure.connection_string", "%s needs the device's connection string (HostName=...;DeviceId=...;SharedAccessKey=...)", PresetAzure)
		return
	}
	d, err := ParseAzureConnectionString(string(b.Azure.ConnectionString))
	if err != nil {
		add(".azure.connection_string", "%v", err)
		return
	}
	if b.Address == "" {
		b.Address = "tls://" + net.JoinHostPort(d.HostName, "8883")
	} else {
		b.Address = presetAddress(b.Address, 8883, add)
	}
	if b.ClientID == "" {
		b.ClientID = d.DeviceID
	}
	if b.Username == "" {
		b.Username = d.Username()
	}
	if b.Protocol == "5" {
		add(".protocol", "%s's device endpoint speaks MQTT 3.1.1: leave protocol out or set 3.1.1", PresetAzure)
	}
	if l := b.Azure.TokenLifetime; l == 0 {
		b.Azure.TokenLifetime = DefaultAzureTokenLifetime
	} else if l < Duration(time.Minute) || l%Duration(time.Second) != 0 {
		add(".azure.token_lifetime", "must be 0 (default 1h) or a whole number of seconds of at least 1m, got %s", l)
	}
	if b.Azure.CloudToDevice == "" {
		b.Azure.CloudToDevice = DefaultAzureCloudToDevice
	} else if c := b.Azure.CloudToDevice; c != "#" && !strings.HasSuffix(c, "/#") || strings.Count(c, "#") > 1 || strings.Contains(c, "+") {
		add(".azure.cloud_to_device", `must be a local filter ending in "/#", such as %s, got %q`, DefaultAzureCloudToDevice, c)
	}
	if b.Limits.MaxPayload == 0 {
		b.Limits.MaxPayload = AzureMaxPayload
	}
	for j := range b.Out {
		if r := &b.Out[j]; r.Remote == "" {
			r.Remote = d.EventsTopic()
			if r.TopicProperty == "" {
				r.TopicProperty = AzureTopicProperty
			}
		}
	}
	if len(b.In) == 0 {
		b.In = []BridgeIn{{Remote: d.DeviceboundFilter(), Local: b.Azure.CloudToDevice, QoS: 1}}
	}
	checkPresetQoS(b, PresetAzure, add)
}

// presetAddress turns an endpoint given as host, host:port or
// tls://host[:port] into tls://host:port; a tcp:// address is kept (a
// local test broker, a proxy).
func presetAddress(a string, port int, add func(path, format string, args ...any)) string {
	if strings.HasPrefix(a, "tcp://") {
		return a
	}
	hp := strings.TrimPrefix(a, "tls://")
	if strings.Contains(hp, "://") {
		add(".address", "want the endpoint's host name, host:port or tls://host:port, got %q", a)
		return a
	}
	if _, _, err := net.SplitHostPort(hp); err != nil {
		hp = net.JoinHostPort(strings.Trim(hp, "[]"), strconv.Itoa(port))
	}
	return "tls://" + hp
}

// checkPresetQoS: both clouds take QoS 0 and 1 only.
func checkPresetQoS(b *Bridge, preset string, add func(path, format string, args ...any)) {
	for j, r := range b.Out {
		if r.QoS == 2 {
			add(".out["+strconv.Itoa(j)+"].qos", "%s supports QoS 0 and 1, got 2", preset)
		}
	}
	for j, r := range b.In {
		if r.QoS == 2 {
			add(".in["+strconv.Itoa(j)+"].qos", "%s supports QoS 0 and 1, got 2", preset)
		}
	}
}
