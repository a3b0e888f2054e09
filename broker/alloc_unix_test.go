//go:build unix && !race

// The race detector makes sync.Pool drop items at random: these counts
// hold only without it.

package broker

import (
	"io"
	"net"
	"testing"
)

func TestBufPoolAllocatesNothingWhenWarm(t *testing.T) {
	putBuf(getBuf())
	n := testing.AllocsPerRun(100, func() {
		b := getBuf()
		b = append(b, "payload"...)
		putBuf(b)
	})
	if n != 0 {
		t.Errorf("getBuf+putBuf: %v allocations, want 0", n)
	}
	if b := getBuf(); len(b) != 0 || cap(b) < newBufSize {
		t.Errorf("getBuf: len %d cap %d", len(b), cap(b))
	}
}

func TestTryWriteAllocatesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		peer <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pc := <-peer
	if pc == nil {
		t.Fatal("accept failed")
	}
	defer pc.Close()
	rc := rawConnOf(nc)
	msg := []byte{0x40, 0x02, 0x00, 0x01} // a PUBACK
	var written int
	n := testing.AllocsPerRun(100, func() {
		k, err := tryWrite(rc, msg)
		if err != nil {
			t.Fatal(err)
		}
		written += k
	})
	if n != 0 {
		t.Errorf("tryWrite: %v allocations, want 0", n)
	}
	// AllocsPerRun makes one warm-up call more than it counts.
	if want := 101 * len(msg); written != want {
		t.Fatalf("wrote %d bytes, want %d", written, want)
	}
	got := make([]byte, written)
	if _, err := io.ReadFull(pc, got); err != nil {
		t.Fatal(err)
	}
}
