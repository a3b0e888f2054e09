package web

import (
	"strconv"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
)

func TestTopicTrackerBounded(t *testing.T) {
	tr := newTopicTracker(64)
	now := time.Now()
	for i := range 1000 {
		tr.observe(&broker.Message{Topic: "t/" + strconv.Itoa(i), Payload: []byte("v" + strconv.Itoa(i)), Created: now.Add(time.Duration(i) * time.Millisecond)})
	}
	list, total := tr.list("#", 0)
	if total > 64 || total < 16 {
		t.Fatalf("%d topics tracked, want at most 64", total)
	}
	// The most recent ones are kept, newest first.
	if list[0].Topic != "t/999" || string(list[0].Payload) != "v999" {
		t.Errorf("first %q %q", list[0].Topic, list[0].Payload)
	}
	big := make([]byte, 1000)
	tr.observe(&broker.Message{Topic: "t/big", Payload: big, Created: now.Add(time.Hour)})
	list, _ = tr.list("t/big", 1)
	if len(list) != 1 || len(list[0].Payload) != listPayloadMax || !list[0].Truncated {
		t.Errorf("big payload kept as %d bytes, truncated %v", len(list[0].Payload), list[0].Truncated)
	}
	tr.observe(&broker.Message{Topic: "$SYS/broker/uptime", Payload: []byte("1"), Created: now.Add(2 * time.Hour)})
	if l, _ := tr.list("#", 0); l[0].Topic != "t/big" {
		t.Errorf("# lists %q first: a $SYS topic must not match #", l[0].Topic)
	}
	if l, _ := tr.list("$SYS/#", 0); len(l) != 1 {
		t.Errorf("$SYS/# lists %d topics", len(l))
	}
}

func TestTopicRates(t *testing.T) {
	tr := newTopicTracker(16)
	for range 30 {
		tr.observe(&broker.Message{Topic: "a", Payload: []byte("x"), Created: time.Now()})
	}
	tr.sampleRates(30 * time.Second)
	l, _ := tr.list("a", 1)
	if l[0].PerMinute != 60 || l[0].Count != 30 {
		t.Errorf("count %d, per minute %v; want 30 and 60", l[0].Count, l[0].PerMinute)
	}
	tr.sampleRates(time.Minute)
	l, _ = tr.list("a", 1)
	if l[0].PerMinute != 0 {
		t.Errorf("per minute %v after a quiet minute", l[0].PerMinute)
	}
}

// BenchmarkTopicObserve is the cost the dashboard adds to every routed
// message: 1000 topics, 64-byte payloads, from parallel publishers.
func BenchmarkTopicObserve(b *testing.B) {
	tr := newTopicTracker(maxTopics)
	msgs := make([]*broker.Message, 1000)
	for i := range msgs {
		msgs[i] = &broker.Message{Topic: "sensors/" + strconv.Itoa(i) + "/temp", Payload: make([]byte, 64), Created: time.Now()}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tr.observe(msgs[i%len(msgs)])
			i++
		}
	})
}

func TestTopicTrackerSkipsLongTopics(t *testing.T) {
	tr := newTopicTracker(64)
	long := string(make([]byte, maxTrackedTopic+1))
	tr.observe(&broker.Message{Topic: long, Payload: []byte("x")})
	if _, n := tr.list("#", 0); n != 0 || tr.tooLong.Load() != 1 {
		t.Errorf("tracked %d topics, counted %d too long; want 0 and 1", n, tr.tooLong.Load())
	}
}
