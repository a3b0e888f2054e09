package devices

import (
	"context"
	"errors"
	"time"
)

// Adapter talks to one device. Run reads the device and hands each
// reading to out until ctx is done (then it returns ctx's error or nil) or
// the device fails (then it returns why). The Supervisor calls Run again,
// after a back-off, when it returns early; Run must release the device
// (close the port, the bus handle) before it returns.
//
// Run must bound every blocking call (a read timeout, a poll interval) so
// that it notices ctx being done within about a second.
type Adapter interface {
	Run(ctx context.Context, out Publisher) error
}

// Publisher takes an adapter's readings; the Supervisor gives each Run
// one. Its methods are safe for concurrent use.
type Publisher interface {
	// Publish publishes one reading. Fields with invalid names are dropped
	// and counted as parse errors. The error is the broker's (the
	// supervisor is stopping, or a QoS 1/2 publish was refused); an
	// adapter returns it only if it is ctx's.
	Publish(ctx context.Context, r Reading) error
	// Count adds n to one of the adapter's counters.
	Count(c Counter, n uint64)
	// Commands delivers the commands sent to <topic>/<field>/set for the
	// fields an adapter lists in Writable (see Commander). An adapter
	// confirms a command by publishing the field's new value. Commands
	// that arrive while the adapter is not running are dropped.
	Commands() <-chan Command
}

// GroupStatusPublisher is implemented by the Publisher the Supervisor
// gives an adapter whose device is a bus of sub-devices (a Modbus line
// with several slaves), each publishing its readings as a Group. An
// adapter finds it with a type assertion; other adapters ignore it.
type GroupStatusPublisher interface {
	// PublishGroupStatus publishes "online" or "offline", retained with
	// QoS 1, on <topic>/<group>/status; group must be a valid field
	// name. It also marks the device itself online: the adapter reached
	// its bus. When the adapter's run ends (failure or stop), the
	// Supervisor publishes every group it saw online as offline.
	PublishGroupStatus(ctx context.Context, group string, online bool) error
}

// Commander is implemented by adapters with writable points.
type Commander interface {
	// Writable returns the fields that accept commands on
	// <topic>/<field>/set. A field of a group (see Reading.Group) is
	// written "<group>/<field>": its commands arrive on
	// <topic>/<group>/<field>/set with Command.Field "<group>/<field>".
	Writable() []string
}

// Reading is the set of values one device gave at one time.
type Reading struct {
	// Time the values were read; zero: when Publish is called.
	Time time.Time
	// Group, if set, names the sub-device that gave the values (a slave
	// on a bus): its fields are published on <topic>/<group>/<field>,
	// or as one JSON object on <topic>/<group>. It must be a valid field
	// name; a reading with an invalid group is dropped and its fields
	// counted as parse errors. Empty: the device's own fields.
	Group  string
	Fields []Field
}

// Field is one named value of a reading.
type Field struct {
	Name  string
	Value Value
}

// Command is a value written to <topic>/<field>/set.
type Command struct {
	Field   string
	Payload string
}

// Counter names a per-adapter counter that adapters update with
// Publisher.Count. The supervisor keeps the others (failures,
// reconnects, published).
type Counter int

// Counters updated by adapters.
const (
	// LinesRead counts lines (frames, messages) read from the device,
	// valid or not.
	LinesRead Counter = iota
	// ParseErrors counts input that was not published: garbage, lines
	// too long, bad checksums, values that do not parse.
	ParseErrors
	// Polls counts requests sent to a polled device (Modbus, I2C).
	Polls
	// CommandsRejected counts commands an adapter refused: a payload it
	// does not understand, a value out of range.
	CommandsRejected
	numCounters
)

// ErrStopped is returned by Publisher.Publish after the supervisor
// stopped.
var ErrStopped = errors.New("devices: supervisor stopped")

// Client is the part of the broker's in-process client that the
// Supervisor uses. In edgemq it wraps a *broker.Client.
type Client interface {
	// Publish publishes payload on topic.
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
	// Subscribe calls h with the topic and payload of each message that
	// matches filter, one message at a time.
	Subscribe(filter string, qos byte, h func(topic string, payload []byte)) error
}
