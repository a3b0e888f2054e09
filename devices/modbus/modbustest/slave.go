package modbustest

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/edgemq/edgemq/devices/modbus"
)

// Slave simulates the slaves on one bus. Unset addresses read as zero and
// every address from 0 to 65535 exists, unless an exception is set for it.
// Requests to ids that were never added go unanswered, as on a real bus.
// Its methods are safe for concurrent use with Serve.
type Slave struct {
	port io.ReadWriter

	mu       sync.Mutex
	units    map[byte]*unit
	requests int
}

type unit struct {
	coils, discrete map[uint16]bool
	holding, input  map[uint16]uint16
	silent          bool
	exceptions      map[excKey]modbus.ExceptionCode
}

type excKey struct {
	fn   byte // 0: any function
	addr uint16
}

// NewSlave returns a simulator answering for ids on port. Serve must be
// called to answer requests.
func NewSlave(port io.ReadWriter, ids ...byte) *Slave {
	s := &Slave{port: port, units: make(map[byte]*unit)}
	for _, id := range ids {
		s.unit(id)
	}
	return s
}

// unit returns the unit for id, adding it; s.mu must be held.
func (s *Slave) unit(id byte) *unit {
	u := s.units[id]
	if u == nil {
		u = &unit{
			coils: map[uint16]bool{}, discrete: map[uint16]bool{},
			holding: map[uint16]uint16{}, input: map[uint16]uint16{},
			exceptions: map[excKey]modbus.ExceptionCode{},
		}
		s.units[id] = u
	}
	return u
}

// AddID makes the simulator answer for id too.
func (s *Slave) AddID(id byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unit(id)
}

// SetCoils sets coils of id from addr on.
func (s *Slave) SetCoils(id byte, addr uint16, v ...bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range v {
		s.unit(id).coils[addr+uint16(i)] = b
	}
}

// Coil returns a coil of id.
func (s *Slave) Coil(id byte, addr uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unit(id).coils[addr]
}

// SetDiscreteInputs sets discrete inputs of id from addr on.
func (s *Slave) SetDiscreteInputs(id byte, addr uint16, v ...bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range v {
		s.unit(id).discrete[addr+uint16(i)] = b
	}
}

// DiscreteInput returns a discrete input of id.
func (s *Slave) DiscreteInput(id byte, addr uint16) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unit(id).discrete[addr]
}

// SetHoldingRegisters sets holding registers of id from addr on.
func (s *Slave) SetHoldingRegisters(id byte, addr uint16, v ...uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range v {
		s.unit(id).holding[addr+uint16(i)] = r
	}
}

// HoldingRegisters returns n holding registers of id from addr on.
func (s *Slave) HoldingRegisters(id byte, addr uint16, n int) []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint16, n)
	for i := range out {
		out[i] = s.unit(id).holding[addr+uint16(i)]
	}
	return out
}

// SetInputRegisters sets input registers of id from addr on.
func (s *Slave) SetInputRegisters(id byte, addr uint16, v ...uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range v {
		s.unit(id).input[addr+uint16(i)] = r
	}
}

// InputRegisters returns n input registers of id from addr on.
func (s *Slave) InputRegisters(id byte, addr uint16, n int) []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]uint16, n)
	for i := range out {
		out[i] = s.unit(id).input[addr+uint16(i)]
	}
	return out
}

// SetSilent makes id ignore requests (true) or answer them again (false).
func (s *Slave) SetSilent(id byte, silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unit(id).silent = silent
}

// SetException makes id answer with code to any request of function fn (0
// for every function) whose address range includes addr. A zero code
// removes the exception.
func (s *Slave) SetException(id, fn byte, addr uint16, code modbus.ExceptionCode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := excKey{fn, addr}
	if code == 0 {
		delete(s.unit(id).exceptions, k)
		return
	}
	s.unit(id).exceptions[k] = code
}

// Requests returns how many well-formed requests (any id, answered or
// not) Serve has received.
func (s *Slave) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Serve reads requests and answers them until ctx is done or the port
// fails. It returns nil when ctx is done or the port was closed
// (io.ErrClosedPipe, net.ErrClosed, os.ErrClosed), and the error
// otherwise. A read of (0, io.EOF) counts as a serial read timeout, not
// the end, so on a port without deadlines cancel ctx and close the port
// to stop Serve. On ports with SetReadDeadline (net.Conn, pollable
// *os.File) cancelling ctx interrupts a pending read at once. The master
// side of a pseudo-terminal from github.com/creack/pty is in blocking mode
// (pty.Open calls Fd): there, cancel ctx and then close the terminal side;
// the read fails (EIO) and, ctx being done, Serve returns nil.
//
// Frames are found by the request length each function code implies
// (15 and 16 carry a byte count). Bytes that cannot start a known request
// or fail the CRC are dropped, which resynchronises on the next request.
func (s *Slave) Serve(ctx context.Context) error {
	type deadliner interface{ SetDeadline(time.Time) error }
	if d, ok := s.port.(deadliner); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetDeadline(time.Now()) })
		defer stop()
	}
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 256)
	for {
		if ctx.Err() != nil {
			return nil
		}
		n, err := s.port.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for {
			l, ok := requestLen(buf)
			if !ok {
				buf = buf[:0]
				break
			}
			if l == 0 || len(buf) < l {
				break
			}
			frame := buf[:l]
			if resp := s.handle(frame); resp != nil {
				if _, werr := s.port.Write(resp); werr != nil {
					if ctx.Err() != nil || closed(werr) {
						return nil
					}
					return werr
				}
			}
			buf = append(buf[:0], buf[l:]...)
		}
		if err != nil {
			switch {
			case ctx.Err() != nil || closed(err):
				return nil
			case errors.Is(err, io.EOF) && n == 0:
				time.Sleep(5 * time.Millisecond)
			case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, io.EOF):
			default:
				return err
			}
		}
	}
}

