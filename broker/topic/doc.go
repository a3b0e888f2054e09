// Package topic implements MQTT topic names and filters (MQTT 3.1.1 and
// 5.0, section 4.7), shared subscriptions (MQTT 5.0, section 4.8.2), the
// subscription index (Tree) and the retained message index (Retained).
//
// Topic levels are separated by '/'; empty levels are valid ("a//b", "/a",
// "a/"). In a filter, '+' matches exactly one level (possibly empty) and
// '#', allowed only as the last level, matches the parent level and any
// number of child levels, so "sport/#" matches "sport". A filter whose first
// level is a wildcard does not match topic names starting with '$'
// [MQTT-4.7.2-1]: "#" does not match "$SYS/uptime", "$SYS/#" does.
//
// A shared subscription "$share/{group}/{filter}" is identified by its
// group name and filter; a message matching it is delivered to one member
// of the group, chosen round-robin by Tree.Match.
//
// # Validation
//
// ValidName and ValidFilter check PUBLISH topic names and SUBSCRIBE topic
// filters. The index types trust their callers: Tree.Subscribe expects a
// filter accepted by ValidFilter and Retained.Set a name accepted by
// ValidName. Well-formed UTF-8 is checked by the packet decoder.
//
// # Concurrency and memory
//
// Each Tree and each Retained is guarded by a single sync.RWMutex (not one
// per node): Subscribe, Unsubscribe, Set and Delete take the write lock;
// Match, Get and Len take the read lock, so matches run in parallel.
// Retained.Match calls its callback while holding the read lock: the
// callback must not call back into the same Retained (a Set or Delete would
// deadlock), so collect what you need and act after Match returns.
//
// Tree.Match walks the trie level by level without splitting the topic and
// appends to the caller's slice: it does not allocate when the slice has
// enough capacity. A node keeps its '+' and '#' children in dedicated
// fields and its other children in a map, except that a lone child is kept
// inline: most nodes have one, and a map costs a few hundred bytes. A
// subscription to a filter of its own costs about 270 bytes on 64-bit and
// 155 on 32-bit, an extra subscriber to an existing filter 30 to 50 (see
// BenchmarkSubscribe). Both indexes prune the nodes that Unsubscribe and
// Delete leave empty, so memory follows the live subscriptions and retained
// messages, not the churn.
package topic
