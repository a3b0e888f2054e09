package packet

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestTableIsSane(t *testing.T) {
	names := map[string]bool{}
	refused := 0
	for _, tc := range table {
		if names[tc.name] {
			t.Errorf("duplicate table entry %q", tc.name)
		}
		names[tc.name] = true
		if (tc.pkt == nil) == (tc.err == nil) {
			t.Errorf("%s: want exactly one of pkt and err", tc.name)
		}
		if tc.err != nil {
			refused++
		}
	}
	if refused < 30 {
		t.Errorf("table has %d refused packets, want at least 30", refused)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeWhole(tc.raw, tc.version)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("decode: got %v (%#v), %v; want error %v", got, got, err, tc.err)
				}
				var e *Error
				if !errors.As(err, &e) || e.Reason == "" {
					t.Errorf("error %v is not an *Error with a reason", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: got error %v, want %#v", err, tc.pkt)
			}
			if diff := cmp.Diff(tc.pkt, got, cmpOpts); diff != "" {
				t.Errorf("decode mismatch (-want +got):\n%s", diff)
			}
			if typ := Type(tc.raw[0] >> 4); got.Type() != typ {
				t.Errorf("Type() = %v, want %v", got.Type(), typ)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	for _, tc := range table {
		if tc.pkt == nil || tc.noncanonical {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := Append(nil, tc.pkt, tc.version)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(got, tc.raw) {
				t.Errorf("Append:\ngot  % x\nwant % x", got, tc.raw)
			}
			if n := Size(tc.pkt, tc.version); n != len(tc.raw) {
				t.Errorf("Size = %d, want %d", n, len(tc.raw))
			}
			prefix := []byte("prefix")
			got, err = Append(prefix, tc.pkt, tc.version)
			if err != nil || string(got[:6]) != "prefix" || !bytes.Equal(got[6:], tc.raw) {
				t.Errorf("Append after a prefix = % x, %v", got, err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range table {
		if tc.pkt == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			first, err := decodeWhole(tc.raw, tc.version)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			raw, err := Append(nil, first, tc.version)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if tc.noncanonical && bytes.Equal(raw, tc.raw) {
				t.Errorf("entry marked noncanonical but Append gives the same bytes")
			}
			again, err := decodeWhole(raw, tc.version)
			if err != nil {
				t.Fatalf("decode of % x: %v", raw, err)
			}
			if diff := cmp.Diff(first, again, cmpOpts); diff != "" {
				t.Errorf("round trip mismatch (-first +again):\n%s", diff)
			}
		})
	}
}

func TestRead(t *testing.T) {
	for _, tc := range table {
		if tc.pkt == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			readers := map[string]io.Reader{
				"bytes":   bytes.NewReader(tc.raw),
				"onebyte": iotest.OneByteReader(bytes.NewReader(tc.raw)),
				"limit":   bytes.NewReader(tc.raw),
			}
			for name, r := range readers {
				max := 0
				if name == "limit" {
					max = len(tc.raw)
				}
				got, err := Read(r, max, tc.version)
				if err != nil {
					t.Fatalf("%s: Read: %v", name, err)
				}
				if diff := cmp.Diff(tc.pkt, got, cmpOpts); diff != "" {
					t.Errorf("%s: Read mismatch (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestReadTooLarge(t *testing.T) {
	for _, tc := range table {
		if tc.pkt == nil {
			continue
		}
		r := bytes.NewReader(tc.raw)
		_, err := Read(r, len(tc.raw)-1, tc.version)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: Read with limit %d: got %v, want ErrTooLarge", tc.name, len(tc.raw)-1, err)
		}
		_, hlen, _ := DecodeFixedHeader(tc.raw)
		if read := len(tc.raw) - r.Len(); read != hlen {
			t.Errorf("%s: Read consumed %d bytes, want the %d of the fixed header", tc.name, read, hlen)
		}
	}
}

func TestReadStream(t *testing.T) {
	var stream []byte
	var want []Packet
	for _, tc := range table {
		if tc.pkt != nil && tc.version == Version5 {
			stream = append(stream, tc.raw...)
			want = append(want, tc.pkt)
		}
	}
	r := iotest.HalfReader(bytes.NewReader(stream))
	for i, w := range want {
		got, err := Read(r, 0, Version5)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if diff := cmp.Diff(w, got, cmpOpts); diff != "" {
			t.Errorf("packet %d (-want +got):\n%s", i, diff)
		}
	}
	if _, err := Read(r, 0, Version5); err != io.EOF {
		t.Errorf("Read at the end: got %v, want io.EOF", err)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"inside header", []byte{0x30, 0x80}, io.ErrUnexpectedEOF},
		{"inside body", []byte{0x30, 0x05, 0x00, 0x01}, io.ErrUnexpectedEOF},
		{"bad flags before body", []byte{0x42, 0x02}, ErrMalformed},
		{"header too long", []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, ErrMalformed},
		{"too large", []byte{0x30, 0xFF, 0x01}, ErrTooLarge},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.in), 100, Version311)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Read = %v, want %v", tt.name, err, tt.want)
		}
	}
	wantErr := errors.New("boom")
	_, err := Read(iotest.ErrReader(wantErr), 0, Version5)
	if err != wantErr {
		t.Errorf("Read from failing reader = %v, want %v", err, wantErr)
	}
}

func TestDecodeFixedHeader(t *testing.T) {
	tests := []struct {
		in        []byte
		want      FixedHeader
		size      int
		wantError error
	}{
		{in: nil, wantError: ErrIncomplete},
		{in: []byte{0x30}, wantError: ErrIncomplete},
		{in: []byte{0x30, 0x80}, wantError: ErrIncomplete},
		{in: []byte{0x30, 0x80, 0x80, 0x80}, wantError: ErrIncomplete},
		{in: []byte{0x30, 0x80, 0x80, 0x80, 0x80}, wantError: ErrMalformed},
		{in: []byte{0x30, 0xFF, 0x00}, wantError: ErrMalformed},
		{in: []byte{0x41}, wantError: ErrMalformed},
		{in: []byte{0x60}, wantError: ErrMalformed},
		{in: []byte{0x36}, wantError: ErrMalformed},
		{in: []byte{0x30, 0x00}, want: FixedHeader{PUBLISH, 0, 0}, size: 2},
		{in: []byte{0x3D, 0x7F, 0xAA}, want: FixedHeader{PUBLISH, 0xD, 127}, size: 2},
		{in: []byte{0x62, 0x80, 0x01}, want: FixedHeader{PUBREL, 2, 128}, size: 3},
		{in: []byte{0x82, 0xFF, 0x7F}, want: FixedHeader{SUBSCRIBE, 2, 16383}, size: 3},
		{in: []byte{0xA2, 0x80, 0x80, 0x01}, want: FixedHeader{UNSUBSCRIBE, 2, 16384}, size: 4},
		{in: []byte{0xF0, 0xFF, 0xFF, 0x7F}, want: FixedHeader{AUTH, 0, 2097151}, size: 4},
		{in: []byte{0xE0, 0x80, 0x80, 0x80, 0x01}, want: FixedHeader{DISCONNECT, 0, 2097152}, size: 5},
		{in: []byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, want: FixedHeader{PUBLISH, 0, MaxRemaining}, size: 5},
	}
	for _, tt := range tests {
		got, size, err := DecodeFixedHeader(tt.in)
		if tt.wantError != nil {
			if !errors.Is(err, tt.wantError) {
				t.Errorf("DecodeFixedHeader(% x) error = %v, want %v", tt.in, err, tt.wantError)
			}
			continue
		}
		if err != nil || got != tt.want || size != tt.size {
			t.Errorf("DecodeFixedHeader(% x) = %+v, %d, %v; want %+v, %d", tt.in, got, size, err, tt.want, tt.size)
		}
	}
}

func TestVarint(t *testing.T) {
	for _, v := range []int{0, 1, 127, 128, 16383, 16384, 2097151, 2097152, MaxRemaining} {
		b := appendVarint(nil, v)
		if len(b) != varintSize(v) {
			t.Errorf("appendVarint(%d) has %d bytes, varintSize says %d", v, len(b), varintSize(v))
		}
		got, n, err := decodeVarint(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("decodeVarint(% x) = %d, %d, %v; want %d", b, got, n, err, v)
		}
	}
	if varintSize(MaxRemaining+1) != 5 {
		t.Errorf("varintSize(MaxRemaining+1) = %d, want 5", varintSize(MaxRemaining+1))
	}
}

// TestDecodeCopies checks that a decoded packet does not share memory with
// the body it came from.
func TestDecodeCopies(t *testing.T) {
	for _, tc := range table {
		if tc.pkt == nil {
			continue
		}
		raw := bytes.Clone(tc.raw)
		got, err := decodeWhole(raw, tc.version)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i := range raw {
			raw[i] = 0xEE
		}
		if diff := cmp.Diff(tc.pkt, got, cmpOpts); diff != "" {
			t.Errorf("%s: packet changed with its input (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestReadClipsCapacity checks that slices Read returns cannot grow into
// each other.
func TestReadClipsCapacity(t *testing.T) {
	raw := findRaw(t, "v5/PUBLISH/qos1-properties")
	p, err := Read(bytes.NewReader(raw), 0, Version5)
	if err != nil {
		t.Fatal(err)
	}
	pub := p.(*Publish)
	_ = append(pub.Properties.CorrelationData, 0xEE, 0xEE)
	if cap(pub.Properties.CorrelationData) != len(pub.Properties.CorrelationData) || string(pub.Payload) != "{}" {
		t.Errorf("correlation data can grow into the payload: cap %d, payload %q",
			cap(pub.Properties.CorrelationData), pub.Payload)
	}
}

func findRaw(t testing.TB, name string) []byte {
	for _, tc := range table {
		if tc.name == name {
			return tc.raw
		}
	}
	t.Fatalf("no table entry %q", name)
	return nil
}

// TestEveryProperty checks that the table decodes every property at least
// once, so each wire type and identifier is covered.
func TestEveryProperty(t *testing.T) {
	seen := map[PropID]bool{}
	mark := func(p *Properties) {
		for id := PropID(0); id < 64; id++ {
			if p.Has(id) {
				seen[id] = true
			}
		}
	}
	for _, tc := range table {
		switch p := tc.pkt.(type) {
		case *Connect:
			mark(&p.Properties)
			mark(&p.WillProperties)
		case *Connack:
			mark(&p.Properties)
		case *Publish:
			mark(&p.Properties)
		case *Ack:
			mark(&p.Properties)
		case *Subscribe:
			mark(&p.Properties)
		case *Suback:
			mark(&p.Properties)
		case *Unsubscribe:
			mark(&p.Properties)
		case *Unsuback:
			mark(&p.Properties)
		case *Disconnect:
			mark(&p.Properties)
		case *Auth:
			mark(&p.Properties)
		}
	}
	for id, info := range props {
		if info.wire != 0 && !seen[PropID(id)] {
			t.Errorf("no table entry carries %v (0x%02X)", PropID(id), id)
		}
	}
}

func TestAppendErrors(t *testing.T) {
	long := strings.Repeat("x", 65536)
	huge := strings.Repeat("y", 65535)
	var many []UserProperty
	for range 2100 {
		many = append(many, UserProperty{huge, huge})
	}
	tests := []struct {
		name    string
		pkt     Packet
		version byte
		want    error
	}{
		{"topic too long", &Publish{Topic: long}, Version311, ErrMalformed},
		{"client id too long", &Connect{ClientID: long}, Version311, ErrMalformed},
		{"user property too long", &Publish{Topic: "a", Properties: Properties{User: []UserProperty{{long, ""}}}}, Version5, ErrMalformed},
		{"remaining over MaxRemaining", &Publish{Topic: "a", Properties: Properties{User: many}}, Version5, ErrTooLarge},
		{"QoS 3", &Publish{Topic: "a", QoS: 3, PacketID: 1}, Version311, ErrMalformed},
		{"DUP on QoS 0", &Publish{Topic: "a", Dup: true}, Version311, ErrMalformed},
		{"packet id 0", &Publish{Topic: "a", QoS: 1}, Version311, ErrProtocol},
		{"wildcard topic", &Publish{Topic: "a/#"}, Version311, ErrTopicNameInvalid},
		{"empty topic 3.1.1", &Publish{}, Version311, ErrTopicNameInvalid},
		{"empty topic without alias", &Publish{}, Version5, ErrProtocol},
		{"property not allowed", &Publish{Topic: "a", Properties: pset(Properties{ReasonString: "r"}, PropReasonString)}, Version5, ErrMalformed},
		{"unknown property", &Publish{Topic: "a", Properties: pset(Properties{}, 0x05)}, Version5, ErrMalformed},
		{"topic alias 0", &Publish{Topic: "a", Properties: pset(Properties{}, PropTopicAlias)}, Version5, &Error{Code: TopicAliasInvalid}},
		{"receive maximum 0", &Connect{Properties: pset(Properties{}, PropReceiveMaximum)}, Version5, ErrProtocol},
		{"subscription id 0", &Publish{Topic: "a", Properties: Properties{SubscriptionIDs: []uint32{0}}}, Version5, ErrProtocol},
		{"subscription id too big", &Publish{Topic: "a", Properties: Properties{SubscriptionIDs: []uint32{MaxRemaining + 1}}}, Version5, ErrProtocol},
		{"two subscription ids in SUBSCRIBE", &Subscribe{PacketID: 1, Subscriptions: []SubOptions{{Filter: "a"}},
			Properties: Properties{SubscriptionIDs: []uint32{1, 2}}}, Version5, ErrProtocol},
		{"unknown version", &Pingreq{}, 6, ErrUnsupportedVersion},
		{"connect version mismatch", &Connect{ProtocolName: "MQIsdp", ProtocolVersion: 4}, 4, ErrUnsupportedVersion},
		{"connect unknown version", &Connect{}, 0, ErrUnsupportedVersion},
		{"password without user name", &Connect{PasswordFlag: true}, Version311, ErrMalformed},
		{"will QoS 3", &Connect{WillFlag: true, WillQoS: 3, WillTopic: "w"}, Version311, ErrMalformed},
		{"will topic wildcard", &Connect{WillFlag: true, WillTopic: "+"}, Version311, ErrTopicNameInvalid},
		{"AUTH in 3.1.1", &Auth{}, Version311, ErrProtocol},
		{"AUTH bad code", &Auth{ReasonCode: Banned}, Version5, ErrProtocol},
		{"PUBREL bad code", &Ack{Kind: PUBREL, PacketID: 1, ReasonCode: QuotaExceeded}, Version5, ErrProtocol},
		{"Ack kind", &Ack{Kind: PUBLISH, PacketID: 1}, Version5, ErrMalformed},
		{"Ack packet id 0", &Ack{Kind: PUBACK}, Version311, ErrProtocol},
		{"CONNACK 3.1.1 code", &Connack{ReasonCode: NotAuthorized}, Version311, ErrProtocol},
		{"CONNACK session present refused", &Connack{SessionPresent: true, ReasonCode: NotAuthorized}, Version5, ErrProtocol},
		{"SUBSCRIBE empty", &Subscribe{PacketID: 1}, Version311, ErrProtocol},
		{"SUBSCRIBE QoS 3", &Subscribe{PacketID: 1, Subscriptions: []SubOptions{{Filter: "a", QoS: 3}}}, Version311, ErrMalformed},
		{"SUBSCRIBE retain handling 3", &Subscribe{PacketID: 1, Subscriptions: []SubOptions{{Filter: "a", RetainHandling: 3}}}, Version5, ErrMalformed},
		{"SUBACK empty", &Suback{PacketID: 1}, Version5, ErrProtocol},
		{"SUBACK 3.1.1 code", &Suback{PacketID: 1, ReasonCodes: []ReasonCode{NotAuthorized}}, Version311, ErrProtocol},
		{"UNSUBSCRIBE empty", &Unsubscribe{PacketID: 1}, Version5, ErrProtocol},
		{"UNSUBACK empty", &Unsuback{PacketID: 1}, Version5, ErrProtocol},
		{"DISCONNECT bad code", &Disconnect{ReasonCode: GrantedQoS1}, Version5, ErrProtocol},
		{"SUBSCRIBE packet id 0", &Subscribe{Subscriptions: []SubOptions{{Filter: "a"}}}, Version5, ErrProtocol},
		{"SUBSCRIBE filter too long", &Subscribe{PacketID: 1, Subscriptions: []SubOptions{{Filter: long}}}, Version5, ErrMalformed},
		{"SUBACK packet id 0", &Suback{ReasonCodes: []ReasonCode{Success}}, Version5, ErrProtocol},
		{"UNSUBSCRIBE packet id 0", &Unsubscribe{Filters: []string{"a"}}, Version311, ErrProtocol},
		{"UNSUBSCRIBE filter too long", &Unsubscribe{PacketID: 1, Filters: []string{long}}, Version311, ErrMalformed},
		{"UNSUBACK packet id 0", &Unsuback{}, Version311, ErrProtocol},
		{"UNSUBACK bad code", &Unsuback{PacketID: 1, ReasonCodes: []ReasonCode{GrantedQoS1}}, Version5, ErrProtocol},
		{"CONNECT will property not allowed", &Connect{WillFlag: true, WillTopic: "w",
			WillProperties: pset(Properties{}, PropSessionExpiry)}, Version5, ErrMalformed},
		{"CONNECT password too long", &Connect{UsernameFlag: true, PasswordFlag: true, Password: []byte(long)}, Version311, ErrMalformed},
		{"CONNACK property not allowed", &Connack{Properties: pset(Properties{}, PropTopicAlias)}, Version5, ErrMalformed},
		{"PUBACK property not allowed", &Ack{Kind: PUBACK, PacketID: 1, Properties: pset(Properties{}, PropContentType)}, Version5, ErrMalformed},
	}
	for _, tt := range tests {
		dst := []byte("keep")
		got, err := Append(dst, tt.pkt, tt.version)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Append error = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && (string(got) != "keep" || !strings.Contains(err.Error(), "cannot encode")) {
			t.Errorf("%s: failed Append returned % x, %q", tt.name, got, err)
		}
		if n := Size(tt.pkt, tt.version); n != -1 {
			t.Errorf("%s: Size = %d, want -1", tt.name, n)
		}
	}
}

// TestAppendIgnores checks what Append leaves out: fields the version does
// not have, and fields whose flag is not set.
func TestAppendIgnores(t *testing.T) {
	tests := []struct {
		name    string
		pkt     Packet
		version byte
		want    []byte
	}{
		{"v3 PUBACK reason and properties", &Ack{Kind: PUBACK, PacketID: 1, ReasonCode: NotAuthorized,
			Properties: pset(Properties{ReasonString: "no"}, PropReasonString)}, Version311, []byte{0x40, 2, 0, 1}},
		{"v3 UNSUBACK codes", &Unsuback{PacketID: 1, ReasonCodes: []ReasonCode{Success}}, Version311, []byte{0xB0, 2, 0, 1}},
		{"v3 DISCONNECT reason", &Disconnect{ReasonCode: ServerShuttingDown}, Version311, []byte{0xE0, 0}},
		{"v3 subscription options", &Subscribe{PacketID: 1, Subscriptions: []SubOptions{{Filter: "a", QoS: 1, NoLocal: true, RetainHandling: 2}}},
			Version311, []byte{0x82, 6, 0, 1, 0, 1, 'a', 1}},
		{"CONNECT without flags", &Connect{ProtocolVersion: 4, Username: "u", Password: []byte("p"), WillTopic: "w", WillQoS: 2, WillRetain: true},
			Version5, []byte{0x10, 12, 0, 4, 'M', 'Q', 'T', 'T', 4, 0, 0, 0, 0, 0}},
		{"CONNECT version from argument", &Connect{ClientID: "c"}, Version31,
			[]byte{0x10, 15, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0, 0, 0, 0, 1, 'c'}},
		{"v5 AUTH reason without properties", &Auth{ReasonCode: ReAuthenticate}, Version5, []byte{0xF0, 2, 0x19, 0}},
		{"v5 set but empty user property", &Publish{Topic: "a", Properties: pset(Properties{}, PropUserProperty, PropSubscriptionID)},
			Version5, []byte{0x30, 4, 0, 1, 'a', 0}},
	}
	for _, tt := range tests {
		got, err := Append(nil, tt.pkt, tt.version)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: Append = % x, %v; want % x", tt.name, got, err, tt.want)
		}
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	for _, tc := range table {
		if tc.pkt == nil {
			continue
		}
		buf := make([]byte, 0, 1024)
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := Append(buf[:0], tc.pkt, tc.version); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Append allocates %v times", tc.name, allocs)
		}
	}
}

func TestErrorIs(t *testing.T) {
	_, err := decodeWhole([]byte{0x30, 0x03, 0x00, 0x01, '#'}, Version311)
	if !errors.Is(err, ErrTopicNameInvalid) || errors.Is(err, ErrMalformed) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != TopicNameInvalid || !strings.HasPrefix(err.Error(), "packet: ") {
		t.Errorf("error %v: want *Error with code 0x90", err)
	}
	if errors.Is(err, io.EOF) {
		t.Errorf("*Error matches io.EOF")
	}
}

func TestValidReasonCode(t *testing.T) {
	tests := []struct {
		t       Type
		code    ReasonCode
		version byte
		want    bool
	}{
		{CONNACK, V3NotAuthorized, Version311, true},
		{CONNACK, 6, Version311, false},
		{SUBACK, V3SubackFailure, Version31, true},
		{SUBACK, UnspecifiedError, Version5, true},
		{SUBACK, NoSubscriptionExisted, Version5, false},
		{PUBACK, NoMatchingSubscribers, Version5, true},
		{PUBREC, PayloadFormatInvalid, Version5, true},
		{PUBREL, PacketIDNotFound, Version5, true},
		{PUBCOMP, UnspecifiedError, Version5, false},
		{UNSUBACK, NoSubscriptionExisted, Version5, true},
		{DISCONNECT, DisconnectWithWill, Version5, true},
		{DISCONNECT, Banned, Version5, false},
		{AUTH, ReAuthenticate, Version5, true},
		{PUBACK, Success, Version311, false},
		{PUBLISH, Success, Version5, false},
	}
	for _, tt := range tests {
		if got := ValidReasonCode(tt.t, tt.code, tt.version); got != tt.want {
			t.Errorf("ValidReasonCode(%v, 0x%02X, %d) = %v, want %v", tt.t, byte(tt.code), tt.version, got, tt.want)
		}
	}
}

func TestPropertiesEmpty(t *testing.T) {
	var p Properties
	if !p.Empty() {
		t.Errorf("zero Properties not Empty")
	}
	p.Set(PropPayloadFormat)
	if p.Empty() || !p.Has(PropPayloadFormat) {
		t.Errorf("Set(PropPayloadFormat): Empty %v, Has %v", p.Empty(), p.Has(PropPayloadFormat))
	}
	p.Clear(PropPayloadFormat)
	if !p.Empty() {
		t.Errorf("Clear did not empty the properties")
	}
}

func TestPropIDString(t *testing.T) {
	if got := PropTopicAlias.String(); got != "Topic Alias" {
		t.Errorf("PropTopicAlias.String() = %q", got)
	}
	if got := PropID(0x7F).String(); got != "PropID(0x7F)" {
		t.Errorf("PropID(0x7F).String() = %q", got)
	}
}
