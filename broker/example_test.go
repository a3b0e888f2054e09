package broker_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/topic"
)

// newExampleServer starts a broker without network listeners: only
// in-process clients use it.
func newExampleServer() *broker.Server {
	s, err := broker.New(broker.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	return s
}

func ExampleServer_NewClient() {
	s := newExampleServer()
	defer s.Shutdown(context.Background())

	c, err := s.NewClient("gateway")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("connected as", c.ID())

	// The identifier is taken until Close.
	_, err = s.NewClient("gateway")
	fmt.Println("in use:", errors.Is(err, broker.ErrClientIDInUse))
	// Output:
	// connected as gateway
	// in use: true
}

func ExampleClient_Subscribe() {
	s := newExampleServer()
	defer s.Shutdown(context.Background())
	ctx := context.Background()

	pub, _ := s.NewClient("sensor")
	defer pub.Close()
	// A retained message is delivered to later subscribers.
	pub.Publish(ctx, "home/kitchen/temperature", []byte("21.5"), 1, true)

	sub, _ := s.NewClient("dashboard")
	defer sub.Close()
	got := make(chan *broker.Message, 2)
	// Handlers run one at a time on the client's own goroutine.
	err := sub.Subscribe("home/+/temperature", 1, func(m *broker.Message) { got <- m })
	if err != nil {
		fmt.Println(err)
		return
	}
	m := <-got
	fmt.Printf("%s = %s (retained %v)\n", m.Topic, m.Payload, m.Retain)

	pub.Publish(ctx, "home/hall/temperature", []byte("19.0"), 1, false)
	m = <-got
	fmt.Printf("%s = %s (retained %v, from %s)\n", m.Topic, m.Payload, m.Retain, m.ClientID)
	// Output:
	// home/kitchen/temperature = 21.5 (retained true)
	// home/hall/temperature = 19.0 (retained false, from sensor)
}

func ExampleClient_Publish() {
	s := newExampleServer()
	defer s.Shutdown(context.Background())

	sub, _ := s.NewClient("logger")
	defer sub.Close()
	got := make(chan *broker.Message, 1)
	sub.Subscribe("jobs/#", 0, func(m *broker.Message) { got <- m })

	pub, _ := s.NewClient("scheduler")
	defer pub.Close()
	// QoS 2 to a QoS 0 subscription: delivered at QoS 0.
	if err := pub.Publish(context.Background(), "jobs/42", []byte("start"), 2, false); err != nil {
		fmt.Println(err)
		return
	}
	m := <-got
	fmt.Println(m.Topic, string(m.Payload), "QoS", m.QoS)

	// Topic names are validated.
	err := pub.Publish(context.Background(), "jobs/+", nil, 0, false)
	fmt.Println("invalid topic:", errors.Is(err, topic.ErrInvalidName))
	// Output:
	// jobs/42 start QoS 0
	// invalid topic: true
}

func ExampleClient_SubscribeDurable() {
	s := newExampleServer()
	defer s.Shutdown(context.Background())

	var mu sync.Mutex
	var stored []string
	store, _ := s.NewClient("store")
	defer store.Close()
	// The handler runs on the publisher's goroutine; the publisher is
	// acknowledged when done is called.
	store.SubscribeDurable("orders/#", 1, func(m *broker.Message, done func(error)) {
		if len(m.Payload) > 8 {
			done(broker.ErrQuotaExceeded)
			return
		}
		mu.Lock()
		stored = append(stored, string(m.Payload))
		mu.Unlock()
		done(nil)
	})

	pub, _ := s.NewClient("shop")
	defer pub.Close()
	ctx := context.Background()
	fmt.Println(pub.Publish(ctx, "orders/1", []byte("apples"), 1, false))
	fmt.Println(pub.Publish(ctx, "orders/2", []byte("pears"), 2, false))
	fmt.Println(pub.Publish(ctx, "orders/3", []byte("too many plums"), 1, false))
	mu.Lock()
	fmt.Println(stored)
	mu.Unlock()
	// Output:
	// <nil>
	// <nil>
	// broker: quota exceeded
	// [apples pears]
}
