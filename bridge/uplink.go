package bridge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/storefwd"
)

// Packet identifiers: records use 1..maxWindow (derived from the sequence
// number), the birth message and subscriptions the ones above.
const (
	pidBirth     = maxWindow + 1
	pidSubscribe = maxWindow + 2
)

// maxInPacket bounds the packets accepted from the uplink.
const maxInPacket = 16 << 20

func recordPID(seq uint64) uint16 { return uint16(seq%maxWindow) + 1 }

// run connects, serves and reconnects until the bridge is closed.
func (b *Bridge) run() {
	backoff := b.cfg.ReconnectMin
	for b.ctx.Err() == nil {
		b.applyPending()
		established, err := b.session()
		if b.ctx.Err() != nil {
			b.setState(false, nil)
			return
		}
		if errors.Is(err, errReconfigured) || errors.Is(err, errRenew) {
			// Connect again at once, with the new settings or credentials.
			b.setState(false, nil)
			backoff = b.cfg.ReconnectMin
			if errors.Is(err, errRenew) {
				b.count(func(s *Stats) { s.Renewals++ })
				b.log.Info("reconnecting with fresh credentials")
			}
			continue
		}
		b.setState(false, err)
		b.log.Warn("uplink disconnected", "err", err)
		if established {
			backoff = b.cfg.ReconnectMin
		}
		// Full jitter in [backoff/2, backoff].
		d := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, b.cfg.ReconnectMax)
		t := time.NewTimer(d)
		select {
		case <-b.ctx.Done():
			t.Stop()
			return
		case <-b.reconfigured:
			t.Stop()
			backoff = b.cfg.ReconnectMin
		case <-t.C:
		}
	}
}

type flight struct {
	seq  uint64
	sent time.Time
}

// uplink is one connection to the uplink broker.
type uplink struct {
	b       *Bridge
	conn    net.Conn
	version byte

	wmu  sync.Mutex
	wbuf []byte
	last time.Time // last write, under wmu

	// smu guards the send path (see sendLocked). Lock order: smu, then
	// wmu, u.mu, b.mu.
	smu  sync.Mutex
	send sendState
	wake chan struct{} // capacity 1: the reader asks the sender to run the send path
	hold *time.Timer   // kicks the sender refillHoldMax after the reader held slots back; under smu

	mu       sync.Mutex
	inflight map[uint16]flight
	inQoS2   map[uint16]bool // incoming QoS 2 awaiting PUBREL
	maxQoS   byte            // the uplink's maximum QoS (v5 CONNACK); 2 otherwise
}

func (b *Bridge) statusTopic() string { return "edgemq/" + b.cfg.GatewayID + "/status" }

