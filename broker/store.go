package broker

// Store keeps the broker state that must survive a restart. The broker
// calls it on every change; its methods must be safe for concurrent use.
// The in-memory default, MemoryStore, keeps nothing: the state lives in
// the broker's own maps and is gone after a restart. A Badger-backed Store
// (broker/persist) makes it durable.
type Store interface {
	// SetRetained stores m as the retained message of m.Topic.
	SetRetained(m *Message) error
	// DeleteRetained removes the retained message of topic.
	DeleteRetained(topic string) error
	// LoadRetained calls fn for every stored retained message.
	LoadRetained(fn func(*Message)) error
}

// MemoryStore is the Store that keeps nothing beyond the process.
type MemoryStore struct{}

// SetRetained implements Store.
func (MemoryStore) SetRetained(*Message) error { return nil }

// DeleteRetained implements Store.
func (MemoryStore) DeleteRetained(string) error { return nil }

// LoadRetained implements Store.
func (MemoryStore) LoadRetained(func(*Message)) error { return nil }
