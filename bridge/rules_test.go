package bridge

import "testing"

func TestMapOutTopicProperty(t *testing.T) {
	events := "devices/dev-1/messages/events/"
	tests := []struct {
		r     Rule
		topic string
		want  string
		ok    bool
	}{
		{Rule{Local: "sensors/#", Remote: events, TopicProperty: "topic"}, "sensors/a/t", events + "topic=sensors%2Fa%2Ft", true},
		{Rule{Local: "sensors/#", Remote: events, TopicProperty: "topic"}, "sensors", events + "topic=sensors", true},
		{Rule{Local: "#", Remote: events, TopicProperty: "local topic"}, "a b&c=d", events + "local%20topic=a%20b%26c%3Dd", true},
		{Rule{Local: "sensors/#", Remote: events, TopicProperty: "topic"}, "other/a", "", false},
		{Rule{Local: "one/topic", Remote: events, TopicProperty: "topic"}, "one/topic", events + "topic=one%2Ftopic", true},
		{Rule{Local: "sensors/#", Remote: "site-7/#"}, "sensors/a", "site-7/a", true},
	}
	for _, tt := range tests {
		got, ok := mapOut(tt.r, tt.topic)
		if got != tt.want || ok != tt.ok {
			t.Errorf("mapOut(%+v, %q) = %q, %v; want %q, %v", tt.r, tt.topic, got, ok, tt.want, tt.ok)
		}
	}
	cfg := Config{Name: "x", Address: "tcp://h:1", Out: []Rule{{Local: "a/#", Remote: "b/#", TopicProperty: "topic"}}}
	if err := cfg.setDefaults(); err == nil {
		t.Error("a wildcard remote with a topic property was accepted")
	}
	cfg.Out[0].Remote = events
	if err := cfg.setDefaults(); err != nil {
		t.Errorf("fixed remote with a topic property: %v", err)
	}
}
