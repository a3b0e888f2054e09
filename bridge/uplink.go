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

	mu       sync.Mutex
	inflight map[uint16]flight
	inQoS2   map[uint16]bool // incoming QoS 2 awaiting PUBREL
	slots    chan struct{}
	maxQoS   byte // the uplink's maximum QoS (v5 CONNACK); 2 otherwise
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
	u.slots = make(chan struct{}, max(1, min(cfg.Window, recvMax-1)))
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

// maxBurst bounds the records encoded into one write.
const maxBurst = 64

// sender forwards queued records in order: it waits for the first record
// and an in-flight slot, then takes whatever else is ready (up to
// maxBurst, slots and pace allowing) into the same write.
func (u *uplink) sender(ctx context.Context) error {
	b := u.b
	pace := newPacer(b.cfg.MaxRate, b.cfg.MaxByteRate)
	var buf []byte
	var acked []uint64 // QoS 0 records, acknowledged once written
	for {
		rec, err := b.q.Next(ctx)
		if err != nil {
			return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
		}
		select {
		case u.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		buf, acked = buf[:0], acked[:0]
		for n := 0; ; n++ {
			if wait := pace.reserve(time.Now(), len(rec.Data)); wait > 0 {
				// Send what is encoded, then keep the pace.
				if err := u.flushBurst(buf, acked); err != nil {
					return err
				}
				buf, acked = buf[:0], acked[:0]
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
			if buf, acked, err = u.encode(buf, acked, rec); err != nil {
				return err
			}
			if n+1 >= maxBurst {
				break
			}
			slot := false
			select {
			case u.slots <- struct{}{}:
				slot = true
			default:
			}
			if !slot {
				break
			}
			next, ok, err := b.q.TryNext()
			if err != nil {
				return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
			}
			if !ok {
				u.release()
				break
			}
			rec = next
		}
		if err := u.flushBurst(buf, acked); err != nil {
			return err
		}
	}
}

// encode appends the PUBLISH of rec to buf, with its slot taken; a QoS 0
// record's sequence goes to acked. An undecodable record is dropped.
func (u *uplink) encode(buf []byte, acked []uint64, rec storefwd.Record) ([]byte, []uint64, error) {
	b := u.b
	topicName, payload, qos, retain, err := decodeRecord(rec.Data)
	if err != nil {
		b.log.Error("dropping record", "seq", rec.Seq, "err", err)
		u.release()
		b.count(func(s *Stats) { s.Refused++ })
		return buf, acked, b.q.Ack(rec.Seq)
	}
	if reason, detail := b.cfg.Limits.check(topicName, len(payload)); reason != "" {
		b.dropForLimit(rec.Seq, topicName, reason, detail)
		u.release()
		return buf, acked, b.q.Ack(rec.Seq)
	}
	qos = min(qos, u.maxQoS)
	p := &packet.Publish{Topic: topicName, Payload: payload, QoS: qos, Retain: retain}
	if b.cfg.SequenceProperty && u.version == packet.Version5 {
		p.Properties.User = []packet.UserProperty{{Key: SequenceKey, Value: strconv.FormatUint(rec.Seq, 10)}}
	}
	b.mu.Lock()
	if b.sentAny && rec.Seq <= b.maxSent {
		b.st.Resent++
		p.Dup = qos > 0
	} else {
		b.maxSent, b.sentAny = rec.Seq, true
	}
	b.mu.Unlock()
	if qos > 0 {
		p.PacketID = recordPID(rec.Seq)
		u.mu.Lock()
		u.inflight[p.PacketID] = flight{seq: rec.Seq, sent: time.Now()}
		u.mu.Unlock()
	} else {
		acked = append(acked, rec.Seq)
	}
	buf, err = packet.Append(buf, p, u.version)
	if err != nil {
		return buf, acked, fmt.Errorf("bridge %q: encode PUBLISH: %w", b.cfg.Name, err)
	}
	return buf, acked, nil
}

// flushBurst writes buf and then acknowledges the QoS 0 records in it.
func (u *uplink) flushBurst(buf []byte, acked []uint64) error {
	if len(buf) == 0 {
		return nil
	}
	if err := u.writeRaw(buf); err != nil {
		return err
	}
	b := u.b
	for _, seq := range acked {
		u.release()
		b.count(func(s *Stats) { s.Forwarded++ })
		if err := b.q.Ack(seq); err != nil {
			return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
		}
	}
	return nil
}

func (u *uplink) release() { <-u.slots }

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

// complete ends the flight of pid: the uplink acknowledged (or refused)
// it, so it leaves the queue. freed reports that its in-flight slot is
// free: the caller releases it (the reader releases the slots of all the
// acknowledgements it has buffered at once, so that the sender fills
// them with one write instead of one write per acknowledgement).
func (u *uplink) complete(pid uint16, code packet.ReasonCode) (freed bool, err error) {
	u.mu.Lock()
	f, ok := u.inflight[pid]
	delete(u.inflight, pid)
	u.mu.Unlock()
	if !ok {
		return false, nil // the birth, or a stray acknowledgement
	}
	b := u.b
	if code.IsError() {
		b.log.Warn("uplink refused a message", "seq", f.seq, "reason", fmt.Sprintf("0x%02x", byte(code)))
		b.count(func(s *Stats) {
			s.Refused++
			s.LastError = fmt.Sprintf("uplink refused a message: reason 0x%02x", byte(code))
		})
	} else {
		b.count(func(s *Stats) { s.Forwarded++ })
	}
	if err := b.q.Ack(f.seq); err != nil {
		return true, fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
	}
	return true, nil
}

// reader handles what the uplink sends.
func (u *uplink) reader(ctx context.Context, br *bufio.Reader) error {
	b := u.b
	free := 0 // in-flight slots freed and not yet released
	defer func() {
		for ; free > 0; free-- {
			u.release()
		}
	}()
	for {
		if br.Buffered() == 0 {
			// Nothing more buffered: hand the freed slots to the sender
			// before waiting for the next read.
			for ; free > 0; free-- {
				u.release()
			}
			u.conn.SetReadDeadline(time.Now().Add(b.cfg.KeepAlive + b.cfg.KeepAlive/2))
		}
		p, err := packet.Read(br, maxInPacket, u.version)
		if err != nil {
			return fmt.Errorf("bridge %q: read: %w", b.cfg.Name, err)
		}
		var freed bool
		switch p := p.(type) {
		case *packet.Ack:
			switch p.Kind {
			case packet.PUBACK, packet.PUBCOMP:
				freed, err = u.complete(p.PacketID, p.ReasonCode)
			case packet.PUBREC:
				if p.ReasonCode.IsError() {
					freed, err = u.complete(p.PacketID, p.ReasonCode)
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
		if freed {
			free++
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