// session runs one connection; established is true once CONNACK accepted.
// It ends in order (offline status, DISCONNECT) when the bridge closes or
// Reconfigure asks for a new session.
func (b *Bridge) session() (established bool, err error) {
	cfg := &b.cfg
	ctx, end := context.WithCancel(b.ctx)
	defer end()
	b.mu.Lock()
	b.endSession = end
	pending := b.next != nil
	b.mu.Unlock()
	if pending {
		return false, errReconfigured // Reconfigure came after applyPending
	}
	defer func() {
		b.mu.Lock()
		b.endSession = nil
		b.mu.Unlock()
	}()
	user, pass, renewAt, err := b.credentials()
	if err != nil {
		return false, err
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	var conn net.Conn
	if cfg.TLS != nil {
		d := tls.Dialer{Config: cfg.TLS}
		conn, err = d.DialContext(dctx, "tcp", cfg.Address)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", cfg.Address)
	}
	if err != nil {
		return false, fmt.Errorf("bridge %q: dial: %w", cfg.Name, err)
	}
	defer conn.Close()
	// Closing the connection unblocks every read and write when the
	// bridge is closed.
	stop := context.AfterFunc(dctx, func() { conn.SetDeadline(time.Now()) })
	u := &uplink{b: b, conn: conn, version: cfg.Protocol, inflight: make(map[uint16]flight), inQoS2: make(map[uint16]bool), maxQoS: 2}
	c := &packet.Connect{
		ProtocolName: "MQTT", ProtocolVersion: cfg.Protocol, CleanStart: cfg.CleanStart,
		KeepAlive: uint16(cfg.KeepAlive / time.Second), ClientID: cfg.ClientID,
	}
	if !cfg.NoStatus {
		c.WillFlag, c.WillQoS, c.WillRetain, c.WillTopic, c.WillPayload = true, 1, true, b.statusTopic(), []byte("offline")
	}
	if user != "" {
		c.UsernameFlag, c.Username = true, user
	}
	if pass != "" {
		c.PasswordFlag, c.Password = true, []byte(pass)
	}
	if cfg.Protocol == packet.Version5 {
		c.Properties.SessionExpiry = uint32(max(cfg.SessionExpiry, 0) / time.Second)
		c.Properties.Set(packet.PropSessionExpiry)
	}
	br := bufio.NewReader(conn)
	if err := u.write(c); err != nil {
		return false, err
	}
	conn.SetReadDeadline(time.Now().Add(cfg.DialTimeout))
	p, err := packet.Read(br, 0, cfg.Protocol)
	if err != nil {
		return false, fmt.Errorf("bridge %q: read CONNACK: %w", cfg.Name, err)
	}
	ca, ok := p.(*packet.Connack)
	if !ok {
		return false, fmt.Errorf("bridge %q: got %s instead of CONNACK", cfg.Name, p.Type())
	}
	if ca.ReasonCode != 0 {
		return false, fmt.Errorf("bridge %q: connection refused: code 0x%02x", cfg.Name, byte(ca.ReasonCode))
	}
	stop() // the session's own context takes over
	recvMax := 65535
	if cfg.Protocol == packet.Version5 && ca.Properties.Has(packet.PropReceiveMaximum) && ca.Properties.ReceiveMaximum > 0 {
		recvMax = int(ca.Properties.ReceiveMaximum)
	}
	if cfg.Protocol == packet.Version5 && ca.Properties.Has(packet.PropMaximumQoS) {
		u.maxQoS = ca.Properties.MaximumQoS
	}
	// The birth takes one of the uplink's receive slots.
	u.send.window = max(1, min(cfg.Window, recvMax-1))
	u.send.pace = newPacer(cfg.MaxRate, cfg.MaxByteRate)
	u.wake = make(chan struct{}, 1)
	b.q.Rewind()
	b.mu.Lock()
	b.st.Connects++
	b.mu.Unlock()
	b.setState(true, nil)
	b.log.Info("uplink connected", "address", cfg.Address, "session_present", ca.SessionPresent, "receive_maximum", recvMax)

	if !cfg.NoStatus {
		if err := u.write(&packet.Publish{QoS: 1, Retain: true, PacketID: pidBirth, Topic: b.statusTopic(), Payload: []byte("online")}); err != nil {
			return true, err
		}
	}
	if len(cfg.In) > 0 {
		s := &packet.Subscribe{PacketID: pidSubscribe}
		for _, r := range cfg.In {
			s.Subscriptions = append(s.Subscriptions, packet.SubOptions{Filter: r.Remote, QoS: r.QoS, NoLocal: cfg.Protocol == packet.Version5})
		}
		if err := u.write(s); err != nil {
			return true, err
		}
	}

	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); errc <- u.reader(sctx, br) }()
	go func() { defer wg.Done(); errc <- u.sender(sctx) }()
	go func() { defer wg.Done(); errc <- u.keeper(sctx) }()
	var renew <-chan time.Time
	if !renewAt.IsZero() {
		t := time.NewTimer(time.Until(renewAt))
		defer t.Stop()
		renew = t.C
	}
	select {
	case err = <-errc:
	case <-renew:
		// Orderly, and no offline status: the bridge is back at once.
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		u.write(&packet.Disconnect{})
		err = errRenew
	case <-ctx.Done():
		// Orderly: say offline (the will is dropped by DISCONNECT).
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if !cfg.NoStatus {
			u.write(&packet.Publish{Retain: true, Topic: b.statusTopic(), Payload: []byte("offline")})
		}
		u.write(&packet.Disconnect{})
		err = ErrClosed
		if b.ctx.Err() == nil {
			err = errReconfigured
		}
	}
	scancel()
	conn.SetDeadline(time.Now())
	wg.Wait()
	if u.hold != nil {
		u.hold.Stop()
	}
	return true, err
}

