package topic

import "slices"

// member is one subscriber of a filter (or of a shared group).
type member[K comparable, V any] struct {
	key   K
	value V
}

// indexAbove is the list length above which a key index is kept, so that
// Subscribe and Unsubscribe stay O(1) on filters with many subscribers
// while small lists (the common case) cost no map.
const indexAbove = 16

// subList is a set of members keyed by K. Order is not preserved.
type subList[K comparable, V any] struct {
	items []member[K, V]
	idx   map[K]int32 // key -> position in items; nil while the list is small
}

func (l *subList[K, V]) find(key K) int {
	if l.idx != nil {
		if i, ok := l.idx[key]; ok {
			return int(i)
		}
		return -1
	}
	for i := range l.items {
		if l.items[i].key == key {
			return i
		}
	}
	return -1
}

// set adds key or replaces its value; added reports whether key was new.
func (l *subList[K, V]) set(key K, v V) (added bool) {
	if i := l.find(key); i >= 0 {
		l.items[i].value = v
		return false
	}
	l.items = append(l.items, member[K, V]{key, v})
	switch {
	case l.idx != nil:
		l.idx[key] = int32(len(l.items) - 1)
	case len(l.items) > indexAbove:
		l.idx = make(map[K]int32, len(l.items))
		for i := range l.items {
			l.idx[l.items[i].key] = int32(i)
		}
	}
	return true
}

// remove deletes key, reporting whether it was present. It releases the
// index and spare capacity as the list shrinks so that churn does not pin
// memory.
func (l *subList[K, V]) remove(key K) bool {
	i := l.find(key)
	if i < 0 {
		return false
	}
	last := len(l.items) - 1
	if i != last {
		l.items[i] = l.items[last]
		if l.idx != nil {
			l.idx[l.items[i].key] = int32(i)
		}
	}
	l.items[last] = member[K, V]{} // drop references for the GC
	l.items = l.items[:last]
	if l.idx != nil {
		delete(l.idx, key)
		if len(l.items) <= indexAbove/2 {
			l.idx = nil
		}
	}
	switch {
	case len(l.items) == 0:
		l.items = nil
	case cap(l.items) > indexAbove && len(l.items) < cap(l.items)/4:
		l.items = slices.Clip(slices.Clone(l.items))
	}
	return true
}

func (l *subList[K, V]) len() int { return len(l.items) }
