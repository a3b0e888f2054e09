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

func latencyLoad() Load {
	return Load{
		Name: "latency",
		Desc: "10 publishers -> 1 subscriber, QoS 1, paced at 2000 msg/s in total; end-to-end latency",
		Run:  runLatency,
		Targets: []Goal{goalAtMost(mP99), goalZero(mLost),
			goalRatioAtMost(mCPUPerMsg, 0.8)},
	}
}

// maxLatencySamples bounds the latency slice (8 bytes each).
const maxLatencySamples = 4 << 20

// pacedPublisher publishes QoS 1 messages at one message per interval,
// starting at first, waiting for each PUBACK. Slots missed by more than
// one interval are skipped rather than sent in a burst, so the achieved
// rate shows when the broker cannot keep up.
func pacedPublisher(c mqtt.Client, id uint32, topic string, size int, first time.Time, interval time.Duration, stop *atomic.Bool, count *atomic.Int64) error {
	var seq uint64
	next := first
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	for {
		<-t.C
		if stop.Load() {
			return nil
		}
		payload := make([]byte, size)
		encodePayload(payload, id, seq, time.Now().UnixNano())
		tok := c.Publish(topic, 1, false, payload)
		if !tok.WaitTimeout(clientTimeout) {
			return fmt.Errorf("publisher %d: no PUBACK within %v", id, clientTimeout)
		}
		if err := tok.Error(); err != nil {
			return fmt.Errorf("publisher %d: %w", id, err)
		}
		seq++
		count.Add(1)
		next = next.Add(interval)
		if now := time.Now(); now.Sub(next) > interval {
			next = now
		}
		t.Reset(time.Until(next))
	}
}

func runLatency(ctx context.Context, env Env) (*Sample, error) {
	p := env.Params.withDefaults(10, 1)
	lost := &connLost{}
	tracker := newSeqTracker(p.Publishers)
	var received atomic.Int64
	// Only messages sent inside the measured window are kept.
	var winStart, winEnd atomic.Int64
	winStart.Store(1<<63 - 1)
	winEnd.Store(1<<63 - 1)
	var mu sync.Mutex
	lat := make([]float64, 0, min(int(p.Rate*env.Duration.Seconds()*1.2)+16, maxLatencySamples))

	sub, err := connectClient(env.Addr, "mb-sub", lost)
	if err != nil {
		return nil, err
	}
	defer disconnectAll([]mqtt.Client{sub})
	err = subscribe(sub, "sensors/+/temp", 1, func(_ mqtt.Client, m mqtt.Message) {
		now := time.Now().UnixNano()
		pub, seq, sentNS, ok := decodePayload(m.Payload())
		if !ok {
			tracker.record(^uint32(0), 0) // counted as bad
			return
		}
		tracker.record(pub, seq)
		received.Add(1)
		if sentNS >= winStart.Load() && sentNS < winEnd.Load() {
			mu.Lock()
			if len(lat) < maxLatencySamples {
				lat = append(lat, float64(now-sentNS)/1e3)
			}
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	pubs, err := connectMany(ctx, env.Addr, "mb-pub", p.Publishers, lost)
	if err != nil {
		return nil, err
	}
	defer disconnectAll(pubs)

	interval := time.Duration(float64(time.Second) * float64(p.Publishers) / p.Rate)
	start := time.Now().Add(20 * time.Millisecond)
	var stop atomic.Bool
	sent := make([]paddedCounter, len(pubs))
	errs := make([]error, len(pubs))
	var wg sync.WaitGroup
	for i, c := range pubs {
		wg.Add(1)
		first := start.Add(interval * time.Duration(i) / time.Duration(len(pubs))) // stagger
		go func() {
			defer wg.Done()
			errs[i] = pacedPublisher(c, uint32(i), fmt.Sprintf("sensors/%d/temp", i), p.PayloadSize, first, interval, &stop, &sent[i].n)
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
	c0, s0 := probeCPU(env.PID), sumCounters(sent)
	r0 := received.Load()
	winStart.Store(c0.at.UnixNano())
	ok := sleepCtx(ctx, env.Duration)
	c1, s1 := probeCPU(env.PID), sumCounters(sent)
	winEnd.Store(c1.at.UnixNano())
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
	mu.Lock()
	sorted := sortedCopy(lat)
	mu.Unlock()
	if len(sorted) == 0 {
		return nil, errors.New("no message sent in the measured window was received")
	}

	s := &Sample{}
	s.add(mP50, "µs", percentile(sorted, 50))
	s.add(mP99, "µs", percentile(sorted, 99))
	s.add(mP999, "µs", percentile(sorted, 99.9))
	s.add(mMax, "µs", sorted[len(sorted)-1])
	s.add(mRate, "msg/s", float64(s1-s0)/c1.at.Sub(c0.at).Seconds())
	addCPU(s, c0, c2, r2-r0, "msg", c0, c1)
	s.add(mSent, "msgs", float64(total))
	s.add(mReceived, "msgs", float64(r2))
	s.add(mLost, "msgs", float64(max(total-unique, 0)))
	s.add(mDup, "msgs", float64(dups))
	return s, nil
}