func closed(err error) bool {
	return errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed)
}

// requestLen returns the length of the request at the start of b, 0 if
// more bytes are needed to tell, and false if b cannot start a request.
func requestLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, true
	}
	switch b[1] {
	case 1, 2, 3, 4, 5, 6:
		return 8, true
	case 15, 16:
		if len(b) < 7 {
			return 0, true
		}
		return 9 + int(b[6]), true
	}
	return 0, false
}

// handle answers one complete request frame; nil means no answer.
func (s *Slave) handle(f []byte) []byte {
	if !modbus.CheckCRC(f) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	id, fn := f[0], f[1]
	u := s.units[id]
	if id != modbus.BroadcastID && (u == nil || u.silent) {
		return nil
	}
	addr := uint16(f[2])<<8 | uint16(f[3])
	val := uint16(f[4])<<8 | uint16(f[5])
	qty := int(val)
	if fn == 5 || fn == 6 {
		qty = 1
	}
	if code := check(f, fn, addr, val, qty); code != 0 {
		if id == modbus.BroadcastID {
			return nil
		}
		return except(id, fn, code)
	}
	if id == modbus.BroadcastID {
		if fn >= 5 {
			for _, u := range s.units {
				if !u.silent {
					u.apply(f, addr, val, qty)
				}
			}
		}
		return nil
	}
	for k, c := range u.exceptions {
		if (k.fn == 0 || k.fn == fn) && int(k.addr) >= int(addr) && int(k.addr) < int(addr)+qty {
			return except(id, fn, c)
		}
	}
	resp := []byte{id, fn}
	switch fn {
	case 1, 2:
		tab := u.coils
		if fn == 2 {
			tab = u.discrete
		}
		bits := make([]byte, (qty+7)/8)
		for i := range qty {
			if tab[addr+uint16(i)] {
				bits[i/8] |= 1 << (i % 8)
			}
		}
		resp = append(append(resp, byte(len(bits))), bits...)
	case 3, 4:
		tab := u.holding
		if fn == 4 {
			tab = u.input
		}
		resp = append(resp, byte(2*qty))
		for i := range qty {
			r := tab[addr+uint16(i)]
			resp = append(resp, byte(r>>8), byte(r))
		}
	default:
		u.apply(f, addr, val, qty)
		resp = append(resp, f[2:6]...)
	}
	return modbus.AppendCRC(resp)
}

func except(id, fn byte, c modbus.ExceptionCode) []byte {
	return modbus.AppendCRC([]byte{id, fn | 0x80, byte(c)})
}

// check validates a request as a slave must, returning 0 or the exception
// code to answer with.
func check(f []byte, fn byte, addr, val uint16, qty int) modbus.ExceptionCode {
	var max int
	switch fn {
	case 1, 2:
		max = modbus.MaxReadBits
	case 3, 4:
		max = modbus.MaxReadRegisters
	case 5:
		if val != 0 && val != 0xFF00 {
			return modbus.IllegalDataValue
		}
		max = 1
	case 6:
		max = 1
	case 15:
		max = modbus.MaxWriteBits
		if int(f[6]) != (qty+7)/8 {
			return modbus.IllegalDataValue
		}
	case 16:
		max = modbus.MaxWriteRegisters
		if int(f[6]) != 2*qty {
			return modbus.IllegalDataValue
		}
	}
	if qty < 1 || qty > max {
		return modbus.IllegalDataValue
	}
	if int(addr)+qty > 0x10000 {
		return modbus.IllegalDataAddress
	}
	return 0
}

// apply performs a write request; s.mu must be held.
func (u *unit) apply(f []byte, addr, val uint16, qty int) {
	switch f[1] {
	case 5:
		u.coils[addr] = val == 0xFF00
	case 6:
		u.holding[addr] = val
	case 15:
		for i := range qty {
			u.coils[addr+uint16(i)] = f[7+i/8]&(1<<(i%8)) != 0
		}
	case 16:
		for i := range qty {
			u.holding[addr+uint16(i)] = uint16(f[7+2*i])<<8 | uint16(f[8+2*i])
		}
	}
}
