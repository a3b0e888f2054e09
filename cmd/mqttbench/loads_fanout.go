package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// fanoutTopic is the single topic of the fanout load.
const fanoutTopic = "bench/fanout"

func fanoutLoad() Load {
	return Load{
		Name:    "fanout",
		Desc:    "1 publisher -> 100 subscribers on one topic, QoS 0, 64 B, flat out (at most --window ahead of the slowest)",
		Run:     runFanout,
		Targets: []Goal{goalRatioAtMost(mCPUPerMsg, 0.8), goalAtLeast(mThroughput)},
	}
}

func runFanout(ctx context.Context, env Env) (*Sample, error) {
	p := env.Params.withDefaults(1, 100)
	lost := &connLost{}
	var delivered atomic.Int64
	fw := &fanoutWindow{limit: int64(p.Window), progress: make([]paddedCounter, p.Subscribers)}
	var bad atomic.Int64

	subs, err := connectMany(ctx, env.Addr, "mb-sub", p.Subscribers, lost)
	if err != nil {
		return nil, err
	}
	defer disconnectAll(subs)
	for i, c := range subs {
		mine := &fw.progress[i].n
		err := subscribe(c, fanoutTopic, 0, func(_ mqtt.Client, m mqtt.Message) {
			if _, seq, _, ok := decodePayload(m.Payload()); ok {
				advance(mine, seq)
			} else {
				bad.Add(1)
			}
			delivered.Add(1)
		})
		if err != nil {
			return nil, err
		}
	}
	pub, err := connectClient(env.Addr, "mb-pub", lost)
	if err != nil {
		return nil, err
	}
	defer disconnectAll([]mqtt.Client{pub})

	var stop atomic.Bool
	var sent atomic.Int64
	done := make(chan error, 1)
	gate := func(seq uint64) { fw.wait(int64(seq), &stop) }
	go func() { done <- publishLoop(pub, 0, fanoutTopic, 0, p.PayloadSize, gate, &stop, &sent) }()
	stopPublisher := func() error {
		stop.Store(true)
		select {
		case err := <-done:
			return err
		case <-time.After(clientTimeout + 2*time.Second):
			return errors.New("publisher did not stop")
		}
	}

	if !sleepCtx(ctx, env.Warmup) {
		stopPublisher()
		return nil, ctx.Err()
	}
	c0, d0, s0 := probeCPU(env.PID), delivered.Load(), sent.Load()
	ok := sleepCtx(ctx, env.Duration)
	c1, d1, s1 := probeCPU(env.PID), delivered.Load(), sent.Load()
	if err := stopPublisher(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, ctx.Err()
	}
	want := sent.Load() * int64(len(subs))
	drain(ctx, delivered.Load, want, env.Quiet, env.DrainMax)
	c2, d2 := probeCPU(env.PID), delivered.Load()
	if err := lost.err(); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if n := bad.Load(); n > 0 {
		return nil, fmt.Errorf("%d messages with a malformed payload", n)
	}

	s := &Sample{}
	window := c1.at.Sub(c0.at).Seconds()
	s.add(mThroughput, "deliveries/s", float64(d1-d0)/window)
	addCPU(s, c0, c2, d2-d0, "delivery", c0, c1)
	s.add("publish rate", "msg/s", float64(s1-s0)/window)
	s.add(mSent, "msgs", float64(sent.Load()))
	s.add(mReceived, "deliveries", float64(d2))
	s.add(mLost, "deliveries", float64(max(want-d2, 0)))
	if fw.limit > 0 {
		s.add(mStalls, "timeouts", float64(fw.stalls)) // written by the publisher, which has stopped
	}
	return s, nil
}
