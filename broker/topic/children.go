package topic

import "iter"

// children holds the literal (non-wildcard) child levels of a trie node,
// keyed by level. Topic trees are mostly chains ("site/3/dev42/cmd"), so a
// single child is kept inline and a map, which costs a few hundred bytes
// even for two entries, is made only for two or more children.
type children[N any] struct {
	key string        // level of one
	one *N            // the only child, when there is exactly one
	m   map[string]*N // all children, when there are two or more
}

func (c *children[N]) get(level string) *N {
	if c.m != nil {
		return c.m[level]
	}
	if c.one != nil && c.key == level {
		return c.one
	}
	return nil
}

// set adds or replaces the child at level. The index keeps level, so it
// must be a string the trie owns, not the caller's.
func (c *children[N]) set(level string, n *N) {
	switch {
	case c.m != nil:
		c.m[level] = n
	case c.one == nil || c.key == level:
		c.key, c.one = level, n
	default:
		c.m = map[string]*N{c.key: c.one, level: n}
		c.key, c.one = "", nil
	}
}

// del removes the child at level, going back to the inline form (and
// freeing the map, which never shrinks) when one child is left.
func (c *children[N]) del(level string) {
	if c.m == nil {
		if c.one != nil && c.key == level {
			c.key, c.one = "", nil
		}
		return
	}
	delete(c.m, level)
	if len(c.m) == 1 {
		for k, n := range c.m {
			c.key, c.one = k, n
		}
		c.m = nil
	}
}

func (c *children[N]) len() int {
	if c.m != nil {
		return len(c.m)
	}
	if c.one != nil {
		return 1
	}
	return 0
}

// all yields every child with its level, in no particular order.
func (c *children[N]) all() iter.Seq2[string, *N] {
	return func(yield func(string, *N) bool) {
		if c.m == nil {
			if c.one != nil {
				yield(c.key, c.one)
			}
			return
		}
		for k, n := range c.m {
			if !yield(k, n) {
				return
			}
		}
	}
}
