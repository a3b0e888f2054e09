package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// faninLoad returns fanin0 or fanin1: many publishers, one wildcard
// subscriber, at QoS 0 or 1.
func faninLoad(qos byte) Load {
	goals := []Goal{goalRatioAtMost(mCPUPerMsg, 0.8), goalAtLeast(mThroughput)}
	if qos > 0 {
		goals = append(goals, goalZero(mLost), goalZero(mDup))
	}
	return Load{
		Name: fmt.Sprintf("fanin%d", qos),
		Desc: fmt.Sprintf("50 publishers -> 1 subscriber on sensors/+/temp, QoS %d, 64 B, flat out %s",
			qos, map[bool]string{true: "(each publisher waits for its PUBACK)", false: "(at most --window in flight)"}[qos > 0]),
		Run: func(ctx context.Context, env Env) (*Sample, error) {
			return runFanin(ctx, env, qos)
		},
		Targets: goals,
	}
}

// paddedCounter keeps per-goroutine counters on separate cache lines.
type paddedCounter struct {
	n atomic.Int64
	_ [56]byte
}

func sumCounters(cs []paddedCounter) int64 {
	var s int64
	for i := range cs {
		s += cs[i].n.Load()
	}
	return s
}

// publishLoop publishes to topic until stop is set. With QoS 0 it
// publishes as fast as gate (flow control, may be nil) and paho allow;
// with QoS 1 it waits for each PUBACK. count is incremented per message
// handed over (QoS 0) or acknowledged (QoS 1).
func publishLoop(c mqtt.Client, id uint32, topic string, qos byte, size int, gate func(seq uint64), stop *atomic.Bool, count *atomic.Int64) error {
	var seq uint64
	for !stop.Load() {
		if gate != nil {
			gate(seq)
		}
		payload := make([]byte, size) // paho keeps a reference until written
		encodePayload(payload, id, seq, time.Now().UnixNano())
		tok := c.Publish(topic, qos, false, payload)
		if qos > 0 {
			if !tok.WaitTimeout(clientTimeout) {
				return fmt.Errorf("publisher %d: no PUBACK within %v", id, clientTimeout)
			}
		}
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publisher %d: %w", id, err)
		}
		seq++
		count.Add(1)
	}
	return nil
}

func runFanin(ctx context.Context, env Env, qos byte) (*Sample, error) {
	p := env.Params.withDefaults(50, 1)
	lost := &connLost{}
	tracker := newSeqTracker(p.Publishers)
	var received atomic.Int64
	var win *window
	var gate func(uint64)
	if qos == 0 {
		win = newWindow(p.Window)
		gate = func(uint64) { win.acquire() }
	}

	sub, err := connectClient(env.Addr, "mb-sub", lost)
	if err != nil {
		return nil, err
	}
	defer disconnectAll([]mqtt.Client{sub})
	err = subscribe(sub, "sensors/+/temp", qos, func(_ mqtt.Client, m mqtt.Message) {
		pub, seq, _, ok := decodePayload(m.Payload())
		if !ok {
			pub = ^uint32(0) // counted as bad
		}
		win.release(tracker.record(pub, seq))
		received.Add(1)
	})
	if err != nil {
		return nil, err
	}
	pubs, err := connectMany(ctx, env.Addr, "mb-pub", p.Publishers, lost)
	if err != nil {
		return nil, err
	}
	defer disconnectAll(pubs)

	var stop atomic.Bool
	sent := make([]paddedCounter, len(pubs))
	errs := make([]error, len(pubs))
	var wg sync.WaitGroup
	for i, c := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = publishLoop(c, uint32(i), fmt.Sprintf("sensors/%d/temp", i), qos, p.PayloadSize, gate, &stop, &sent[i].n)
		}()
	}
	stopPublishers := func() error {
		stop.Store(true)
		if !waitTimeout(&wg, clientTimeout+2*time.Second) {
			return errors.New("publishers did not stop")
		}
		return errors.Join(errs...)
	}

	if !sleepCtx(ctx, env.Warmup) {
		stopPublishers()
		return nil, ctx.Err()
	}
	c0, r0, s0 := probeCPU(env.PID), received.Load(), sumCounters(sent)
	ok := sleepCtx(ctx, env.Duration)
	c1, r1, s1 := probeCPU(env.PID), received.Load(), sumCounters(sent)
	if err := stopPublishers(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, ctx.Err()
	}
	total := sumCounters(sent)
	drain(ctx, received.Load, total, env.Quiet, env.DrainMax)
	c2, r2 := probeCPU(env.PID), received.Load()
	if err := lost.err(); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	unique, dups, bad := tracker.counts()
	if bad > 0 {
		return nil, fmt.Errorf("%d messages with a malformed payload", bad)
	}

	s := &Sample{}
	window := c1.at.Sub(c0.at).Seconds()
	s.add(mThroughput, "msg/s", float64(r1-r0)/window)
	addCPU(s, c0, c2, r2-r0, "msg", c0, c1)
	if env.PID > 0 && c0.err == nil && c2.err == nil && s1 > s0 {
		// Per message published; includes messages the broker dropped.
		s.add(mCPUPerSent, "µs/msg", float64(c2.broker.Sub(c0.broker).Nanoseconds())/1e3/float64(total-s0))
	}
	s.add(mSent, "msgs", float64(total))
	s.add(mReceived, "msgs", float64(received.Load()))
	s.add(mLost, "msgs", float64(max(total-unique, 0)))
	s.add(mDup, "msgs", float64(dups))
	if win != nil {
		s.add(mStalls, "timeouts", float64(win.stallCount()))
	}
	return s, nil
}
