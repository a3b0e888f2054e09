// Package bridge forwards messages between the local broker and an uplink
// (cloud) MQTT broker, store-and-forward.
//
// # Out
//
// The bridge subscribes to each "out" rule's local filter with a durable
// in-process subscription (broker.Client.SubscribeDurable). A matching
// message is appended to the bridge's storefwd queue, and the local
// publisher's PUBACK/PUBREC is released only after that Append returned:
// acknowledged means on disk. Under the RejectNew policy a full queue fails
// the publish with broker.ErrQuotaExceeded.
//
// A forwarder reads the queue in order, at most the uplink's Receive
// Maximum (and the queue's window) in flight, publishes each record to
// the uplink under the rule's remote prefix, and acknowledges it in the
// queue only after the uplink's PUBACK (QoS 1) or PUBCOMP (QoS 2); QoS 0
// records are acknowledged once written. Records are taken from the queue
// and written under one lock, so the order on the wire is the queue's.
// The connection's reader refills the slots that the acknowledgements it
// read together free itself, with one write, without a goroutine
// hand-off per acknowledgement. On a disconnect the queue is
// rewound and the unacknowledged records are sent again first, in order,
// with the DUP flag: delivery is at-least-once, duplicates bounded by the
// window. The packet identifier of a record is derived from its sequence
// number, so a resent record keeps its identifier.
//
// # Uplink
//
// The uplink client is built on package broker/packet: MQTT 3.1.1 or 5
// over TCP or TLS (CA pool, client certificate), clean start false, keep
// alive with PINGREQ and a read deadline, a retained will "offline" and a retained birth "online" on
// edgemq/<gateway-id>/status. A PUBACK that does not come within
// AckTimeout ends the connection; the bridge reconnects with exponential
// back-off and jitter between ReconnectMin and ReconnectMax.
//
// Credentials, if set, is asked for the user name and password at every
// connect; credentials that expire (an Azure IoT Hub SAS token, see
// SASToken and SASCredentials) are renewed by an orderly reconnect at 80%
// of their lifetime (RenewAt), counted in Stats.Renewals and not as a
// failure; what was in flight is sent again, as on any reconnect.
// NoStatus leaves out the will and birth, for uplinks that accept only
// their own topics.
//
// # Limits
//
// Limits (payload bytes, topic bytes, topic levels; AWS IoT Core's are
// 128 KiB, 256 and 8) are checked when a record's turn to be sent comes:
// a record beyond one is dropped, counted by reason (Stats.Oversize,
// Stats.TopicLimit; $SYS .../dropped/oversize, .../dropped/topic_limit),
// logged at most once per LimitLogInterval and acknowledged in the queue,
// so that it never blocks the records behind it.
//
// # In
//
// "in" rules subscribe on the uplink and republish the messages locally
// under the mapped prefix. The bridge's own local client id is the origin
// check: messages it published locally are never sent back out (and on
// MQTT 5 the uplink subscription uses No Local).
//
// Topic mapping replaces a prefix: a filter ending in "#" maps every topic
// under it ("sensors/#" -> "site-7/sensors/#" sends sensors/a/t as
// site-7/sensors/a/t); a filter without wildcards maps one topic. "+" is
// not supported in rules yet. An out rule with a TopicProperty sends
// every matching message to one fixed Remote topic, with the local topic
// appended as a URL-encoded property bag ("topic=sensors%2Fa%2Ft"), the
// way Azure IoT Hub's devices/<id>/messages/events/ carries properties.
package bridge
