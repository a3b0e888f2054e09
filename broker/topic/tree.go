package topic

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Entry is one subscription returned by Tree.Match.
type Entry[K comparable, V any] struct {
	Key    K
	Value  V
	Filter string // the filter as subscribed, without any $share/group/ prefix
	Group  string // shared subscription group; empty for a normal subscription
}

// Tree is a subscription index: a trie over topic filter levels. K
// identifies a subscriber (typically a client), V is what the broker keeps
// per subscription (QoS, options, ...). The zero Tree is not usable; call
// NewTree. A Tree is safe for concurrent use.
type Tree[K comparable, V any] struct {
	mu    sync.RWMutex
	root  node[K, V]
	subs  int // subscriptions, shared members counted individually
	nodes int // nodes below root; goes back to 0 when all are removed
}

// node is one filter level. The filter of a node is the path from the
// root; subscriptions on that filter are stored at the node.
type node[K comparable, V any] struct {
	kids   children[node[K, V]] // literal levels
	plus   *node[K, V]          // '+' level
	hash   *node[K, V]          // '#' level
	filter string               // full filter up to this level; child keys are substrings of such filters
	subs   subList[K, V]        // normal subscriptions
	groups *group[K, V]         // shared subscriptions, one per group name, linked by next
}

// group is a shared subscription ($share/name/filter): each matching
// message goes to one member, chosen round-robin.
type group[K comparable, V any] struct {
	name string
	turn atomic.Uint32 // round-robin cursor, advanced by Match under RLock
	subs subList[K, V]
	next *group[K, V] // next group on the same node
}

// NewTree returns an empty Tree.
func NewTree[K comparable, V any]() *Tree[K, V] {
	return &Tree[K, V]{}
}

// Subscribe adds key's subscription on filter, or replaces its value if key
// is already subscribed to that exact filter; added is false when it
// replaced. A filter "$share/{group}/{f}" joins the shared group (group, f).
// The caller must have validated filter with ValidFilter.
func (t *Tree[K, V]) Subscribe(filter string, key K, v V) (added bool) {
	name, f, shared := ParseShared(filter)
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.insert(f)
	if shared {
		g := n.group(name)
		if g == nil {
			g = &group[K, V]{name: strings.Clone(name), next: n.groups}
			n.groups = g
		}
		added = g.subs.set(key, v)
	} else {
		added = n.subs.set(key, v)
	}
	if added {
		t.subs++
	}
	return added
}

// insert returns the node for filter f, creating missing levels.
func (t *Tree[K, V]) insert(f string) *node[K, V] {
	n := &t.root
	owned := "" // private copy of f, made when the first node is created
	start := 0
	for {
		end := len(f)
		if i := strings.IndexByte(f[start:], '/'); i >= 0 {
			end = start + i
		}
		child := n.child(f[start:end])
		if child == nil {
			if owned == "" {
				owned = strings.Clone(f)
			}
			child = &node[K, V]{filter: owned[:end]}
			n.setChild(owned[start:end], child)
			t.nodes++
		}
		n = child
		if end == len(f) {
			return n
		}
		start = end + 1
	}
}

// Unsubscribe removes key's subscription on filter (which may be a
// $share filter) and prunes nodes left empty. It returns false when key had
// no such subscription.
func (t *Tree[K, V]) Unsubscribe(filter string, key K) bool {
	name, f, shared := ParseShared(filter)
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.remove(&t.root, f, name, shared, key) {
		return false
	}
	t.subs--
	return true
}

// remove deletes the subscription below n, where f is the rest of the
// filter, and prunes the child it descended into if it became empty.
func (t *Tree[K, V]) remove(n *node[K, V], f, name string, shared bool, key K) bool {
	level, rest, more := cutLevel(f)
	child := n.child(level)
	if child == nil {
		return false
	}
	var ok bool
	switch {
	case more:
		ok = t.remove(child, rest, name, shared, key)
	case shared:
		ok = child.removeShared(name, key)
	default:
		ok = child.subs.remove(key)
	}
	if ok && child.empty() {
		n.deleteChild(level)
		t.nodes--
	}
	return ok
}

