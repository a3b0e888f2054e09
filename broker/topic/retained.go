package topic

import (
	"strings"
	"sync"
)

// Retained indexes retained messages by topic name, as a trie over topic
// levels, so that a filter only walks the branches it can match. The zero
// Retained is not usable; call NewRetained. A Retained is safe for
// concurrent use.
type Retained[V any] struct {
	mu    sync.RWMutex
	root  rnode[V]
	count int // stored topics
	nodes int // nodes below root; goes back to 0 when all are deleted
}

// rnode is one topic level.
type rnode[V any] struct {
	kids  children[rnode[V]]
	name  string // topic name up to this level; child keys are substrings of such names
	value V
	set   bool // a message is retained at exactly this topic
}

// NewRetained returns an empty index.
func NewRetained[V any]() *Retained[V] {
	return &Retained[V]{}
}

// Set stores v under topic, replacing any previous value. The caller must
// have validated topic with ValidName.
func (r *Retained[V]) Set(topic string, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := &r.root
	owned := "" // private copy of topic, made when the first node is created
	start := 0
	for {
		end := len(topic)
		if i := strings.IndexByte(topic[start:], '/'); i >= 0 {
			end = start + i
		}
		child := n.kids.get(topic[start:end])
		if child == nil {
			if owned == "" {
				owned = strings.Clone(topic)
			}
			child = &rnode[V]{name: owned[:end]}
			n.kids.set(owned[start:end], child)
			r.nodes++
		}
		n = child
		if end == len(topic) {
			break
		}
		start = end + 1
	}
	if !n.set {
		n.set = true
		r.count++
	}
	n.value = v
}

// Delete removes topic and prunes the nodes left empty. It returns false
// when nothing was retained under topic.
func (r *Retained[V]) Delete(topic string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.remove(&r.root, topic) {
		return false
	}
	r.count--
	return true
}

// remove deletes the value below n, where topic is the rest of the name,
// and prunes the child it descended into if it became empty.
func (r *Retained[V]) remove(n *rnode[V], topic string) bool {
	level, rest, more := cutLevel(topic)
	child := n.kids.get(level)
	if child == nil {
		return false
	}
	if more {
		if !r.remove(child, rest) {
			return false
		}
	} else {
		if !child.set {
			return false
		}
		var zero V
		child.value, child.set = zero, false
	}
	if !child.set && child.kids.len() == 0 {
		n.kids.del(level)
		r.nodes--
	}
	return true
}

// Get returns the value retained under topic.
func (r *Retained[V]) Get(topic string) (V, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := &r.root
	for {
		level, rest, more := cutLevel(topic)
		if n = n.kids.get(level); n == nil {
			var zero V
			return zero, false
		}
		if !more {
			return n.value, n.set
		}
		topic = rest
	}
}

// Match calls fn, in no particular order, for each retained topic that
// filter matches, until fn returns false. filter is a plain topic filter:
// strip any $share prefix with ParseShared first. fn runs under the read
// lock, so it must not call back into r.
func (r *Retained[V]) Match(filter string, fn func(topic string, v V) bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.root.match(filter, true, fn)
}

// match visits the values below n matching filter, the remaining (at least
// one) filter levels. atRoot applies [MQTT-4.7.2-1]: a wildcard first level
// does not match topics starting with '$'. It returns false once fn did.
func (n *rnode[V]) match(filter string, atRoot bool, fn func(string, V) bool) bool {
	level, rest, more := cutLevel(filter)
	switch level {
	case "#": // the parent level and everything below it
		return n.each(atRoot, fn)
	case "+":
		for key, c := range n.kids.all() {
			if atRoot && strings.HasPrefix(key, "$") {
				continue
			}
			if !c.matchRest(rest, more, fn) {
				return false
			}
		}
		return true
	}
	if c := n.kids.get(level); c != nil {
		return c.matchRest(rest, more, fn)
	}
	return true
}

// matchRest continues matching at n after it consumed one filter level.
func (n *rnode[V]) matchRest(rest string, more bool, fn func(string, V) bool) bool {
	if more {
		return n.match(rest, false, fn)
	}
	if n.set {
		return fn(n.name, n.value)
	}
	return true
}

// each visits n and all its descendants, skipping '$' children at the root.
func (n *rnode[V]) each(atRoot bool, fn func(string, V) bool) bool {
	if n.set && !fn(n.name, n.value) {
		return false
	}
	for key, c := range n.kids.all() {
		if atRoot && strings.HasPrefix(key, "$") {
			continue
		}
		if !c.each(false, fn) {
			return false
		}
	}
	return true
}

// Len returns the number of retained topics.
func (r *Retained[V]) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}

// nodeCount returns the number of nodes below the root (for tests).
func (r *Retained[V]) nodeCount() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.nodes
}
