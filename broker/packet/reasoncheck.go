package packet

import "fmt"

// codeSet is a set of reason codes.
type codeSet [4]uint64

func newCodeSet(codes ...ReasonCode) (s codeSet) {
	for _, c := range codes {
		s[c>>6] |= 1 << (c & 63)
	}
	return s
}

func (s *codeSet) has(c ReasonCode) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// The reason codes each MQTT 5 packet may carry (the tables of chapter 3).
var (
	connackCodes = newCodeSet(Success, UnspecifiedError, MalformedPacket, ProtocolError,
		ImplementationSpecific, UnsupportedProtocolVersion, ClientIDNotValid, BadUsernameOrPassword,
		NotAuthorized, ServerUnavailable, ServerBusy, Banned, BadAuthMethod, TopicNameInvalid,
		PacketTooLarge, QuotaExceeded, PayloadFormatInvalid, RetainNotSupported, QoSNotSupported,
		UseAnotherServer, ServerMoved, ConnectionRateExceeded)
	// PUBACK and PUBREC [MQTT-3.4.2-1] [MQTT-3.5.2-1].
	pubackCodes = newCodeSet(Success, NoMatchingSubscribers, UnspecifiedError, ImplementationSpecific,
		NotAuthorized, TopicNameInvalid, PacketIDInUse, QuotaExceeded, PayloadFormatInvalid)
	// PUBREL and PUBCOMP [MQTT-3.6.2-1] [MQTT-3.7.2-1].
	pubrelCodes = newCodeSet(Success, PacketIDNotFound)
	subackCodes = newCodeSet(GrantedQoS0, GrantedQoS1, GrantedQoS2, UnspecifiedError,
		ImplementationSpecific, NotAuthorized, TopicFilterInvalid, PacketIDInUse, QuotaExceeded,
		SharedSubNotSupported, SubIDsNotSupported, WildcardSubNotSupported)
	unsubackCodes = newCodeSet(Success, NoSubscriptionExisted, UnspecifiedError,
		ImplementationSpecific, NotAuthorized, TopicFilterInvalid, PacketIDInUse)
	disconnectCodes = newCodeSet(Success, DisconnectWithWill, UnspecifiedError, MalformedPacket,
		ProtocolError, ImplementationSpecific, NotAuthorized, ServerBusy, ServerShuttingDown,
		KeepAliveTimeout, SessionTakenOver, TopicFilterInvalid, TopicNameInvalid,
		ReceiveMaximumExceeded, TopicAliasInvalid, PacketTooLarge, MessageRateTooHigh,
		QuotaExceeded, AdministrativeAction, PayloadFormatInvalid, RetainNotSupported,
		QoSNotSupported, UseAnotherServer, ServerMoved, SharedSubNotSupported,
		ConnectionRateExceeded, MaximumConnectTime, SubIDsNotSupported, WildcardSubNotSupported)
	authCodes = newCodeSet(Success, ContinueAuthentication, ReAuthenticate)

	// MQTT 3.1 and 3.1.1.
	v3ConnackCodes = newCodeSet(V3Accepted, V3BadProtocolVersion, V3IdentifierRejected,
		V3ServerUnavailable, V3BadUsernamePassword, V3NotAuthorized)
	v3SubackCodes = newCodeSet(GrantedQoS0, GrantedQoS1, GrantedQoS2, V3SubackFailure) // [MQTT-3.9.3-2]
)

// ValidReasonCode reports whether code may be carried by a packet of type t
// in the protocol version: the CONNACK return codes and SUBACK codes of 3.1
// and 3.1.1, or the reason codes MQTT 5 defines for the packet. Packets
// without a reason code in that version report false.
func ValidReasonCode(t Type, code ReasonCode, version byte) bool {
	if version != Version5 {
		switch t {
		case CONNACK:
			return v3ConnackCodes.has(code)
		case SUBACK:
			return v3SubackCodes.has(code)
		}
		return false
	}
	var s *codeSet
	switch t {
	case CONNACK:
		s = &connackCodes
	case PUBACK, PUBREC:
		s = &pubackCodes
	case PUBREL, PUBCOMP:
		s = &pubrelCodes
	case SUBACK:
		s = &subackCodes
	case UNSUBACK:
		s = &unsubackCodes
	case DISCONNECT:
		s = &disconnectCodes
	case AUTH:
		s = &authCodes
	default:
		return false
	}
	return s.has(code)
}

// checkReason is the decoder's check of a received reason code: a code the
// packet may not carry is a Protocol Error (4.13: data not allowed by the
// protocol).
func checkReason(t Type, code ReasonCode, version byte) error {
	if ValidReasonCode(t, code, version) {
		return nil
	}
	return protocolErr(fmt.Sprintf("%v with reason code 0x%02X, which it may not carry", t, byte(code)))
}