func (u *uplink) write(p packet.Packet) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	var err error
	u.wbuf, err = packet.Append(u.wbuf[:0], p, u.version)
	if err != nil {
		return fmt.Errorf("bridge %q: encode %s: %w", u.b.cfg.Name, p.Type(), err)
	}
	if err := u.writeLocked(u.wbuf); err != nil {
		return fmt.Errorf("bridge %q: write %s: %w", u.b.cfg.Name, p.Type(), err)
	}
	return nil
}

// writeRaw writes encoded packets.
func (u *uplink) writeRaw(b []byte) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	if err := u.writeLocked(b); err != nil {
		return fmt.Errorf("bridge %q: write: %w", u.b.cfg.Name, err)
	}
	return nil
}

func (u *uplink) writeLocked(b []byte) error {
	u.conn.SetWriteDeadline(time.Now().Add(u.b.cfg.DialTimeout))
	if _, err := u.conn.Write(b); err != nil {
		return err
	}
	u.last = time.Now()
	return nil
}

// The send path
//
// Records leave in queue order through one path, guarded by uplink.smu:
// take the next records from the queue (as many as the free slots, the
// pace and maxBurst allow), encode them into one buffer, write it. Two
// goroutines run it. The reader runs it right after it has acknowledged
// a batch of the uplink's PUBACKs/PUBCOMPs in the queue, so that the
// slots they free are refilled by one write, without a hand-off; the
// sender runs it when records are appended to the queue, and when the
// pace lets held records go. Since records are taken and written under
// one lock, the order on the wire is the queue's, and after a reconnect
// (Rewind) the unacknowledged records go first.
//
// Every acknowledgement in the queue is followed by a run of the send
// path by the same goroutine (the reader's, or the send path's own for
// QoS 0 and dropped records), so the sender need only wait for appends.
//
// While the window is nearly full, the reader leaves the slots it freed
// until a quarter of the window is free (holdLocked): a broker that
// acknowledges as it reads sends its PUBACKs one or two at a time, and
// refilling each pair cost a write, a wake-up of each side and a context
// switch per message, which on a small board costs more than the message.
// Refilled a quarter at a time, a backlog drains at half the CPU per
// message. The held slots are refilled by the sender at the latest
// refillHoldMax later, so that an uplink that stops acknowledging, or
// that holds its PUBACKs back (Nagle) until it sees data, stalls nothing.
// Only a fast uplink is held back: when an acknowledgement took longer
// than holdRTT, the window bounds the rate rather than the CPU (a slow
// link, a cloud far away), and a held slot would be throughput lost
// (2% at a 20 ms round trip).

// maxBurst bounds the records taken from the queue at once; maxTurn the
// records one run of the send path writes, so that the reader gets back
// to reading.
const (
	maxBurst = 64
	maxTurn  = 4 * maxBurst
)

// refillHoldMax bounds how long freed slots wait (see holdLocked).
var refillHoldMax = time.Millisecond

// holdRTT: slots freed by an acknowledgement that took longer are not
// held (see holdLocked).
var holdRTT = 5 * time.Millisecond

// flushBytes: the send path writes once this much is encoded.
const flushBytes = 64 << 10

// sendStop says why a run of the send path stopped.
type sendStop int

const (
	stopFull  sendStop = iota // every slot in flight: the reader goes on when they are acknowledged
	stopEmpty                 // nothing to take from the queue: wait for an append
	stopPace                  // records held back by the pace until sendState.heldAt
	stopTurn                  // maxTurn records written: run again
)

