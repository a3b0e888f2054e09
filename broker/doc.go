// Package broker is edgemq's MQTT 3.1, 3.1.1 and 5.0 broker: network
// listeners, sessions, routing, retained messages, wills, $SYS statistics
// and an in-process client for the gateway's own components.
//
// # Lifecycle
//
// New builds a Server from Options; Start binds the listeners and returns
// once they accept connections; Shutdown disconnects every client (MQTT 5
// clients with reason 0x8B), stops every goroutine the server started and
// is safe to call more than once. Serve is Start, wait for the context,
// Shutdown. The server never handles signals: cmd/edgemq does.
//
// # Listeners
//
// A Listener is plain TCP, TLS (1.2 or newer; client certificates verified
// against the ClientCAs of its tls.Config, optionally required, and their
// identity optionally used as the username), or MQTT over WebSocket (ws,
// wss) with the "mqtt" or "mqttv3.1" subprotocol and binary messages, on
// an HTTP server of its own. Whatever the type, a listener on a
// non-loopback address refuses anonymous clients unless AllowAnonymous
// says otherwise. TLS and WebSocket connections use the same connection
// code as TCP ones, through net.Conn: they never park, and their read
// deadline is the keep alive.
//
// # Authentication and access control
//
// Options.Auth (an Authorizer; package broker/auth implements one with a
// password file and roles) checks every network client: its credentials
// at CONNECT (refusals: 0x86/0x04 bad credentials, 0x87/0x05 not
// authorized; an address that failed waits 1 s, doubling to 30 s, before
// its next CONNACK), its will topic, each PUBLISH (refused: v5 PUBACK or
// PUBREC 0x87, v3 acknowledged and dropped), each SUBSCRIBE filter (0x87,
// v3 0x80) and each delivery, retained ones included (not delivered).
// Server.SetAuthorizer swaps it without dropping connections.
// In-process clients (Server.NewClient) are trusted and never checked.
//
// # Goroutines
//
// Each listener has an accept goroutine. Each connection has one goroutine
// for its read loop (the handshake runs on a first goroutine, the read loop
// on a fresh one so that an idle connection keeps a small stack). There is
// no writer goroutine per connection: output is appended to a buffer under
// the connection's write lock and flushed at the end of the batch of
// packets being handled, first with a non-blocking write from the
// goroutine that produced it; only what the socket does not take at once
// goes to a writer goroutine that exits when the buffer is empty. Each
// in-process Client has one delivery goroutine. Every one of these is
// started through the server, ends on Shutdown, and is waited for.
//
// # Flow control and bounds
//
// Outbound QoS 1/2 messages use a window of min(MaxInflight, the client's
// receive maximum); what does not fit waits in a per-session queue of at
// most MaxQueuedMessages, and bytes buffered for one socket are capped by
// MaxQueuedBytes. When a bound is hit QoS 0 messages are dropped first and
// every drop is counted ($SYS/broker/publish/messages/dropped), so a slow
// or stalled subscriber never holds up publishers or other subscribers.
// Inbound, a v5 client may have at most ReceiveMaximum unacknowledged QoS
// 1/2 publishes (0x93 otherwise).
//
// # Durable subscribers
//
// An in-process subscription made with Client.SubscribeDurable holds the
// PUBACK (QoS 1) or PUBREC (QoS 2) of every matching publish until its
// handler confirmed the message, so that "acknowledged" can mean "on disk"
// for the store-and-forward bridge. Acknowledgements still leave in the
// order the publishes arrived [MQTT-4.6.0-2]; a refusal becomes reason
// code 0x97 for MQTT 5 publishers and a disconnect for older ones.
//
// # Persistence
//
// Options.Store (package broker/persist keeps it in Badger) receives the
// retained messages and, for persistent sessions of network clients (clean
// session false, or a v5 session expiry above 0), the session with its
// expiry deadline and subscriptions and each queued or in-flight QoS 1/2
// message, as they change. New restores them: subscriptions go back into
// the topic tree, messages into their sessions (those sent before are
// resent with DUP on reconnect), expiry timers restart from the stored
// deadline and sessions past it are deleted. The inbound QoS 2 state (a
// publish routed, its PUBREL awaited) is stored too, so that a copy
// resent after a restart is not routed twice. A Store that is also a
// WillStore (broker/persist is) keeps the will of every connected client,
// clean sessions included; the first Start sends the wills of the
// connections the last run ended, or arms the delay of those whose v5
// session was restored.
//
// # Locks
//
// Lock order: Server.mu before session.mu; conn.ackMu before session.mu;
// session.mu before conn.wmu.
// The topic tree and the retained index have their own locks, taken last
// and never held while calling out. Durable handlers are called with no
// broker lock held.
package broker
