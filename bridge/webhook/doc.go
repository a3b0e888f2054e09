// Package webhook is a durable webhook sink: it POSTs the local messages
// that match its topic filters to an HTTP(S) endpoint, in batches,
// store-and-forward, the way package bridge forwards to an uplink
// broker.
//
// # Durable before acknowledged
//
// The sink subscribes to each filter with a durable in-process
// subscription (broker.Client.SubscribeDurable). A matching message is
// appended to the sink's own storefwd queue ("sink/<name>" in the
// gateway's database), and the local publisher's PUBACK/PUBREC is
// released only after that Append returned: acknowledged means on disk.
// The queue is bounded (Config.Queue): DropOldest drops the oldest
// messages, RejectNew refuses the publish with broker.ErrQuotaExceeded;
// every drop is counted by reason. A message matching several filters
// is queued once. Retained messages that match a filter are queued when
// the sink subscribes (at start), as a bridge does.
//
// # Delivery
//
// One goroutine reads the queue in order and sends batches of at most
// BatchMessages messages and about BatchBytes bytes; a batch waits at
// most BatchDelay after its first message was queued for more to come.
// MaxRate caps the messages sent per second, so that a backlog replayed
// after an outage does not flood the endpoint. The body is JSON (see
// Body), optionally gzip-compressed; Config.Headers are added to each
// request (their values are never logged).
//
// A batch leaves the queue only after a 2xx answer. A 4xx answer other
// than 408 and 429 means the endpoint will never take it: the batch is
// dead-lettered (removed, counted in Stats.DeadLettered, logged). Any
// other answer (5xx, 408, 429, a redirect) and network errors are
// retried with the same batch, after an exponential back-off with
// jitter between RetryMin and RetryMax, or after the Retry-After of a
// 429 or 503 answer (bounded by RetryMax). Delivery is at-least-once:
// a batch whose answer was lost, or that was in flight when the gateway
// stopped, is sent again; each message carries its queue sequence
// number (Message.Seq) so that the receiver can drop duplicates. Order
// is kept per sink.
//
// # Figures
//
// Stats returns the queue's depth, bytes and oldest age, and the counts
// of messages delivered, dead-lettered, resent and dropped by reason,
// requests and failures, and the last error. With Config.SysInterval
// they are published, retained, under $SYS/broker/sink/<name>/.
package webhook