// sendState is the state of the send path, guarded by uplink.smu.
type sendState struct {
	window   int // most QoS 1 and 2 records in flight
	used     int // QoS 1 and 2 records in flight
	pace     *pacer
	held     []storefwd.Record // taken from the queue, held back by the pace; first in line
	reserved bool              // held[0] has its pace tokens
	heldAt   time.Time         // when held[0] may go
	recs     []storefwd.Record // scratch of TryNextBatch
	buf      []byte            // encoded, not written yet
	qos0     []uint64          // QoS 0 records in buf, acknowledged once written
	pub      packet.Publish    // scratch of encodeLocked
	flights  []pidFlight       // scratch of encodeLocked
	onQueue  bool              // the sender waits for an append
	holding  bool              // the reader left freed slots for later (holdLocked)
}

type pidFlight struct {
	pid uint16
	f   flight
}

// sendLocked runs the send path: it writes what the free slots, the
// queue and the pace allow, at most maxTurn records. u.smu must be held.
func (u *uplink) sendLocked() (sendStop, error) {
	s := &u.send
	b := u.b
	if s.holding {
		s.holding = false
		u.hold.Stop()
	}
	for sent := 0; ; {
		free := s.window - s.used
		switch {
		case free <= 0:
			_, err := u.flushLocked()
			return stopFull, err
		case sent >= maxTurn:
			_, err := u.flushLocked()
			return stopTurn, err
		case len(s.held) > 0 && time.Now().Before(s.heldAt):
			_, err := u.flushLocked()
			return stopPace, err
		}
		// The held records first, then the queue's next.
		var recs []storefwd.Record
		fromHeld := len(s.held) > 0
		if fromHeld {
			recs = s.held[:min(len(s.held), free, maxBurst)]
		} else {
			var err error
			s.recs, _, err = b.q.TryNextBatch(s.recs[:0], min(free, maxBurst))
			if err != nil {
				return 0, fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
			}
			if len(s.recs) == 0 {
				acked, err := u.flushLocked()
				if err != nil || !acked {
					return stopEmpty, err
				}
				continue // QoS 0 acknowledgements made room in the window
			}
			recs = s.recs
		}
		n, err := u.encodeLocked(recs)
		if err != nil {
			return 0, err
		}
		sent += n
		switch {
		case fromHeld:
			s.held = s.held[n:]
		case n < len(recs):
			s.held = append(s.held[:0], recs[n:]...)
		}
		if len(s.buf) >= flushBytes {
			if _, err := u.flushLocked(); err != nil {
				return 0, err
			}
		}
	}
}

