package bridge

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
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
		established, err := b.session()
		if b.ctx.Err() != nil {
			b.setState(false, nil)
			return
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
}

func (b *Bridge) statusTopic() string { return "edgemq/" + b.cfg.GatewayID + "/status" }

// session runs one connection; established is true once CONNACK accepted.
func (b *Bridge) session() (established bool, err error) {
	cfg := &b.cfg
	dctx, cancel := context.WithTimeout(b.ctx, cfg.DialTimeout)
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
	u := &uplink{b: b, conn: conn, version: cfg.Protocol, inflight: make(map[uint16]flight), inQoS2: make(map[uint16]bool)}
	c := &packet.Connect{
		ProtocolName: "MQTT", ProtocolVersion: cfg.Protocol, CleanStart: false,
		KeepAlive: uint16(cfg.KeepAlive / time.Second), ClientID: cfg.ClientID,
		WillFlag: true, WillQoS: 1, WillRetain: true, WillTopic: b.statusTopic(), WillPayload: []byte("offline"),
	}
	if cfg.Username != "" {
		c.UsernameFlag, c.Username = true, cfg.Username
	}
	if cfg.Password != "" {
		c.PasswordFlag, c.Password = true, []byte(cfg.Password)
	}
	if cfg.Protocol == packet.Version5 {
		c.Properties.SessionExpiry = 3600
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
	// The birth takes one of the uplink's receive slots.
	u.slots = make(chan struct{}, max(1, min(cfg.Window, recvMax-1)))
	b.q.Rewind()
	b.mu.Lock()
	b.st.Connects++
	b.mu.Unlock()
	b.setState(true, nil)
	b.log.Info("uplink connected", "address", cfg.Address, "session_present", ca.SessionPresent, "receive_maximum", recvMax)

	if err := u.write(&packet.Publish{QoS: 1, Retain: true, PacketID: pidBirth, Topic: b.statusTopic(), Payload: []byte("online")}); err != nil {
		return true, err
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

	sctx, scancel := context.WithCancel(b.ctx)
	defer scancel()
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); errc <- u.reader(sctx, br) }()
	go func() { defer wg.Done(); errc <- u.sender(sctx) }()
	go func() { defer wg.Done(); errc <- u.keeper(sctx) }()
	select {
	case err = <-errc:
	case <-b.ctx.Done():
		// Orderly: say offline (the will is dropped by DISCONNECT).
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		u.write(&packet.Publish{Retain: true, Topic: b.statusTopic(), Payload: []byte("offline")})
		u.write(&packet.Disconnect{})
		err = ErrClosed
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
	u.conn.SetWriteDeadline(time.Now().Add(u.b.cfg.DialTimeout))
	if _, err := u.conn.Write(u.wbuf); err != nil {
		return fmt.Errorf("bridge %q: write %s: %w", u.b.cfg.Name, p.Type(), err)
	}
	u.last = time.Now()
	return nil
}

// sender forwards queued records in order.
func (u *uplink) sender(ctx context.Context) error {
	b := u.b
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
		topicName, payload, qos, retain, err := decodeRecord(rec.Data)
		if err != nil {
			b.log.Error("dropping record", "seq", rec.Seq, "err", err)
			u.release()
			b.count(func(s *Stats) { s.Refused++ })
			if err := b.q.Ack(rec.Seq); err != nil {
				return err
			}
			continue
		}
		p := &packet.Publish{Topic: topicName, Payload: payload, QoS: qos, Retain: retain}
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
		}
		if err := u.write(p); err != nil {
			return err
		}
		if qos == 0 {
			u.release()
			b.count(func(s *Stats) { s.Forwarded++ })
			if err := b.q.Ack(rec.Seq); err != nil {
				return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
			}
		}
	}
}

func (u *uplink) release() { <-u.slots }

func (b *Bridge) count(f func(*Stats)) {
	b.mu.Lock()
	f(&b.st)
	b.mu.Unlock()
}

// complete ends the flight of pid: the uplink acknowledged (or refused)
// it, so it leaves the queue.
func (u *uplink) complete(pid uint16, code packet.ReasonCode) error {
	u.mu.Lock()
	f, ok := u.inflight[pid]
	delete(u.inflight, pid)
	u.mu.Unlock()
	if !ok {
		return nil // the birth, or a stray acknowledgement
	}
	u.release()
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
		return fmt.Errorf("bridge %q: %w", b.cfg.Name, err)
	}
	return nil
}

// reader handles what the uplink sends.
func (u *uplink) reader(ctx context.Context, br *bufio.Reader) error {
	b := u.b
	for {
		u.conn.SetReadDeadline(time.Now().Add(b.cfg.KeepAlive + b.cfg.KeepAlive/2))
		p, err := packet.Read(br, maxInPacket, u.version)
		if err != nil {
			return fmt.Errorf("bridge %q: read: %w", b.cfg.Name, err)
		}
		switch p := p.(type) {
		case *packet.Ack:
			switch p.Kind {
			case packet.PUBACK, packet.PUBCOMP:
				err = u.complete(p.PacketID, p.ReasonCode)
			case packet.PUBREC:
				if p.ReasonCode.IsError() {
					err = u.complete(p.PacketID, p.ReasonCode)
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
