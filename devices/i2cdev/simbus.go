package i2cdev

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// ErrNACK is the error of a simulated transaction to an address where no
// chip answers, as a real bus reports a missing acknowledge.
var ErrNACK = errors.New("no acknowledge")

// ErrBusClosed is the error of a transaction on a closed SimBus.
var ErrBusClosed = errors.New("bus closed")

// SimChip is a simulated chip: a register pointer and a memory.
//
// Its memory is laid out from Registers: each key's bytes are placed at
// key, key+1, .... Addresses not set read as 0x00.
type SimChip struct {
	// Addr is the chip's 7-bit address.
	Addr uint16
	// PointerBytes is the size of the register pointer: 1 (0: the
	// default, as the BME280) or 2 (as the SHT3x, whose commands are 16
	// bits), big-endian.
	PointerBytes int
	// Registers are the initial memory contents, by start address.
	Registers map[uint16][]byte
}

// simChip is a SimChip on a bus.
type simChip struct {
	ptrBytes int
	mask     uint32 // highest address
	ptr      uint32
	mem      map[uint32]byte
}

// SimBus is a simulated I²C bus: it implements i2c.BusCloser over
// SimChips. A transaction writes first, then reads:
//
//   - its first PointerBytes written bytes set the chip's register
//     pointer, the bytes after them are stored at pointer, pointer+1, ...
//     (the pointer advances with them);
//   - read bytes come from the pointer on, which advances (wrapping at
//     the pointer's width); unset addresses read as 0x00;
//   - a transaction to an address without a chip fails with ErrNACK; a
//     transaction that writes fewer bytes than the pointer's (but some)
//     fails too.
//
// A write to a control register is just stored: the simulated chips do
// not measure. It is safe for concurrent use.
type SimBus struct {
	mu     sync.Mutex
	chips  map[uint16]*simChip
	err    error
	closed bool
}

var _ i2c.BusCloser = (*SimBus)(nil)

// NewSimBus returns a bus holding chips. It fails if two chips share an
// address, an address is not 7-bit, PointerBytes is not 0, 1 or 2, or a
// register image does not fit its chip's address space.
func NewSimBus(chips ...SimChip) (*SimBus, error) {
	b := &SimBus{chips: make(map[uint16]*simChip)}
	for _, c := range chips {
		if c.Addr > 0x7F {
			return nil, fmt.Errorf("i2cdev: sim chip %#x: address is not 7-bit", c.Addr)
		}
		if b.chips[c.Addr] != nil {
			return nil, fmt.Errorf("i2cdev: sim chip %#x: two chips at this address", c.Addr)
		}
		sc := &simChip{ptrBytes: c.PointerBytes, mem: make(map[uint32]byte)}
		switch c.PointerBytes {
		case 0, 1:
			sc.ptrBytes, sc.mask = 1, 0xFF
		case 2:
			sc.mask = 0xFFFF
		default:
			return nil, fmt.Errorf("i2cdev: sim chip %#x: pointer bytes must be 1 or 2, got %d", c.Addr, c.PointerBytes)
		}
		for reg, data := range c.Registers {
			if uint32(reg)+uint32(len(data)) > sc.mask+1 {
				return nil, fmt.Errorf("i2cdev: sim chip %#x: register %#x: %d bytes do not fit a %d-byte pointer",
					c.Addr, reg, len(data), sc.ptrBytes)
			}
			for i, v := range data {
				sc.mem[uint32(reg)+uint32(i)] = v
			}
		}
		b.chips[c.Addr] = sc
	}
	return b, nil
}

// String implements i2c.Bus.
func (b *SimBus) String() string { return "simbus" }

// SetSpeed implements i2c.Bus; the speed is ignored.
func (b *SimBus) SetSpeed(physic.Frequency) error { return nil }

// Close implements i2c.BusCloser: later transactions fail with
// ErrBusClosed.
func (b *SimBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// Closed reports whether Close was called.
func (b *SimBus) Closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// SetError makes every later transaction fail with err, as an unplugged
// bus does; nil clears it.
func (b *SimBus) SetError(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

// Tx implements i2c.Bus.
func (b *SimBus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return fmt.Errorf("i2cdev: %s: %w", b, ErrBusClosed)
	case b.err != nil:
		return b.err
	}
	c := b.chips[addr]
	if c == nil {
		return fmt.Errorf("i2cdev: %s: address %#x: %w", b, addr, ErrNACK)
	}
	if len(w) > 0 {
		if len(w) < c.ptrBytes {
			return fmt.Errorf("i2cdev: %s: address %#x: wrote %d bytes, the register pointer takes %d", b, addr, len(w), c.ptrBytes)
		}
		c.ptr = 0
		for _, v := range w[:c.ptrBytes] {
			c.ptr = c.ptr<<8 | uint32(v)
		}
		for _, v := range w[c.ptrBytes:] {
			c.mem[c.ptr] = v
			c.ptr = (c.ptr + 1) & c.mask
		}
	}
	for i := range r {
		r[i] = c.mem[c.ptr]
		c.ptr = (c.ptr + 1) & c.mask
	}
	return nil
}

// Set stores data in the memory of the chip at addr from register reg
// on, as a write transaction would, without moving its pointer.
func (b *SimBus) Set(addr, reg uint16, data ...byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.chips[addr]
	if c == nil {
		return fmt.Errorf("i2cdev: %s: address %#x: %w", b, addr, ErrNACK)
	}
	for i, v := range data {
		c.mem[(uint32(reg)+uint32(i))&c.mask] = v
	}
	return nil
}

// Get returns n bytes of the memory of the chip at addr from register
// reg on, without moving its pointer.
func (b *SimBus) Get(addr, reg uint16, n int) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.chips[addr]
	if c == nil {
		return nil, fmt.Errorf("i2cdev: %s: address %#x: %w", b, addr, ErrNACK)
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = c.mem[(uint32(reg)+uint32(i))&c.mask]
	}
	return out, nil
}