// encodeLocked appends the PUBLISHes of recs to the send buffer, taking
// their slots, until the pace holds one back: n < len(recs) means recs[n]
// has its tokens and may go at s.heldAt. An undecodable record, or one
// beyond the uplink's limits, is dropped.
func (u *uplink) encodeLocked(recs []storefwd.Record) (n int, err error) {
	s := &u.send
	b := u.b
	var now time.Time
	if s.pace.rate != 0 || s.pace.byteRate != 0 {
		now = time.Now()
	}
	b.mu.Lock()
	maxSent, sentAny := b.maxSent, b.sentAny
	b.mu.Unlock()
	var resent uint64
	var sentAt time.Time // of the flights
	flights := s.flights[:0]
	defer func() {
		b.mu.Lock()
		b.maxSent, b.sentAny = maxSent, sentAny
		b.st.Resent += resent
		b.mu.Unlock()
		if len(flights) > 0 {
			u.mu.Lock()
			for _, f := range flights {
				u.inflight[f.pid] = f.f
			}
			u.mu.Unlock()
		}
		s.flights = flights[:0]
	}()
	for i, rec := range recs {
		if i > 0 || !s.reserved {
			if wait := s.pace.reserve(now, len(rec.Data)); wait > 0 {
				s.reserved, s.heldAt = true, now.Add(wait)
				return i, nil
			}
		}
		s.reserved = false
		topicName, payload, qos, retain, err := decodeRecord(rec.Data)
		if err != nil {
			b.log.Error("dropping record", "seq", rec.Seq, "err", err)
			b.count(func(s *Stats) { s.Refused++ })
			if err := b.q.Ack(rec.Seq); err != nil {
				return i, fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
			}
			continue
		}
		if reason, detail := b.cfg.Limits.check(topicName, len(payload)); reason != "" {
			b.dropForLimit(rec.Seq, topicName, reason, detail)
			if err := b.q.Ack(rec.Seq); err != nil {
				return i, fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
			}
			continue
		}
		qos = min(qos, u.maxQoS)
		p := &s.pub
		*p = packet.Publish{Topic: topicName, Payload: payload, QoS: qos, Retain: retain}
		if b.cfg.SequenceProperty && u.version == packet.Version5 {
			p.Properties.User = []packet.UserProperty{{Key: SequenceKey, Value: strconv.FormatUint(rec.Seq, 10)}}
		}
		if sentAny && rec.Seq <= maxSent {
			resent++
			p.Dup = qos > 0
		} else {
			maxSent, sentAny = rec.Seq, true
		}
		if qos > 0 {
			p.PacketID = recordPID(rec.Seq)
			// In the map before the write, so before its PUBACK can come.
			if sentAt.IsZero() {
				sentAt = time.Now()
			}
			flights = append(flights, pidFlight{p.PacketID, flight{seq: rec.Seq, sent: sentAt}})
			s.used++
		} else {
			s.qos0 = append(s.qos0, rec.Seq)
		}
		s.buf, err = packet.Append(s.buf, p, u.version)
		if err != nil {
			return i, fmt.Errorf("bridge %q: encode PUBLISH: %w", b.cfg.Name, err)
		}
	}
	return len(recs), nil
}

// flushLocked writes the send buffer, then acknowledges the QoS 0
// records in it; acked reports that it acknowledged some.
func (u *uplink) flushLocked() (acked bool, err error) {
	s := &u.send
	if len(s.buf) == 0 {
		return false, nil
	}
	err = u.writeRaw(s.buf)
	if cap(s.buf) > 4*flushBytes {
		s.buf = nil // after a burst of large records
	} else {
		s.buf = s.buf[:0]
	}
	if err != nil || len(s.qos0) == 0 {
		return false, err
	}
	b := u.b
	n := uint64(len(s.qos0))
	b.count(func(s *Stats) { s.Forwarded += n })
	err = b.q.AckBatch(s.qos0)
	s.qos0 = s.qos0[:0]
	if err != nil {
		return false, fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
	}
	return true, nil
}

// sender runs the send path when records are appended to the queue while
// slots are free, when the pace lets held records go, and when the reader
// asks (u.wake).
func (u *uplink) sender(ctx context.Context) error {
	q := u.b.q
	for {
		u.smu.Lock()
		appended := q.Appended() // before looking, so that no append is missed
		stop, err := u.sendLocked()
		u.send.onQueue = stop == stopEmpty
		heldAt := u.send.heldAt
		u.smu.Unlock()
		if err != nil {
			return err
		}
		var wait <-chan struct{}
		var paced *time.Timer
		var pacedC <-chan time.Time
		switch stop {
		case stopTurn:
			continue
		case stopEmpty:
			wait = appended
		case stopPace:
			paced = time.NewTimer(time.Until(heldAt))
			pacedC = paced.C
		}
		select {
		case <-ctx.Done():
			if paced != nil {
				paced.Stop()
			}
			return ctx.Err()
		case <-wait:
		case <-pacedC:
		case <-u.wake:
		}
		if paced != nil {
			paced.Stop()
		}
	}
}

