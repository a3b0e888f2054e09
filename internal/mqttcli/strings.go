package mqttcli

import "github.com/edgemq/edgemq/broker/packet"

// connackString is libmosquitto's mosquitto_connack_string: the text of a
// 3.1/3.1.1 CONNACK return code.
func connackString(code packet.ReasonCode) string {
	switch code {
	case 0:
		return "Connection Accepted."
	case 1:
		return "Connection Refused: unacceptable protocol version."
	case 2:
		return "Connection Refused: identifier rejected."
	case 3:
		return "Connection Refused: broker unavailable."
	case 4:
		return "Connection Refused: bad user name or password."
	case 5:
		return "Connection Refused: not authorised."
	}
	return "Connection Refused: unknown reason."
}

// reasonString is libmosquitto's mosquitto_reason_string: the text of an
// MQTT 5 reason code.
func reasonString(code packet.ReasonCode) string {
	if s, ok := reasonStrings[code]; ok {
		return s
	}
	return "Unknown reason"
}

var reasonStrings = map[packet.ReasonCode]string{
	0x00: "Success",
	0x01: "Granted QoS 1",
	0x02: "Granted QoS 2",
	0x04: "Disconnect with Will Message",
	0x10: "No matching subscribers",
	0x11: "No subscription existed",
	0x18: "Continue authentication",
	0x19: "Re-authenticate",
	0x80: "Unspecified error",
	0x81: "Malformed Packet",
	0x82: "Protocol Error",
	0x83: "Implementation specific error",
	0x84: "Unsupported Protocol Version",
	0x85: "Client Identifier not valid",
	0x86: "Bad User Name or Password",
	0x87: "Not authorized",
	0x88: "Server unavailable",
	0x89: "Server busy",
	0x8A: "Banned",
	0x8B: "Server shutting down",
	0x8C: "Bad authentication method",
	0x8D: "Keep Alive timeout",
	0x8E: "Session taken over",
	0x8F: "Topic Filter invalid",
	0x90: "Topic Name invalid",
	0x91: "Packet Identifier in use",
	0x92: "Packet Identifier not found",
	0x93: "Receive Maximum exceeded",
	0x94: "Topic Alias invalid",
	0x95: "Packet too large",
	0x96: "Message rate too high",
	0x97: "Quota exceeded",
	0x98: "Administrative action",
	0x99: "Payload format invalid",
	0x9A: "Retain not supported",
	0x9B: "QoS not supported",
	0x9C: "Use another server",
	0x9D: "Server moved",
	0x9E: "Shared Subscriptions not supported",
	0x9F: "Connection rate exceeded",
	0xA0: "Maximum connect time",
	0xA1: "Subscription identifiers not supported",
	0xA2: "Wildcard Subscriptions not supported",
}
