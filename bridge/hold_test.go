package bridge

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/broker/packet"
)

// scriptedUplink is an uplink whose test decides when to acknowledge.
type scriptedUplink struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// acceptScripted accepts the bridge's connection on ln and answers its
// CONNECT; the connection is closed when the test ends.
func acceptScripted(t *testing.T, ln net.Listener) *scriptedUplink {
	t.Helper()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	u := &scriptedUplink{t: t, conn: conn, br: bufio.NewReader(conn)}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if p, err := packet.Read(u.br, 0, packet.Version311); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*packet.Connect); !ok {
		t.Fatalf("got %s, want CONNECT", p.Type())
	}
	u.send(&packet.Connack{})
	return u
}

func (u *scriptedUplink) send(p packet.Packet) {
	u.t.Helper()
	b, err := packet.Append(nil, p, packet.Version311)
	if err == nil {
		_, err = u.conn.Write(b)
	}
	if err != nil {
		u.t.Fatal(err)
	}
}

func (u *scriptedUplink) ack(p *packet.Publish) {
	u.t.Helper()
	u.send(&packet.Ack{Kind: packet.PUBACK, PacketID: p.PacketID})
}

// read returns the next PUBLISH, or nil if none comes within wait.
func (u *scriptedUplink) read(wait time.Duration) *packet.Publish {
	u.t.Helper()
	u.conn.SetReadDeadline(time.Now().Add(wait))
	if _, err := u.br.Peek(1); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		u.t.Fatal(err)
	}
	u.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := packet.Read(u.br, 0, packet.Version311)
	if err != nil {
		u.t.Fatal(err)
	}
	pub, ok := p.(*packet.Publish)
	if !ok {
		u.t.Fatalf("got %s, want PUBLISH", p.Type())
	}
	return pub
}

// expect reads the PUBLISHes of messages first, first+1, ... first+n-1.
func (u *scriptedUplink) expect(first, n int) []*packet.Publish {
	u.t.Helper()
	var out []*packet.Publish
	for i := first; i < first+n; i++ {
		p := u.read(5 * time.Second)
		if p == nil {
			u.t.Fatalf("message %d did not come", i)
		}
		if want := fmt.Sprint(i); string(p.Payload) != want {
			u.t.Fatalf("got message %q, want %q", p.Payload, want)
		}
		out = append(out, p)
	}
	return out
}

// quiet checks that no PUBLISH comes within d.
func (u *scriptedUplink) quiet(d time.Duration, why string) {
	u.t.Helper()
	if p := u.read(d); p != nil {
		u.t.Fatalf("%s: got message %q", why, p.Payload)
	}
}

// holdRig is a bridge with a window of 8 to a scripted uplink, with 40
// messages "0".."39" in its queue.
func holdRig(t *testing.T) *scriptedUplink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	srv, _ := brokertest.StartServer(t, broker.Options{})
	cfg := testConfig(t, ln.Addr().String())
	cfg.Window, cfg.NoStatus = 8, true
	newBridge(t, srv, tempDB(t), cfg)
	c, err := srv.NewClient("pub")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 40 {
		if err := c.Publish(context.Background(), "sensors/x", fmt.Append(nil, i), 1, false); err != nil {
			t.Fatal(err)
		}
	}
	return acceptScripted(t, ln)
}

// setHold sets refillHoldMax and holdRTT for one test.
func setHold(t *testing.T, holdMax, rtt time.Duration) {
	oldMax, oldRTT := refillHoldMax, holdRTT
	refillHoldMax, holdRTT = holdMax, rtt
	t.Cleanup(func() { refillHoldMax, holdRTT = oldMax, oldRTT })
}

// TestRefillWaitsForAQuarterOfTheWindow: with the window full, the slots
// freed by single PUBACKs are refilled together once a quarter of the
// window is free.
func TestRefillWaitsForAQuarterOfTheWindow(t *testing.T) {
	setHold(t, time.Hour, time.Hour)
	up := holdRig(t)
	pubs := up.expect(0, 8)
	up.quiet(100*time.Millisecond, "window of 8 full")
	up.ack(pubs[0])
	up.quiet(100*time.Millisecond, "one slot of 8 free")
	up.ack(pubs[1])
	pubs = append(pubs, up.expect(8, 2)...)
	up.quiet(100*time.Millisecond, "window full again")
	for _, p := range pubs[2:] {
		up.ack(p)
	}
	up.expect(10, 8)
}

// TestRefillHoldIsBounded: slots held back are refilled refillHoldMax
// later even if no other PUBACK comes.
func TestRefillHoldIsBounded(t *testing.T) {
	const hold = 50 * time.Millisecond
	setHold(t, hold, time.Hour)
	up := holdRig(t)
	pubs := up.expect(0, 8)
	acked := time.Now()
	up.ack(pubs[0])
	up.expect(8, 1)
	if waited := time.Since(acked); waited < hold {
		t.Errorf("slot refilled after %v, before the hold of %v ended", waited, hold)
	}
	up.quiet(100*time.Millisecond, "window full again")
}

// TestRefillNotHeldOnASlowUplink: slots freed by a PUBACK that took longer
// than holdRTT are refilled at once: on a slow link the window bounds the
// rate, and holding would lose throughput.
func TestRefillNotHeldOnASlowUplink(t *testing.T) {
	const rtt = 20 * time.Millisecond
	setHold(t, time.Hour, rtt)
	up := holdRig(t)
	pubs := up.expect(0, 8)
	time.Sleep(2 * rtt)
	up.ack(pubs[0])
	up.expect(8, 1)
	up.quiet(100*time.Millisecond, "window full again")
}