// refill acknowledges in the queue the records the uplink has
// acknowledged (acks), frees their slots and runs the send path to fill
// them; it wakes the sender for what the reader leaves to it.
func (u *uplink) refill(acks *ackBatch) error {
	if len(acks.seqs) == 0 {
		return nil
	}
	b := u.b
	err := b.q.AckBatch(acks.seqs)
	freed, forwarded := len(acks.seqs), acks.forwarded
	slow := !acks.oldest.IsZero() && time.Since(acks.oldest) > holdRTT
	acks.seqs, acks.forwarded, acks.oldest = acks.seqs[:0], 0, time.Time{}
	if forwarded > 0 {
		b.count(func(s *Stats) { s.Forwarded += forwarded })
	}
	if err != nil {
		return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
	}
	u.smu.Lock()
	u.send.used -= freed
	if !slow && u.holdLocked() {
		u.smu.Unlock()
		return nil
	}
	stop, err := u.sendLocked()
	wake := stop == stopTurn || stop == stopPace || (stop == stopEmpty && !u.send.onQueue)
	u.smu.Unlock()
	if wake {
		u.kick()
	}
	return err
}

// holdLocked reports whether the reader should leave the slots it has
// just freed for later: while fewer than a quarter of the window are free
// and acknowledgements are still to come. The first hold arms u.hold.
// u.smu must be held.
func (u *uplink) holdLocked() bool {
	s := &u.send
	if s.used == 0 || s.window-s.used >= max(1, s.window/4) {
		return false
	}
	if !s.holding {
		s.holding = true
		if u.hold == nil {
			u.hold = time.AfterFunc(refillHoldMax, u.kick)
		} else {
			u.hold.Reset(refillHoldMax)
		}
	}
	return true
}

// kick asks the sender to run the send path.
func (u *uplink) kick() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// dropForLimit counts and logs (rate-limited) a record that breaks the
// uplink's Limits; the caller acknowledges it in the queue.
func (b *Bridge) dropForLimit(seq uint64, topicName, reason, detail string) {
	b.count(func(s *Stats) {
		if reason == reasonOversize {
			s.Oversize++
		} else {
			s.TopicLimit++
		}
		s.LastError = "dropped a message beyond the uplink's limits: " + detail
	})
	if ok, held := b.limitLog.allow(time.Now(), LimitLogInterval); ok {
		b.log.Warn("dropping a message beyond the uplink's limits", "reason", reason, "detail", detail,
			"topic", topicName, "seq", seq, "similar_not_logged", held)
	}
}

func (b *Bridge) count(f func(*Stats)) {
	b.mu.Lock()
	f(&b.st)
	b.mu.Unlock()
}

// ackBatch is what the reader collects from the uplink's
// acknowledgements until its buffer is empty.
type ackBatch struct {
	seqs      []uint64  // records acknowledged or refused, to acknowledge in the queue
	forwarded uint64    // of them, acknowledged
	oldest    time.Time // when the earliest of them was sent
}

// complete ends the flight of pid: the uplink acknowledged (or refused)
// it, so it goes into acks, to leave the queue and free its slot.
func (u *uplink) complete(pid uint16, code packet.ReasonCode, acks *ackBatch) {
	u.mu.Lock()
	f, ok := u.inflight[pid]
	delete(u.inflight, pid)
	u.mu.Unlock()
	if !ok {
		return // the birth, or a stray acknowledgement
	}
	b := u.b
	if code.IsError() {
		b.log.Warn("uplink refused a message", "seq", f.seq, "reason", fmt.Sprintf("0x%02x", byte(code)))
		b.count(func(s *Stats) {
			s.Refused++
			s.LastError = fmt.Sprintf("uplink refused a message: reason 0x%02x", byte(code))
		})
	} else {
		acks.forwarded++
	}
	if acks.oldest.IsZero() || f.sent.Before(acks.oldest) {
		acks.oldest = f.sent
	}
	acks.seqs = append(acks.seqs, f.seq)
}

