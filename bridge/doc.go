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
// records are acknowledged once written. On a disconnect the queue is
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
// not supported in rules yet.
package bridge
