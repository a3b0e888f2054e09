package topic_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgemq/edgemq/broker/topic"
)

func ExampleTree() {
	subs := topic.NewTree[string, byte]() // client ID -> QoS
	for _, s := range []struct {
		filter, client string
		qos            byte
	}{
		{"sport/#", "alice", 1},
		{"sport/+/score", "bob", 0},
		{"$share/workers/sport/+/score", "w1", 1},
		{"$share/workers/sport/+/score", "w2", 1},
		{"#", "carol", 2},
	} {
		if err := topic.ValidFilter(s.filter); err != nil {
			panic(err)
		}
		subs.Subscribe(s.filter, s.client, s.qos)
	}

	var dst []topic.Entry[string, byte]
	for range 2 {
		dst = subs.Match("sport/tennis/score", dst[:0])
		slices.SortFunc(dst, func(a, b topic.Entry[string, byte]) int {
			return strings.Compare(a.Key, b.Key)
		})
		for _, e := range dst {
			fmt.Printf("%s %q qos=%d group=%q\n", e.Key, e.Filter, e.Value, e.Group)
		}
	}
	fmt.Println(len(subs.Match("$SYS/uptime", nil)), "matches for $SYS/uptime")
	// Output:
	// alice "sport/#" qos=1 group=""
	// bob "sport/+/score" qos=0 group=""
	// carol "#" qos=2 group=""
	// w1 "sport/+/score" qos=1 group="workers"
	// alice "sport/#" qos=1 group=""
	// bob "sport/+/score" qos=0 group=""
	// carol "#" qos=2 group=""
	// w2 "sport/+/score" qos=1 group="workers"
	// 0 matches for $SYS/uptime
}

func ExampleRetained() {
	retained := topic.NewRetained[string]()
	retained.Set("sport/tennis", "6-4")
	retained.Set("sport/tennis/player1", "Ann")
	retained.Set("$SYS/uptime", "42")

	var got []string
	retained.Match("sport/#", func(name, v string) bool {
		got = append(got, name+"="+v)
		return true
	})
	slices.Sort(got)
	fmt.Println(got)
	// Output: [sport/tennis/player1=Ann sport/tennis=6-4]
}