// Match appends to dst every normal subscription whose filter matches the
// topic name, and for every shared subscription (group, filter) that
// matches, exactly one member chosen round-robin. Entries come in no
// particular order; a key subscribed to several matching filters appears
// once per filter. Match does not allocate when dst has enough capacity.
func (t *Tree[K, V]) Match(topic string, dst []Entry[K, V]) []Entry[K, V] {
	t.mu.RLock()
	defer t.mu.RUnlock()
	// [MQTT-4.7.2-1] wildcards at the first level do not match $ topics.
	dollar := topic != "" && topic[0] == '$'
	return t.root.match(topic, !dollar, dst)
}

// match appends the subscriptions below n matching topic, the remaining
// (at least one) levels of the topic name.
func (n *node[K, V]) match(topic string, wild bool, dst []Entry[K, V]) []Entry[K, V] {
	level, rest, more := cutLevel(topic)
	if n.hash != nil && wild {
		dst = n.hash.appendTo(dst)
	}
	if c := n.kids.get(level); c != nil {
		dst = c.matchRest(rest, more, dst)
	}
	if n.plus != nil && wild {
		dst = n.plus.matchRest(rest, more, dst)
	}
	return dst
}

// matchRest continues matching at n after it consumed one topic level.
func (n *node[K, V]) matchRest(rest string, more bool, dst []Entry[K, V]) []Entry[K, V] {
	if more {
		return n.match(rest, true, dst)
	}
	dst = n.appendTo(dst)
	if n.hash != nil { // "a/#" also matches "a"
		dst = n.hash.appendTo(dst)
	}
	return dst
}

// appendTo appends the subscriptions stored at n.
func (n *node[K, V]) appendTo(dst []Entry[K, V]) []Entry[K, V] {
	for i := range n.subs.items {
		m := &n.subs.items[i]
		dst = append(dst, Entry[K, V]{Key: m.key, Value: m.value, Filter: n.filter})
	}
	for g := n.groups; g != nil; g = g.next {
		i := (g.turn.Add(1) - 1) % uint32(len(g.subs.items))
		m := &g.subs.items[i]
		dst = append(dst, Entry[K, V]{Key: m.key, Value: m.value, Filter: n.filter, Group: g.name})
	}
	return dst
}

// Len returns the number of subscriptions; each member of a shared group
// counts as one.
func (t *Tree[K, V]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.subs
}

// nodeCount returns the number of nodes below the root (for tests).
func (t *Tree[K, V]) nodeCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.nodes
}

func (n *node[K, V]) child(level string) *node[K, V] {
	switch level {
	case "+":
		return n.plus
	case "#":
		return n.hash
	}
	return n.kids.get(level)
}

func (n *node[K, V]) setChild(level string, c *node[K, V]) {
	switch level {
	case "+":
		n.plus = c
	case "#":
		n.hash = c
	default:
		n.kids.set(level, c)
	}
}

func (n *node[K, V]) deleteChild(level string) {
	switch level {
	case "+":
		n.plus = nil
	case "#":
		n.hash = nil
	default:
		n.kids.del(level)
	}
}

func (n *node[K, V]) empty() bool {
	return n.subs.len() == 0 && n.groups == nil &&
		n.kids.len() == 0 && n.plus == nil && n.hash == nil
}

func (n *node[K, V]) group(name string) *group[K, V] {
	for g := n.groups; g != nil; g = g.next {
		if g.name == name {
			return g
		}
	}
	return nil
}

func (n *node[K, V]) removeShared(name string, key K) bool {
	for link := &n.groups; *link != nil; link = &(*link).next {
		g := *link
		if g.name != name {
			continue
		}
		if !g.subs.remove(key) {
			return false
		}
		if g.subs.len() == 0 {
			*link = g.next // unlink the empty group
		}
		return true
	}
	return false
}

// cutLevel splits s at its first '/': level is the first level, rest what
// follows the separator, and more reports whether there was a separator
// (so "a/" has a second, empty, level).
func cutLevel(s string) (level, rest string, more bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