// reader handles what the uplink sends. It collects the acknowledgements
// that arrived together and then refills their slots (refill) before it
// waits for the next read.
func (u *uplink) reader(ctx context.Context, br *bufio.Reader) error {
	b := u.b
	var acks ackBatch
	defer func() {
		// What the uplink acknowledged need not be sent again.
		if len(acks.seqs) > 0 {
			b.q.AckBatch(acks.seqs)
			b.count(func(s *Stats) { s.Forwarded += acks.forwarded })
		}
	}()
	for {
		if br.Buffered() == 0 {
			if err := u.refill(&acks); err != nil {
				return err
			}
			u.conn.SetReadDeadline(time.Now().Add(b.cfg.KeepAlive + b.cfg.KeepAlive/2))
			if ctx.Err() != nil {
				// The session ended and set a past deadline, perhaps
				// before the line above replaced it.
				return ctx.Err()
			}
		}
		p, err := packet.Read(br, maxInPacket, u.version)
		if err != nil {
			return fmt.Errorf("bridge %q: read: %w", b.cfg.Name, err)
		}
		switch p := p.(type) {
		case *packet.Ack:
			switch p.Kind {
			case packet.PUBACK, packet.PUBCOMP:
				u.complete(p.PacketID, p.ReasonCode, &acks)
			case packet.PUBREC:
				if p.ReasonCode.IsError() {
					u.complete(p.PacketID, p.ReasonCode, &acks)
				} else {
					err = u.write(&packet.Ack{Kind: packet.PUBREL, PacketID: p.PacketID})
				}
			case packet.PUBREL:
				u.mu.Lock()
				delete(u.inQoS2, p.PacketID)
				u.mu.Unlock()
				err = u.write(&packet.Ack{Kind: packet.PUBCOMP, PacketID: p.PacketID})
			}
		case *packet.Publish:
			err = u.onRemote(ctx, p)
		case *packet.Suback:
			for i, c := range p.ReasonCodes {
				if c.IsError() && i < len(b.cfg.In) {
					b.log.Error("uplink refused a subscription", "filter", b.cfg.In[i].Remote, "code", fmt.Sprintf("0x%02x", byte(c)))
				}
			}
		case *packet.Pingresp:
		case *packet.Disconnect:
			return fmt.Errorf("bridge %q: uplink disconnected: reason 0x%02x", b.cfg.Name, byte(p.ReasonCode))
		default:
			return fmt.Errorf("bridge %q: unexpected %s from the uplink", b.cfg.Name, p.Type())
		}
		if err != nil {
			return err
		}
	}
}

// onRemote republishes a message of an "in" rule locally.
func (u *uplink) onRemote(ctx context.Context, p *packet.Publish) error {
	b := u.b
	if p.QoS == 2 {
		u.mu.Lock()
		seen := u.inQoS2[p.PacketID]
		u.inQoS2[p.PacketID] = true
		u.mu.Unlock()
		if seen {
			return u.write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
		}
	}
	for _, r := range b.cfg.In {
		local, ok := mapTopic(r.Remote, r.Local, p.Topic)
		if !ok {
			continue
		}
		if err := b.local.Publish(ctx, local, p.Payload, p.QoS, p.Retain); err != nil {
			b.log.Warn("local republish failed", "topic", local, "err", err)
			if ctx.Err() != nil {
				return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
			}
		} else {
			b.count(func(s *Stats) { s.Received++ })
		}
		break
	}
	switch p.QoS {
	case 1:
		return u.write(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
	case 2:
		return u.write(&packet.Ack{Kind: packet.PUBREC, PacketID: p.PacketID})
	}
	return nil
}

// keeper sends PINGREQ when idle and ends the session when an
// acknowledgement is overdue.
func (u *uplink) keeper(ctx context.Context) error {
	b := u.b
	tick := min(b.cfg.KeepAlive/2, b.cfg.AckTimeout/4, time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now := time.Now()
		u.mu.Lock()
		var oldest time.Time
		for _, f := range u.inflight {
			if oldest.IsZero() || f.sent.Before(oldest) {
				oldest = f.sent
			}
		}
		u.mu.Unlock()
		if !oldest.IsZero() && now.Sub(oldest) > b.cfg.AckTimeout {
			return fmt.Errorf("bridge %q: %w (%v)", b.cfg.Name, ErrAckTimeout, b.cfg.AckTimeout)
		}
		u.wmu.Lock()
		idle := now.Sub(u.last)
		u.wmu.Unlock()
		if idle >= b.cfg.KeepAlive/2 {
			if err := u.write(&packet.Pingreq{}); err != nil {
				return err
			}
		}
	}
}
