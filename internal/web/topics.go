package web

import (
	"hash/maphash"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/auth"
)

// maxTopics bounds the topics tracked; the least recently active are
// forgotten first.
const (
	maxTopics   = 2000
	topicShards = 16
	// maxTrackedTopic bounds the length of a tracked topic (MQTT allows
	// 65535 bytes): longer ones are counted, not tracked, so that the
	// tracker's memory stays bounded in bytes too.
	maxTrackedTopic = 512
)

// topicTracker remembers, for the topics seen most recently, the last
// payload (its first listPayloadMax bytes), when, how many messages and
// their rate. observe runs on every publisher's goroutine: it takes one
// shard's lock and allocates only for a topic it does not know.
type topicTracker struct {
	seed    maphash.Seed
	shards  [topicShards]topicShard
	tooLong atomic.Uint64 // messages on topics longer than maxTrackedTopic
}

type topicShard struct {
	mu   sync.Mutex
	m    map[string]*topicStat
	cap  int
	head *topicStat // most recently active; tail is head.prev
}

type topicStat struct {
	topic      string
	last       [listPayloadMax]byte
	n          int  // bytes of last used
	truncated  bool // the payload was longer
	at         time.Time
	count      uint64
	prevCount  uint64 // at the last rate sample
	perMinute  float64
	retained   bool
	prev, next *topicStat // ring, most recent first
}

func newTopicTracker(n int) *topicTracker {
	t := &topicTracker{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*topicStat)
		t.shards[i].cap = max(1, n/topicShards)
	}
	return t
}

func (t *topicTracker) shard(topic string) *topicShard {
	return &t.shards[maphash.String(t.seed, topic)%topicShards]
}

// observe records one routed message (the broker's publish observer).
func (t *topicTracker) observe(m *broker.Message) {
	if len(m.Topic) > maxTrackedTopic {
		t.tooLong.Add(1)
		return
	}
	sh := t.shard(m.Topic)
	at := m.Created
	if at.IsZero() {
		at = time.Now()
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.m[m.Topic]
	if st == nil {
		if len(sh.m) >= sh.cap {
			st = sh.head.prev // the least recently active: reused
			delete(sh.m, st.topic)
			sh.unlink(st)
			*st = topicStat{}
		} else {
			st = &topicStat{}
		}
		st.topic = m.Topic
		sh.m[m.Topic] = st
	} else {
		sh.unlink(st)
	}
	st.n = copy(st.last[:], m.Payload)
	st.truncated = len(m.Payload) > len(st.last)
	st.at = at
	st.count++
	st.retained = m.Retain && len(m.Payload) > 0
	sh.pushFront(st)
}

func (sh *topicShard) unlink(st *topicStat) {
	if st.next == st {
		sh.head = nil
	} else {
		st.prev.next, st.next.prev = st.next, st.prev
		if sh.head == st {
			sh.head = st.next
		}
	}
	st.prev, st.next = nil, nil
}

func (sh *topicShard) pushFront(st *topicStat) {
	if sh.head == nil {
		st.prev, st.next = st, st
	} else {
		st.next, st.prev = sh.head, sh.head.prev
		sh.head.prev.next = st
		sh.head.prev = st
	}
	sh.head = st
}

// sampleRates updates every topic's messages per minute over the last
// elapsed.
func (t *topicTracker) sampleRates(elapsed time.Duration) {
	mins := elapsed.Minutes()
	if mins <= 0 {
		return
	}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, st := range sh.m {
			st.perMinute = float64(st.count-st.prevCount) / mins
			st.prevCount = st.count
		}
		sh.mu.Unlock()
	}
}

// topicInfo is a copy of one tracked topic.
type topicInfo struct {
	Topic     string
	Payload   []byte
	Truncated bool
	At        time.Time
	Count     uint64
	PerMinute float64
	Retained  bool
}

func (st *topicStat) info() topicInfo {
	return topicInfo{Topic: st.topic, Payload: append([]byte(nil), st.last[:st.n]...), Truncated: st.truncated,
		At: st.at, Count: st.count, PerMinute: st.perMinute, Retained: st.retained}
}

// list returns the tracked topics matching filter, most recently active
// first, at most limit (0: all), and how many matched.
func (t *topicTracker) list(filter string, limit int) ([]topicInfo, int) {
	var out []topicInfo
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, st := range sh.m {
			if auth.Match(filter, st.topic) {
				out = append(out, st.info())
			}
		}
		sh.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].Topic < out[j].Topic
	})
	total := len(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, total
}

// under returns the last payloads of the topics one level below prefix
// (a device's fields), by that level's name.
func (t *topicTracker) under(prefix string) map[string]topicInfo {
	out := make(map[string]topicInfo)
	p := prefix + "/"
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for topic, st := range sh.m {
			if rest, ok := strings.CutPrefix(topic, p); ok && rest != "" && !strings.Contains(rest, "/") {
				out[rest] = st.info()
			}
		}
		sh.mu.Unlock()
	}
	return out
}
