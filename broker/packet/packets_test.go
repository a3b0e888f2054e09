package packet

// table lists packets on the wire and their decoded values. It drives the
// decode, encode and round-trip tests and seeds the fuzzers. An entry with
// err is refused by the decoder with that error code; an entry with
// noncanonical decodes but Append writes a shorter or reordered form.
var table = []tcase{
	{
		name: "v31/CONNECT/user-password", version: Version31,
		raw: []byte{
			0x10,                                     // CONNECT, flags 0000
			0x26,                                     // remaining length 38
			0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
			0x03,       // protocol level 3
			0xC2,       // flags: user name, password, clean session
			0x00, 0x1E, // keep alive 30
			0x00, 0x09, 'p', 'i', '-', 's', 'e', 'n', 's', 'o', 'r', // client identifier "pi-sensor"
			0x00, 0x05, 'a', 'l', 'i', 'c', 'e', // user name "alice"
			0x00, 0x06, 's', 'e', 'c', 'r', 'e', 't', // password "secret"
		},
		pkt: &Connect{ProtocolName: "MQIsdp", ProtocolVersion: Version31, CleanStart: true, KeepAlive: 30,
			ClientID: "pi-sensor", UsernameFlag: true, Username: "alice", PasswordFlag: true, Password: []byte("secret")},
	},
	{
		name: "v31/CONNECT/will", version: Version31,
		raw: []byte{
			0x10,                                     // CONNECT, flags 0000
			0x1E,                                     // remaining length 30
			0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
			0x03,       // protocol level 3
			0x2C,       // flags: will retain, will QoS 1, will
			0x00, 0x0A, // keep alive 10
			0x00, 0x02, 'c', '1', // client identifier "c1"
			0x00, 0x07, 'd', 'e', 'a', 'd', '/', 'c', '1', // will topic "dead/c1"
			0x00, 0x03, 'b', 'y', 'e', // will payload "bye"
		},
		pkt: &Connect{ProtocolName: "MQIsdp", ProtocolVersion: Version31, KeepAlive: 10, ClientID: "c1",
			WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: "dead/c1", WillPayload: []byte("bye")},
	},
	{
		name: "v31/CONNECT/reserved-flag-ignored", version: Version31,
		raw: []byte{
			0x10,                                     // CONNECT, flags 0000
			0x0F,                                     // remaining length 15
			0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
			0x03,       // protocol level 3
			0x03,       // flags: clean session, reserved bit (unused in 3.1)
			0x00, 0x00, // keep alive 0
			0x00, 0x01, 'c', // client identifier "c"
		},
		pkt:          &Connect{ProtocolName: "MQIsdp", ProtocolVersion: Version31, CleanStart: true, ClientID: "c"},
		noncanonical: true,
	},
	{
		name: "v31/CONNACK/accepted", version: Version31,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x00, // acknowledge flags
			0x00, // return code 0: accepted
		},
		pkt: &Connack{},
	},
	{
		name: "v31/PUBLISH/qos1", version: Version31,
		raw: []byte{
			0x32,                      // PUBLISH, flags 0010: QoS 1
			0x0B,                      // remaining length 11
			0x00, 0x03, 'a', '/', 'b', // topic "a/b"
			0x00, 0x07, // packet identifier 7
			'2', '1', '.', '5', // payload "21.5"
		},
		pkt: &Publish{QoS: 1, Topic: "a/b", PacketID: 7, Payload: []byte("21.5")},
	},
	{
		name: "v31/PUBACK", version: Version31,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x07, // packet identifier 7
		},
		pkt: &Ack{Kind: PUBACK, PacketID: 7},
	},
	{
		name: "v31/PUBREL", version: Version31,
		raw: []byte{
			0x62,       // PUBREL, flags 0010
			0x02,       // remaining length 2
			0x00, 0x08, // packet identifier 8
		},
		pkt: &Ack{Kind: PUBREL, PacketID: 8},
	},
	{
		name: "v31/SUBSCRIBE", version: Version31,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x0C,       // remaining length 12
			0x00, 0x01, // packet identifier 1
			0x00, 0x03, 'a', '/', '+', // topic filter "a/+"
			0x01,            // QoS 1
			0x00, 0x01, '#', // topic filter "#"
			0x00, // QoS 0
		},
		pkt: &Subscribe{PacketID: 1, Subscriptions: []SubOptions{{Filter: "a/+", QoS: 1}, {Filter: "#"}}},
	},
	{
		name: "v31/SUBACK", version: Version31,
		raw: []byte{
			0x90,       // SUBACK, flags 0000
			0x04,       // remaining length 4
			0x00, 0x01, // packet identifier 1
			0x01, // granted QoS 1
			0x00, // granted QoS 0
		},
		pkt: &Suback{PacketID: 1, ReasonCodes: []ReasonCode{GrantedQoS1, GrantedQoS0}},
	},
	{
		name: "v31/UNSUBSCRIBE", version: Version31,
		raw: []byte{
			0xA2,       // UNSUBSCRIBE, flags 0010
			0x07,       // remaining length 7
			0x00, 0x02, // packet identifier 2
			0x00, 0x03, 'a', '/', '+', // topic filter "a/+"
		},
		pkt: &Unsubscribe{PacketID: 2, Filters: []string{"a/+"}},
	},
	{
		name: "v31/UNSUBACK", version: Version31,
		raw: []byte{
			0xB0,       // UNSUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x02, // packet identifier 2
		},
		pkt: &Unsuback{PacketID: 2},
	},
	{
		name: "v31/PINGREQ", version: Version31,
		raw: []byte{
			0xC0, // PINGREQ, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Pingreq{},
	},
	{
		name: "v31/PINGRESP", version: Version31,
		raw: []byte{
			0xD0, // PINGRESP, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Pingresp{},
	},
	{
		name: "v31/DISCONNECT", version: Version31,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Disconnect{},
	},
	{
		name: "v311/CONNECT/minimal", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0C,                           // remaining length 12
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x02,       // flags: clean session
			0x00, 0x3C, // keep alive 60
			0x00, 0x00, // client identifier ""
		},
		pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: Version311, CleanStart: true, KeepAlive: 60},
	},
	{
		name: "v311/CONNECT/full", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x34,                           // remaining length 52
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0xF4,       // flags: user name, password, will retain, will QoS 2, will
			0xFF, 0xFF, // keep alive 65535
			0x00, 0x06, 'e', 'd', 'g', 'e', '-', '1', // client identifier "edge-1"
			0x00, 0x0D, 's', 't', 'a', 't', 'u', 's', '/', 'e', 'd', 'g', 'e', '-', '1', // will topic "status/edge-1"
			0x00, 0x07, 'o', 'f', 'f', 'l', 'i', 'n', 'e', // will payload "offline"
			0x00, 0x03, 'b', 'o', 'b', // user name "bob"
			0x00, 0x03, 0x00, 0x01, 0xFF, // password 00 01 ff
		},
		pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: Version311, KeepAlive: 65535, ClientID: "edge-1",
			WillFlag: true, WillQoS: 2, WillRetain: true, WillTopic: "status/edge-1", WillPayload: []byte("offline"),
			UsernameFlag: true, Username: "bob", PasswordFlag: true, Password: []byte{0x00, 0x01, 0xFF}},
	},
	{
		name: "v311/CONNECT/username-only", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x14,                           // remaining length 20
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x80,       // flags: user name
			0x00, 0x05, // keep alive 5
			0x00, 0x01, 'x', // client identifier "x"
			0x00, 0x05, 0xC3, 0xBC, 'n', 0xC3, 0xAF, // user name "ünï" (UTF-8)
		},
		pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: Version311, KeepAlive: 5, ClientID: "x", UsernameFlag: true, Username: "ünï"},
	},
	{
		name: "v311/CONNACK/session-present", version: Version311,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x01, // acknowledge flags: session present
			0x00, // return code 0: accepted
		},
		pkt: &Connack{SessionPresent: true},
	},
	{
		name: "v311/CONNACK/not-authorized", version: Version311,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x00, // acknowledge flags
			0x05, // return code 5: not authorized
		},
		pkt: &Connack{ReasonCode: V3NotAuthorized},
	},
	{
		name: "v311/PUBLISH/qos0", version: Version311,
		raw: []byte{
			0x30,                                                                   // PUBLISH, flags 0000
			0x10,                                                                   // remaining length 16
			0x00, 0x0C, 's', 'e', 'n', 's', 'o', 'r', 's', '/', 't', 'e', 'm', 'p', // topic "sensors/temp"
			'2', '1', // payload "21"
		},
		pkt: &Publish{Topic: "sensors/temp", Payload: []byte("21")},
	},
	{
		name: "v311/PUBLISH/qos0-empty-payload-retain", version: Version311,
		raw: []byte{
			0x31,            // PUBLISH, flags 0001: retain
			0x03,            // remaining length 3
			0x00, 0x01, 'a', // topic "a"
		},
		pkt: &Publish{Retain: true, Topic: "a"},
	},
	{
		name: "v311/PUBLISH/qos1-retain", version: Version311,
		raw: []byte{
			0x33,                                // PUBLISH, flags 0011: QoS 1, retain
			0x0B,                                // remaining length 11
			0x00, 0x05, 'a', '/', 'b', '/', 'c', // topic "a/b/c"
			0x12, 0x34, // packet identifier 0x1234
			'o', 'n', // payload "on"
		},
		pkt: &Publish{QoS: 1, Retain: true, Topic: "a/b/c", PacketID: 0x1234, Payload: []byte("on")},
	},
	{
		name: "v311/PUBLISH/qos2-dup", version: Version311,
		raw: []byte{
			0x3C,            // PUBLISH, flags 1100: DUP, QoS 2
			0x07,            // remaining length 7
			0x00, 0x01, 'x', // topic "x"
			0xFF, 0xFF, // packet identifier 65535
			0x00, 0xFF, // payload 00 ff
		},
		pkt: &Publish{Dup: true, QoS: 2, Topic: "x", PacketID: 65535, Payload: []byte{0x00, 0xFF}},
	},
	{
		name: "v311/PUBACK", version: Version311,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		pkt: &Ack{Kind: PUBACK, PacketID: 1},
	},
	{
		name: "v311/PUBREC", version: Version311,
		raw: []byte{
			0x50,       // PUBREC, flags 0000
			0x02,       // remaining length 2
			0x00, 0x02, // packet identifier 2
		},
		pkt: &Ack{Kind: PUBREC, PacketID: 2},
	},
	{
		name: "v311/PUBREL", version: Version311,
		raw: []byte{
			0x62,       // PUBREL, flags 0010
			0x02,       // remaining length 2
			0x00, 0x03, // packet identifier 3
		},
		pkt: &Ack{Kind: PUBREL, PacketID: 3},
	},
	{
		name: "v311/PUBCOMP", version: Version311,
		raw: []byte{
			0x70,       // PUBCOMP, flags 0000
			0x02,       // remaining length 2
			0x00, 0x04, // packet identifier 4
		},
		pkt: &Ack{Kind: PUBCOMP, PacketID: 4},
	},
	{
		name: "v311/SUBSCRIBE", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x19,       // remaining length 25
			0x00, 0x0A, // packet identifier 10
			0x00, 0x0B, 'h', 'o', 'm', 'e', '/', '+', '/', 't', 'e', 'm', 'p', // topic filter "home/+/temp"
			0x02,                                     // QoS 2
			0x00, 0x06, '$', 'S', 'Y', 'S', '/', '#', // topic filter "$SYS/#"
			0x00, // QoS 0
		},
		pkt: &Subscribe{PacketID: 10, Subscriptions: []SubOptions{{Filter: "home/+/temp", QoS: 2}, {Filter: "$SYS/#"}}},
	},
	{
		name: "v311/SUBACK", version: Version311,
		raw: []byte{
			0x90,       // SUBACK, flags 0000
			0x04,       // remaining length 4
			0x00, 0x0A, // packet identifier 10
			0x02, // granted QoS 2
			0x80, // failure
		},
		pkt: &Suback{PacketID: 10, ReasonCodes: []ReasonCode{GrantedQoS2, V3SubackFailure}},
	},
	{
		name: "v311/UNSUBSCRIBE", version: Version311,
		raw: []byte{
			0xA2,       // UNSUBSCRIBE, flags 0010
			0x17,       // remaining length 23
			0x00, 0x0B, // packet identifier 11
			0x00, 0x0B, 'h', 'o', 'm', 'e', '/', '+', '/', 't', 'e', 'm', 'p', // topic filter "home/+/temp"
			0x00, 0x06, '$', 'S', 'Y', 'S', '/', '#', // topic filter "$SYS/#"
		},
		pkt: &Unsubscribe{PacketID: 11, Filters: []string{"home/+/temp", "$SYS/#"}},
	},
	{
		name: "v311/UNSUBACK", version: Version311,
		raw: []byte{
			0xB0,       // UNSUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x0B, // packet identifier 11
		},
		pkt: &Unsuback{PacketID: 11},
	},
	{
		name: "v311/PINGREQ", version: Version311,
		raw: []byte{
			0xC0, // PINGREQ, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Pingreq{},
	},
	{
		name: "v311/PINGRESP", version: Version311,
		raw: []byte{
			0xD0, // PINGRESP, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Pingresp{},
	},
	{
		name: "v311/DISCONNECT", version: Version311,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Disconnect{},
	},
	{
		name: "v5/CONNECT/minimal", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0F,                           // remaining length 15
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x02,       // flags: clean start
			0x00, 0x3C, // keep alive 60
			0x00,                 // property length 0
			0x00, 0x02, 'c', '5', // client identifier "c5"
		},
		pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: Version5, CleanStart: true, KeepAlive: 60, ClientID: "c5"},
	},
	{
		name: "v5/CONNECT/all-properties", version: Version5,
		raw: []byte{
			0x10,       // CONNECT, flags 0000
			0x84, 0x01, // remaining length 132
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0xEE,       // flags: user name, password, will retain, will QoS 1, will, clean start
			0x00, 0x1E, // keep alive 30
			0x2D,                         // property length 45
			0x11, 0x00, 0x00, 0x0E, 0x10, // Session Expiry Interval = 3600
			0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M', // Authentication Method = "SCRAM"
			0x16, 0x00, 0x02, 'x', 'y', // Authentication Data = b'xy'
			0x17, 0x00, // Request Problem Information = 0
			0x19, 0x01, // Request Response Information = 1
			0x21, 0x00, 0x14, // Receive Maximum = 20
			0x22, 0x00, 0x08, // Topic Alias Maximum = 8
			0x26, 0x00, 0x04, 's', 'i', 't', 'e', 0x00, 0x03, 'l', 'a', 'b', // User Property "site" = "lab"
			0x27, 0x00, 0x10, 0x00, 0x00, // Maximum Packet Size = 1048576
			0x00, 0x03, 'd', 'e', 'v', // client identifier "dev"
			0x30,       // will property length 48
			0x01, 0x01, // Payload Format Indicator = 1
			0x02, 0x00, 0x00, 0x00, 0x3C, // Message Expiry Interval = 60
			0x03, 0x00, 0x0A, 't', 'e', 'x', 't', '/', 'p', 'l', 'a', 'i', 'n', // Content Type = "text/plain"
			0x08, 0x00, 0x08, 'r', 'e', 's', 'p', '/', 'd', 'e', 'v', // Response Topic = "resp/dev"
			0x09, 0x00, 0x02, 'i', 'd', // Correlation Data = b'id'
			0x18, 0x00, 0x00, 0x00, 0x05, // Will Delay Interval = 5
			0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // User Property "k" = "v"
			0x00, 0x08, 'w', 'i', 'l', 'l', '/', 'd', 'e', 'v', // will topic "will/dev"
			0x00, 0x04, 'g', 'o', 'n', 'e', // will payload "gone"
			0x00, 0x01, 'u', // user name "u"
			0x00, 0x01, 'p', // password "p"
		},
		pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: Version5, CleanStart: true, KeepAlive: 30,
			Properties: pset(Properties{SessionExpiry: 3600, AuthMethod: "SCRAM", AuthData: []byte("xy"),
				RequestResponseInfo: 1, ReceiveMaximum: 20, TopicAliasMaximum: 8,
				User: []UserProperty{{"site", "lab"}}, MaximumPacketSize: 1048576},
				PropSessionExpiry, PropAuthMethod, PropAuthData, PropRequestProblemInfo, PropRequestResponseInfo,
				PropReceiveMaximum, PropTopicAliasMaximum, PropMaximumPacketSize),
			ClientID: "dev", WillFlag: true, WillQoS: 1, WillRetain: true,
			WillProperties: pset(Properties{PayloadFormat: 1, MessageExpiry: 60, ContentType: "text/plain",
				ResponseTopic: "resp/dev", CorrelationData: []byte("id"), WillDelay: 5, User: []UserProperty{{"k", "v"}}},
				PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic, PropCorrelationData, PropWillDelay),
			WillTopic: "will/dev", WillPayload: []byte("gone"),
			UsernameFlag: true, Username: "u", PasswordFlag: true, Password: []byte("p")},
	},
	{
		name: "v5/CONNECT/password-without-username", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x13,                           // remaining length 19
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x40,       // flags: password
			0x00, 0x00, // keep alive 0
			0x00,            // property length 0
			0x00, 0x01, 't', // client identifier "t"
			0x00, 0x03, 't', 'o', 'k', // password "tok"
		},
		pkt: &Connect{ProtocolName: "MQTT", ProtocolVersion: Version5, ClientID: "t", PasswordFlag: true, Password: []byte("tok")},
	},
	{
		name: "v5/CONNACK/minimal", version: Version5,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x03, // remaining length 3
			0x00, // acknowledge flags
			0x00, // reason code Success
			0x00, // property length 0
		},
		pkt: &Connack{},
	},
	{
		name: "v5/CONNACK/all-properties", version: Version5,
		raw: []byte{
			0x20,                         // CONNACK, flags 0000
			0x5B,                         // remaining length 91
			0x01,                         // acknowledge flags: session present
			0x00,                         // reason code Success
			0x58,                         // property length 88
			0x11, 0x00, 0x00, 0x00, 0x78, // Session Expiry Interval = 120
			0x12, 0x00, 0x06, 'a', 'u', 't', 'o', '-', '1', // Assigned Client Identifier = "auto-1"
			0x13, 0x00, 0x2D, // Server Keep Alive = 45
			0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M', // Authentication Method = "SCRAM"
			0x16, 0x00, 0x01, 'z', // Authentication Data = b'z'
			0x1A, 0x00, 0x05, 'r', 'e', 's', 'p', '/', // Response Information = "resp/"
			0x1C, 0x00, 0x0A, 'o', 't', 'h', 'e', 'r', ':', '1', '8', '8', '3', // Server Reference = "other:1883"
			0x1F, 0x00, 0x07, 'w', 'e', 'l', 'c', 'o', 'm', 'e', // Reason String = "welcome"
			0x21, 0x00, 0x64, // Receive Maximum = 100
			0x22, 0x00, 0x0A, // Topic Alias Maximum = 10
			0x24, 0x01, // Maximum QoS = 1
			0x25, 0x00, // Retain Available = 0
			0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b', // User Property "a" = "b"
			0x27, 0x00, 0x01, 0x00, 0x00, // Maximum Packet Size = 65536
			0x28, 0x01, // Wildcard Subscription Available = 1
			0x29, 0x00, // Subscription Identifier Available = 0
			0x2A, 0x01, // Shared Subscription Available = 1
		},
		pkt: &Connack{SessionPresent: true, Properties: pset(Properties{SessionExpiry: 120, AssignedClientID: "auto-1",
			ServerKeepAlive: 45, AuthMethod: "SCRAM", AuthData: []byte("z"), ResponseInfo: "resp/",
			ServerReference: "other:1883", ReasonString: "welcome", ReceiveMaximum: 100, TopicAliasMaximum: 10,
			MaximumQoS: 1, User: []UserProperty{{"a", "b"}}, MaximumPacketSize: 65536,
			WildcardSubAvailable: 1, SharedSubAvailable: 1},
			PropSessionExpiry, PropAssignedClientID, PropServerKeepAlive, PropAuthMethod, PropAuthData,
			PropResponseInfo, PropServerReference, PropReasonString, PropReceiveMaximum, PropTopicAliasMaximum,
			PropMaximumQoS, PropRetainAvailable, PropMaximumPacketSize, PropWildcardSubAvailable,
			PropSubIDAvailable, PropSharedSubAvailable)},
	},
	{
		name: "v5/CONNACK/refused", version: Version5,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x03, // remaining length 3
			0x00, // acknowledge flags
			0x87, // reason code Not authorized
			0x00, // property length 0
		},
		pkt: &Connack{ReasonCode: NotAuthorized},
	},
	{
		name: "v5/PUBLISH/qos0", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x06,            // remaining length 6
			0x00, 0x01, 't', // topic "t"
			0x00,     // property length 0
			'h', 'i', // payload "hi"
		},
		pkt: &Publish{Topic: "t", Payload: []byte("hi")},
	},
	{
		name: "v5/PUBLISH/qos1-properties", version: Version5,
		raw: []byte{
			0x32,                      // PUBLISH, flags 0010: QoS 1
			0x4A,                      // remaining length 74
			0x00, 0x03, 'a', '/', 'b', // topic "a/b"
			0x00, 0x05, // packet identifier 5
			0x40,       // property length 64
			0x01, 0x01, // Payload Format Indicator = 1
			0x02, 0x00, 0x00, 0x01, 0x2C, // Message Expiry Interval = 300
			0x03, 0x00, 0x10, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/', 'j', 's', 'o', 'n', // Content Type = "application/json"
			0x08, 0x00, 0x07, 'r', 'e', 'p', 'l', 'y', '/', 'a', // Response Topic = "reply/a"
			0x09, 0x00, 0x02, 0x01, 0x02, // Correlation Data = b'\x01\x02'
			0x0B, 0x01, // Subscription Identifier = 1
			0x0B, 0xC0, 0x9A, 0x0C, // Subscription Identifier = 200000
			0x23, 0x00, 0x03, // Topic Alias = 3
			0x26, 0x00, 0x01, 'x', 0x00, 0x01, '1', // User Property "x" = "1"
			0x26, 0x00, 0x01, 'x', 0x00, 0x01, '2', // User Property "x" = "2"
			'{', '}', // payload "{}"
		},
		pkt: &Publish{QoS: 1, Topic: "a/b", PacketID: 5,
			Properties: pset(Properties{PayloadFormat: 1, MessageExpiry: 300, ContentType: "application/json",
				ResponseTopic: "reply/a", CorrelationData: []byte{1, 2}, SubscriptionIDs: []uint32{1, 200000},
				TopicAlias: 3, User: []UserProperty{{"x", "1"}, {"x", "2"}}},
				PropPayloadFormat, PropMessageExpiry, PropContentType, PropResponseTopic, PropCorrelationData, PropTopicAlias),
			Payload: []byte("{}")},
	},
	{
		name: "v5/PUBLISH/topic-alias-only", version: Version5,
		raw: []byte{
			0x34,       // PUBLISH, flags 0100: QoS 2
			0x09,       // remaining length 9
			0x00, 0x00, // empty topic
			0x00, 0x09, // packet identifier 9
			0x03,             // property length 3
			0x23, 0x00, 0x01, // Topic Alias = 1
			'x', // payload "x"
		},
		pkt: &Publish{QoS: 2, PacketID: 9, Properties: pset(Properties{TopicAlias: 1}, PropTopicAlias), Payload: []byte("x")},
	},
	{
		name: "v5/PUBLISH/properties-out-of-order", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x0A,            // remaining length 10
			0x00, 0x01, 't', // topic "t"
			0x05,             // property length 5
			0x23, 0x00, 0x02, // Topic Alias = 2
			0x01, 0x00, // Payload Format Indicator = 0
			'z', // payload "z"
		},
		pkt:          &Publish{Topic: "t", Properties: pset(Properties{TopicAlias: 2}, PropTopicAlias, PropPayloadFormat), Payload: []byte("z")},
		noncanonical: true,
	},
	{
		name: "v5/PUBACK/success-short", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x05, // packet identifier 5
		},
		pkt: &Ack{Kind: PUBACK, PacketID: 5},
	},
	{
		name: "v5/PUBACK/reason-only", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x05, // packet identifier 5
			0x10, // reason code No matching subscribers
		},
		pkt: &Ack{Kind: PUBACK, PacketID: 5, ReasonCode: NoMatchingSubscribers},
	},
	{
		name: "v5/PUBACK/reason-and-properties", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x17,       // remaining length 23
			0x00, 0x06, // packet identifier 6
			0x97,                                                          // reason code Quota exceeded
			0x13,                                                          // property length 19
			0x1F, 0x00, 0x09, 's', 'l', 'o', 'w', ' ', 'd', 'o', 'w', 'n', // Reason String = "slow down"
			0x26, 0x00, 0x01, 'q', 0x00, 0x01, '1', // User Property "q" = "1"
		},
		pkt: &Ack{Kind: PUBACK, PacketID: 6, ReasonCode: QuotaExceeded,
			Properties: pset(Properties{ReasonString: "slow down", User: []UserProperty{{"q", "1"}}}, PropReasonString)},
	},
	{
		name: "v5/PUBACK/success-explicit", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x05, // packet identifier 5
			0x00, // reason code Success
		},
		pkt:          &Ack{Kind: PUBACK, PacketID: 5},
		noncanonical: true,
	},
	{
		name: "v5/PUBACK/empty-properties", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x04,       // remaining length 4
			0x00, 0x05, // packet identifier 5
			0x80, // reason code Unspecified error
			0x00, // property length 0
		},
		pkt:          &Ack{Kind: PUBACK, PacketID: 5, ReasonCode: UnspecifiedError},
		noncanonical: true,
	},
	{
		name: "v5/PUBREC/success-short", version: Version5,
		raw: []byte{
			0x50,       // PUBREC, flags 0000
			0x02,       // remaining length 2
			0x00, 0x07, // packet identifier 7
		},
		pkt: &Ack{Kind: PUBREC, PacketID: 7},
	},
	{
		name: "v5/PUBREC/properties", version: Version5,
		raw: []byte{
			0x50,       // PUBREC, flags 0000
			0x09,       // remaining length 9
			0x00, 0x07, // packet identifier 7
			0x00,                       // reason code Success
			0x05,                       // property length 5
			0x1F, 0x00, 0x02, 'o', 'k', // Reason String = "ok"
		},
		pkt: &Ack{Kind: PUBREC, PacketID: 7, Properties: pset(Properties{ReasonString: "ok"}, PropReasonString)},
	},
	{
		name: "v5/PUBREL/not-found", version: Version5,
		raw: []byte{
			0x62,       // PUBREL, flags 0010
			0x03,       // remaining length 3
			0x00, 0x08, // packet identifier 8
			0x92, // reason code Packet Identifier not found
		},
		pkt: &Ack{Kind: PUBREL, PacketID: 8, ReasonCode: PacketIDNotFound},
	},
	{
		name: "v5/PUBCOMP/success-short", version: Version5,
		raw: []byte{
			0x70,       // PUBCOMP, flags 0000
			0x02,       // remaining length 2
			0x00, 0x08, // packet identifier 8
		},
		pkt: &Ack{Kind: PUBCOMP, PacketID: 8},
	},
	{
		name: "v5/SUBSCRIBE/options-and-properties", version: Version5,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x23,       // remaining length 35
			0x00, 0x03, // packet identifier 3
			0x09,       // property length 9
			0x0B, 0x2A, // Subscription Identifier = 42
			0x26, 0x00, 0x01, 's', 0x00, 0x01, 't', // User Property "s" = "t"
			0x00, 0x03, 'a', '/', '#', // topic filter "a/#"
			0x2E,                                                         // options: retain handling 2, retain as published, no local, QoS 2
			0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'b', // topic filter "$share/g/b"
			0x11,            // options: retain handling 1, QoS 1
			0x00, 0x01, 'c', // topic filter "c"
			0x00, // options: QoS 0
		},
		pkt: &Subscribe{PacketID: 3, Properties: Properties{SubscriptionIDs: []uint32{42}, User: []UserProperty{{"s", "t"}}},
			Subscriptions: []SubOptions{
				{Filter: "a/#", QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2},
				{Filter: "$share/g/b", QoS: 1, RetainHandling: 1},
				{Filter: "c"}}},
	},
	{
		name: "v5/SUBACK", version: Version5,
		raw: []byte{
			0x90,       // SUBACK, flags 0000
			0x10,       // remaining length 16
			0x00, 0x03, // packet identifier 3
			0x0A,                                                // property length 10
			0x1F, 0x00, 0x07, 'p', 'a', 'r', 't', 'i', 'a', 'l', // Reason String = "partial"
			0x02, // Granted QoS 2
			0x01, // Granted QoS 1
			0xA2, // Wildcard Subscriptions not supported
		},
		pkt: &Suback{PacketID: 3, Properties: pset(Properties{ReasonString: "partial"}, PropReasonString),
			ReasonCodes: []ReasonCode{GrantedQoS2, GrantedQoS1, WildcardSubNotSupported}},
	},
	{
		name: "v5/UNSUBSCRIBE", version: Version5,
		raw: []byte{
			0xA2,       // UNSUBSCRIBE, flags 0010
			0x0F,       // remaining length 15
			0x00, 0x04, // packet identifier 4
			0x07,                                   // property length 7
			0x26, 0x00, 0x01, 'u', 0x00, 0x01, 'v', // User Property "u" = "v"
			0x00, 0x03, 'a', '/', '#', // topic filter "a/#"
		},
		pkt: &Unsubscribe{PacketID: 4, Properties: Properties{User: []UserProperty{{"u", "v"}}}, Filters: []string{"a/#"}},
	},
	{
		name: "v5/UNSUBACK", version: Version5,
		raw: []byte{
			0xB0,       // UNSUBACK, flags 0000
			0x05,       // remaining length 5
			0x00, 0x04, // packet identifier 4
			0x00, // property length 0
			0x00, // Success
			0x11, // No subscription existed
		},
		pkt: &Unsuback{PacketID: 4, ReasonCodes: []ReasonCode{Success, NoSubscriptionExisted}},
	},
	{
		name: "v5/PINGREQ", version: Version5,
		raw: []byte{
			0xC0, // PINGREQ, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Pingreq{},
	},
	{
		name: "v5/PINGRESP", version: Version5,
		raw: []byte{
			0xD0, // PINGRESP, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Pingresp{},
	},
	{
		name: "v5/DISCONNECT/normal-short", version: Version5,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Disconnect{},
	},
	{
		name: "v5/DISCONNECT/with-will", version: Version5,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x01, // remaining length 1
			0x04, // reason code Disconnect with Will Message
		},
		pkt: &Disconnect{ReasonCode: DisconnectWithWill},
	},
	{
		name: "v5/DISCONNECT/properties", version: Version5,
		raw: []byte{
			0xE0,                         // DISCONNECT, flags 0000
			0x1C,                         // remaining length 28
			0x9C,                         // reason code Use another server
			0x1A,                         // property length 26
			0x11, 0x00, 0x00, 0x00, 0x00, // Session Expiry Interval = 0
			0x1C, 0x00, 0x02, 'b', '2', // Server Reference = "b2"
			0x1F, 0x00, 0x06, 'm', 'o', 'v', 'i', 'n', 'g', // Reason String = "moving"
			0x26, 0x00, 0x01, 'r', 0x00, 0x01, 's', // User Property "r" = "s"
		},
		pkt: &Disconnect{ReasonCode: UseAnotherServer, Properties: pset(Properties{ServerReference: "b2", ReasonString: "moving",
			User: []UserProperty{{"r", "s"}}}, PropSessionExpiry, PropServerReference, PropReasonString)},
	},
	{
		name: "v5/DISCONNECT/success-explicit", version: Version5,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x01, // remaining length 1
			0x00, // reason code Normal disconnection
		},
		pkt:          &Disconnect{},
		noncanonical: true,
	},
	{
		name: "v5/AUTH/success-short", version: Version5,
		raw: []byte{
			0xF0, // AUTH, flags 0000
			0x00, // remaining length 0
		},
		pkt: &Auth{},
	},
	{
		name: "v5/AUTH/continue", version: Version5,
		raw: []byte{
			0xF0,                                      // AUTH, flags 0000
			0x22,                                      // remaining length 34
			0x18,                                      // reason code Continue authentication
			0x20,                                      // property length 32
			0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M', // Authentication Method = "SCRAM"
			0x16, 0x00, 0x05, 'n', 'o', 'n', 'c', 'e', // Authentication Data = b'nonce'
			0x1F, 0x00, 0x06, 's', 't', 'e', 'p', ' ', '2', // Reason String = "step 2"
			0x26, 0x00, 0x01, 'n', 0x00, 0x01, '1', // User Property "n" = "1"
		},
		pkt: &Auth{ReasonCode: ContinueAuthentication, Properties: pset(Properties{AuthMethod: "SCRAM",
			AuthData: []byte("nonce"), ReasonString: "step 2", User: []UserProperty{{"n", "1"}}},
			PropAuthMethod, PropAuthData, PropReasonString)},
	},
	{
		name: "bad/header/type-0", version: Version311,
		raw: []byte{
			0x00, // reserved type 0, flags 0000
			0x00, // remaining length 0
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/PUBACK-flags", version: Version311,
		raw: []byte{
			0x41,       // PUBACK, flags 0001
			0x02,       // remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/PUBREL-flags-0", version: Version311,
		raw: []byte{
			0x60,       // PUBREL, flags 0000
			0x02,       // remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/SUBSCRIBE-flags-0", version: Version311,
		raw: []byte{
			0x80,       // SUBSCRIBE, flags 0000
			0x06,       // remaining length 6
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 'a', // "a"
			0x00, // QoS 0
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/UNSUBSCRIBE-dup", version: Version31,
		raw: []byte{
			0xAA,       // UNSUBSCRIBE, flags 1010
			0x05,       // remaining length 5
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 'a', // "a"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/PINGREQ-flags", version: Version311,
		raw: []byte{
			0xC8, // PINGREQ, flags 1000
			0x00, // remaining length 0
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/CONNECT-flags", version: Version311,
		raw: []byte{
			0x11,                           // CONNECT, flags 0001
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x02,       // flags: clean session
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/remaining-5-bytes", version: Version311,
		raw: []byte{
			0x30,                         // PUBLISH
			0xFF, 0xFF, 0xFF, 0xFF, 0x7F, // remaining length with 5 bytes
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/remaining-not-shortest", version: Version311,
		raw: []byte{
			0xC0,       // PINGREQ
			0x80, 0x00, // remaining length 0 in 2 bytes
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/remaining-beyond-body", version: Version311,
		raw: []byte{
			0x40,       // PUBACK
			0x03,       // remaining length 3, body of 2
			0x00, 0x01, // packet identifier 1
		},
		err: ErrMalformed,
	},
	{
		name: "bad/header/remaining-short-of-body", version: Version311,
		raw: []byte{
			0x40,       // PUBACK
			0x02,       // remaining length 2, body of 3
			0x00, 0x01, // packet identifier 1
			0x00, // extra byte
		},
		err: ErrMalformed,
	},
	{
		name: "bad/no-version-yet", version: 0,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x03,            // remaining length 3
			0x00, 0x01, 'a', // topic "a"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBLISH/qos3", version: Version311,
		raw: []byte{
			0x36,            // PUBLISH, flags 0110: QoS 3
			0x05,            // remaining length 5
			0x00, 0x01, 'a', // topic "a"
			0x00, 0x01, // packet identifier 1
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/dup-qos0-v311", version: Version311,
		raw: []byte{
			0x38,            // PUBLISH, flags 1000: DUP, QoS 0
			0x03,            // remaining length 3
			0x00, 0x01, 'a', // topic "a"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/dup-qos0-v5", version: Version5,
		raw: []byte{
			0x38,            // PUBLISH, flags 1000: DUP, QoS 0
			0x04,            // remaining length 4
			0x00, 0x01, 'a', // topic "a"
			0x00, // property length 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBLISH/packet-id-0", version: Version311,
		raw: []byte{
			0x32,            // PUBLISH, flags 0010: QoS 1
			0x05,            // remaining length 5
			0x00, 0x01, 'a', // topic "a"
			0x00, 0x00, // packet identifier 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBLISH/missing-packet-id", version: Version311,
		raw: []byte{
			0x32,            // PUBLISH, flags 0010: QoS 1
			0x04,            // remaining length 4
			0x00, 0x01, 'a', // topic "a"
			0x01, // half a packet identifier
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/wildcard-plus", version: Version311,
		raw: []byte{
			0x30,                      // PUBLISH, flags 0000
			0x05,                      // remaining length 5
			0x00, 0x03, 'a', '/', '+', // topic "a/+"
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "bad/PUBLISH/wildcard-hash-v5", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x04,            // remaining length 4
			0x00, 0x01, '#', // topic "#"
			0x00, // property length 0
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "bad/PUBLISH/empty-topic-v311", version: Version311,
		raw: []byte{
			0x30,       // PUBLISH, flags 0000
			0x03,       // remaining length 3
			0x00, 0x00, // empty topic
			'x', // payload "x"
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "bad/PUBLISH/empty-topic-no-alias-v5", version: Version5,
		raw: []byte{
			0x30,       // PUBLISH, flags 0000
			0x03,       // remaining length 3
			0x00, 0x00, // empty topic
			0x00, // property length 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBLISH/invalid-utf8", version: Version311,
		raw: []byte{
			0x30,                  // PUBLISH, flags 0000
			0x04,                  // remaining length 4
			0x00, 0x02, 'a', 0xFF, // topic 61 ff
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/nul-in-topic", version: Version311,
		raw: []byte{
			0x30,                       // PUBLISH, flags 0000
			0x05,                       // remaining length 5
			0x00, 0x03, 'a', 0x00, 'b', // topic 61 00 62
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/surrogate-in-topic", version: Version311,
		raw: []byte{
			0x30,                         // PUBLISH, flags 0000
			0x05,                         // remaining length 5
			0x00, 0x03, 0xED, 0xA0, 0x80, // topic ED A0 80: U+D800
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/overlong-utf8", version: Version311,
		raw: []byte{
			0x30,                   // PUBLISH, flags 0000
			0x04,                   // remaining length 4
			0x00, 0x02, 0xC0, 0xAF, // topic C0 AF: overlong "/"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/topic-beyond-body", version: Version311,
		raw: []byte{
			0x30,       // PUBLISH, flags 0000
			0x04,       // remaining length 4
			0x00, 0x05, // topic length 5
			0x61, 0x62, // only 2 bytes
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBLISH/missing-properties-v5", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x03,            // remaining length 3
			0x00, 0x01, 'a', // topic "a"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/MQTT-level-3", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x03,       // protocol level 3
			0x02,       // flags
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrUnsupportedVersion,
	},
	{
		name: "bad/CONNECT/MQIsdp-level-4", version: Version311,
		raw: []byte{
			0x10,                                     // CONNECT, flags 0000
			0x0F,                                     // remaining length 15
			0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
			0x04,       // protocol level 4
			0x02,       // flags
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrUnsupportedVersion,
	},
	{
		name: "bad/CONNECT/level-6", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0E,                           // remaining length 14
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x06,       // protocol level 6
			0x02,       // flags
			0x00, 0x00, // keep alive
			0x00,            // property length 0
			0x00, 0x01, 'c', // "c"
		},
		err: ErrUnsupportedVersion,
	},
	{
		name: "bad/CONNECT/protocol-name", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'X', // protocol name "MQTX"
			0x04,       // protocol level 4
			0x02,       // flags
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrUnsupportedVersion,
	},
	{
		name: "bad/CONNECT/reserved-flag", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x03,       // flags: clean session, reserved
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/reserved-flag-v5", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0E,                           // remaining length 14
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x01,       // flags: reserved
			0x00, 0x00, // keep alive
			0x00,            // property length 0
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/will-qos-without-will", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x08,       // flags: will QoS 1, no will
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/will-retain-without-will", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0E,                           // remaining length 14
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x20,       // flags: will retain, no will
			0x00, 0x00, // keep alive
			0x00,            // property length 0
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/will-qos-3", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x12,                           // remaining length 18
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x1C,       // flags: will QoS 3, will
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
			0x00, 0x01, 'w', // will topic "w"
			0x00, 0x00, // will payload ""
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/password-without-username", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x10,                           // remaining length 16
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x40,       // flags: password
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
			0x00, 0x01, 'p', // password "p"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/password-without-username-v31", version: Version31,
		raw: []byte{
			0x10,                                     // CONNECT, flags 0000
			0x12,                                     // remaining length 18
			0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', // protocol name "MQIsdp"
			0x03,       // protocol level 3
			0x40,       // flags: password
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
			0x00, 0x01, 'p', // password "p"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/trailing-bytes", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0E,                           // remaining length 14
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
			0x00, // extra byte
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/missing-username", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x80,       // flags: user name
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/will-topic-wildcard", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x14,                           // remaining length 20
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x04,       // flags: will
			0x00, 0x00, // keep alive
			0x00, 0x01, 'c', // "c"
			0x00, 0x03, 'w', '/', '#', // will topic "w/#"
			0x00, 0x00, // will payload ""
		},
		err: ErrTopicNameInvalid,
	},
	{
		name: "bad/CONNECT/client-id-utf8", version: Version311,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x0D,                           // remaining length 13
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x04,       // protocol level 4
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x00, 0x01, 0xFE, // client identifier FE
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/auth-data-without-method", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x12,                           // remaining length 18
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x04,                  // property length 4
			0x16, 0x00, 0x01, 'x', // Authentication Data = b'x'
			0x00, 0x01, 'c', // "c"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNECT/topic-alias-property", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x11,                           // remaining length 17
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x03,             // property length 3
			0x23, 0x00, 0x01, // Topic Alias = 1
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/will-delay-in-connect-properties", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x13,                           // remaining length 19
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x05,                         // property length 5
			0x18, 0x00, 0x00, 0x00, 0x01, // Will Delay Interval = 1
			0x00, 0x01, 'c', // "c"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNECT/receive-maximum-0", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x11,                           // remaining length 17
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x03,             // property length 3
			0x21, 0x00, 0x00, // Receive Maximum = 0
			0x00, 0x01, 'c', // "c"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNECT/maximum-packet-size-0", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x13,                           // remaining length 19
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x05,                         // property length 5
			0x27, 0x00, 0x00, 0x00, 0x00, // Maximum Packet Size = 0
			0x00, 0x01, 'c', // "c"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNECT/request-problem-info-2", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x10,                           // remaining length 16
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x02,       // property length 2
			0x17, 0x02, // Request Problem Information = 2
			0x00, 0x01, 'c', // "c"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNECT/request-response-info-2", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x10,                           // remaining length 16
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x02,       // property length 2
			0x19, 0x02, // Request Response Information = 2
			0x00, 0x01, 'c', // "c"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNECT/duplicate-session-expiry", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x18,                           // remaining length 24
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x00,       // flags
			0x00, 0x00, // keep alive
			0x0A,                         // property length 10
			0x11, 0x00, 0x00, 0x00, 0x01, // Session Expiry Interval = 1
			0x11, 0x00, 0x00, 0x00, 0x02, // Session Expiry Interval = 2
			0x00, 0x01, 'c', // "c"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNECT/will-payload-format-2", version: Version5,
		raw: []byte{
			0x10,                           // CONNECT, flags 0000
			0x16,                           // remaining length 22
			0x00, 0x04, 'M', 'Q', 'T', 'T', // protocol name "MQTT"
			0x05,       // protocol level 5
			0x04,       // flags: will
			0x00, 0x00, // keep alive
			0x00,            // property length 0
			0x00, 0x01, 'c', // "c"
			0x02,       // will property length 2
			0x01, 0x02, // Payload Format Indicator = 2
			0x00, 0x01, 'w', // will topic "w"
			0x00, 0x00, // will payload ""
		},
		err: ErrProtocol,
	},
	{
		name: "bad/properties/unknown-identifier", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x06,            // remaining length 6
			0x00, 0x01, 'a', // topic "a"
			0x02,       // property length 2
			0x7F, 0x00, // unknown property 0x7F
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/length-beyond-packet", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x06,            // remaining length 6
			0x00, 0x01, 'a', // topic "a"
			0x09,       // property length 9
			0x01, 0x01, // Payload Format Indicator = 1
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/value-truncated", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x07,            // remaining length 7
			0x00, 0x01, 'a', // topic "a"
			0x03,             // property length 3
			0x02, 0x00, 0x00, // Message Expiry Interval, 2 of 4 bytes
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/string-truncated", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x08,            // remaining length 8
			0x00, 0x01, 'a', // topic "a"
			0x04,                   // property length 4
			0x03, 0x00, 0x05, 0x61, // Content Type, 1 of 5 bytes
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/length-not-shortest", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x05,            // remaining length 5
			0x00, 0x01, 'a', // topic "a"
			0x80, 0x00, // property length 0 in 2 bytes
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/duplicate-content-type", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x0C,            // remaining length 12
			0x00, 0x01, 'a', // topic "a"
			0x08,                  // property length 8
			0x03, 0x00, 0x01, 'x', // Content Type = "x"
			0x03, 0x00, 0x01, 'y', // Content Type = "y"
		},
		err: ErrProtocol,
	},
	{
		name: "bad/properties/topic-alias-0", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x07,            // remaining length 7
			0x00, 0x01, 'a', // topic "a"
			0x03,             // property length 3
			0x23, 0x00, 0x00, // Topic Alias = 0
		},
		err: &Error{Code: TopicAliasInvalid},
	},
	{
		name: "bad/properties/subscription-id-0", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x06,            // remaining length 6
			0x00, 0x01, 'a', // topic "a"
			0x02,       // property length 2
			0x0B, 0x00, // Subscription Identifier = 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/properties/user-property-utf8", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x0A,       // remaining length 10
			0x00, 0x01, // packet identifier 1
			0x80,                               // Unspecified error
			0x06,                               // property length 6
			0x26, 0x00, 0x01, 0xFF, 0x00, 0x00, // User Property FF = ""
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/reason-string-in-PUBLISH", version: Version5,
		raw: []byte{
			0x30,            // PUBLISH, flags 0000
			0x08,            // remaining length 8
			0x00, 0x01, 'a', // topic "a"
			0x04,                  // property length 4
			0x1F, 0x00, 0x01, 'r', // Reason String = "r"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/properties/maximum-qos-2", version: Version5,
		raw: []byte{
			0x20,       // CONNACK, flags 0000
			0x05,       // remaining length 5
			0x00,       // acknowledge flags
			0x00,       // Success
			0x02,       // property length 2
			0x24, 0x02, // Maximum QoS = 2
		},
		err: ErrProtocol,
	},
	{
		name: "bad/properties/retain-available-2", version: Version5,
		raw: []byte{
			0x20,       // CONNACK, flags 0000
			0x05,       // remaining length 5
			0x00,       // acknowledge flags
			0x00,       // Success
			0x02,       // property length 2
			0x25, 0x02, // Retain Available = 2
		},
		err: ErrProtocol,
	},
	{
		name: "bad/properties/shared-sub-available-9", version: Version5,
		raw: []byte{
			0x20,       // CONNACK, flags 0000
			0x05,       // remaining length 5
			0x00,       // acknowledge flags
			0x00,       // Success
			0x02,       // property length 2
			0x2A, 0x09, // Shared Subscription Available = 9
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBACK/packet-id-0", version: Version311,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x00, // packet identifier 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBACK/v311-with-reason", version: Version311,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x00, // reason code (MQTT 5 only)
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBACK/truncated", version: Version311,
		raw: []byte{
			0x40, // PUBACK, flags 0000
			0x01, // remaining length 1
			0x01, // half a packet identifier
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PUBACK/reason-code", version: Version5,
		raw: []byte{
			0x40,       // PUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x92, // Packet Identifier not found: PUBREL only
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBCOMP/reason-code", version: Version5,
		raw: []byte{
			0x70,       // PUBCOMP, flags 0000
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x10, // No matching subscribers: PUBACK only
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PUBREC/property-trailing", version: Version5,
		raw: []byte{
			0x50,       // PUBREC, flags 0000
			0x05,       // remaining length 5
			0x00, 0x01, // packet identifier 1
			0x00, // Success
			0x00, // property length 0
			0x00, // extra byte
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNACK/reserved-flags", version: Version311,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x02, // acknowledge flags: reserved bit 1
			0x00, // accepted
		},
		err: ErrMalformed,
	},
	{
		name: "bad/CONNACK/return-code-6", version: Version311,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x00, // acknowledge flags
			0x06, // return code 6
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNACK/session-present-refused", version: Version311,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x01, // session present
			0x05, // not authorized
		},
		err: ErrProtocol,
	},
	{
		name: "bad/CONNACK/v5-missing-properties", version: Version5,
		raw: []byte{
			0x20, // CONNACK, flags 0000
			0x02, // remaining length 2
			0x00, // acknowledge flags
			0x00, // Success
		},
		err: ErrMalformed,
	},
	{
		name: "bad/DISCONNECT/v311-body", version: Version311,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x01, // remaining length 1
			0x00, // reason code (MQTT 5 only)
		},
		err: ErrMalformed,
	},
	{
		name: "bad/DISCONNECT/reason-code", version: Version5,
		raw: []byte{
			0xE0, // DISCONNECT, flags 0000
			0x01, // remaining length 1
			0x01, // Granted QoS 1: not a DISCONNECT code
		},
		err: ErrProtocol,
	},
	{
		name: "bad/PINGREQ/body", version: Version311,
		raw: []byte{
			0xC0, // PINGREQ, flags 0000
			0x01, // remaining length 1
			0x00, // extra byte
		},
		err: ErrMalformed,
	},
	{
		name: "bad/PINGRESP/body", version: Version5,
		raw: []byte{
			0xD0, // PINGRESP, flags 0000
			0x01, // remaining length 1
			0x00, // extra byte
		},
		err: ErrMalformed,
	},
	{
		name: "bad/AUTH/v311", version: Version311,
		raw: []byte{
			0xF0, // AUTH, flags 0000
			0x00, // remaining length 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/AUTH/reason-without-properties", version: Version5,
		raw: []byte{
			0xF0, // AUTH, flags 0000
			0x01, // remaining length 1
			0x18, // Continue authentication
		},
		err: ErrMalformed,
	},
	{
		name: "bad/AUTH/reason-code", version: Version5,
		raw: []byte{
			0xF0, // AUTH, flags 0000
			0x02, // remaining length 2
			0x87, // Not authorized: not an AUTH code
			0x00, // property length 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/no-subscriptions", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x02,       // remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/no-subscriptions-v5", version: Version5,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x00, // property length 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/packet-id-0", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x06,       // remaining length 6
			0x00, 0x00, // packet identifier 0
			0x00, 0x01, 'a', // "a"
			0x00, // QoS 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/v311-upper-bits", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x06,       // remaining length 6
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 'a', // "a"
			0x04, // options: bit 2 (MQTT 5 No Local)
		},
		err: ErrMalformed,
	},
	{
		name: "bad/SUBSCRIBE/v311-qos-3", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x06,       // remaining length 6
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 'a', // "a"
			0x03, // QoS 3
		},
		err: ErrMalformed,
	},
	{
		name: "bad/SUBSCRIBE/v31-upper-bits", version: Version31,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x06,       // remaining length 6
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 'a', // "a"
			0x80, // options: bit 7
		},
		err: ErrMalformed,
	},
	{
		name: "bad/SUBSCRIBE/v5-reserved-bits", version: Version5,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x07,       // remaining length 7
			0x00, 0x01, // packet identifier 1
			0x00,            // property length 0
			0x00, 0x01, 'a', // "a"
			0x40, // options: reserved bit 6
		},
		err: ErrMalformed,
	},
	{
		name: "bad/SUBSCRIBE/v5-qos-3", version: Version5,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x07,       // remaining length 7
			0x00, 0x01, // packet identifier 1
			0x00,            // property length 0
			0x00, 0x01, 'a', // "a"
			0x03, // options: QoS 3
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/v5-retain-handling-3", version: Version5,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x07,       // remaining length 7
			0x00, 0x01, // packet identifier 1
			0x00,            // property length 0
			0x00, 0x01, 'a', // "a"
			0x30, // options: retain handling 3
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/missing-options", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x05,       // remaining length 5
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 'a', // "a"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/SUBSCRIBE/two-subscription-ids", version: Version5,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x0B,       // remaining length 11
			0x00, 0x01, // packet identifier 1
			0x04,       // property length 4
			0x0B, 0x01, // Subscription Identifier = 1
			0x0B, 0x02, // Subscription Identifier = 2
			0x00, 0x01, 'a', // "a"
			0x00, // QoS 0
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBSCRIBE/filter-utf8", version: Version311,
		raw: []byte{
			0x82,       // SUBSCRIBE, flags 0010
			0x06,       // remaining length 6
			0x00, 0x01, // packet identifier 1
			0x00, 0x01, 0xC3, // topic filter C3
			0x00, // QoS 0
		},
		err: ErrMalformed,
	},
	{
		name: "bad/SUBACK/v311-code", version: Version311,
		raw: []byte{
			0x90,       // SUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x03, // code 3
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBACK/no-codes", version: Version311,
		raw: []byte{
			0x90,       // SUBACK, flags 0000
			0x02,       // remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		err: ErrProtocol,
	},
	{
		name: "bad/SUBACK/v5-code", version: Version5,
		raw: []byte{
			0x90,       // SUBACK, flags 0000
			0x04,       // remaining length 4
			0x00, 0x01, // packet identifier 1
			0x00, // property length 0
			0x11, // No subscription existed: UNSUBACK only
		},
		err: ErrProtocol,
	},
	{
		name: "bad/UNSUBSCRIBE/no-filters", version: Version311,
		raw: []byte{
			0xA2,       // UNSUBSCRIBE, flags 0010
			0x02,       // remaining length 2
			0x00, 0x01, // packet identifier 1
		},
		err: ErrProtocol,
	},
	{
		name: "bad/UNSUBSCRIBE/v5-subscription-id", version: Version5,
		raw: []byte{
			0xA2,       // UNSUBSCRIBE, flags 0010
			0x08,       // remaining length 8
			0x00, 0x01, // packet identifier 1
			0x02,       // property length 2
			0x0B, 0x01, // Subscription Identifier = 1
			0x00, 0x01, 'a', // "a"
		},
		err: ErrMalformed,
	},
	{
		name: "bad/UNSUBACK/v311-body", version: Version311,
		raw: []byte{
			0xB0,       // UNSUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x00, // code (MQTT 5 only)
		},
		err: ErrMalformed,
	},
	{
		name: "bad/UNSUBACK/v5-no-codes", version: Version5,
		raw: []byte{
			0xB0,       // UNSUBACK, flags 0000
			0x03,       // remaining length 3
			0x00, 0x01, // packet identifier 1
			0x00, // property length 0
		},
		err: ErrProtocol,
	},
}
