package storefwd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/klauspost/compress/s2"
)

// On-disk layout. Every key of a queue starts with its prefix
//
//	"sf" 0x00 name 0x00
//
// followed by one tag byte:
//
//	'b' first(8) count(4) bytes(4) unixMilli(8)  -> a block of records
//	's'                                          -> the queue state
//
// Integers are big-endian, so blocks sort by their first sequence number.
// The key of a block carries what the queue needs to account for it (how
// many records, how many payload bytes, when it was committed), so that
// opening the queue and dropping old blocks never read values.
//
// A block value is
//
//	version(1)=1 commitUnixNano(8) uvarint(count)
//	count x { uvarint(len(meta)) meta uvarint(len(data)) data }
//	crc32c(4) of everything before it
//
// or, when S2 (github.com/klauspost/compress/s2, a faster Snappy) makes
// the part from uvarint(count) on at least an eighth shorter, version 2
// with that part compressed:
//
//	version(1)=2 commitUnixNano(8) s2(uvarint(count) records) crc32c(4)
//
// Messages of one bridge repeat their topics, so blocks usually shrink
// to a third or less: less disk, less SD-card wear, fewer value-log pages
// resident. Both versions are read.
//
// The state value is version(1)=1 head(8) next(8): every record below head
// was acknowledged or dropped; sequence numbers below next were used.
const (
	tagBlock = 'b'
	tagState = 's'

	blockKeySuffix = 1 + 8 + 4 + 4 + 8
	blockVersion   = 1
	blockVersionS2 = 2
	blockHeader    = 1 + 8
	stateVersion   = 1
	stateLen       = 1 + 8 + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBlock is wrapped in ErrCorrupt by callers.
var errBlock = errors.New("malformed block")

// queuePrefix returns the key prefix of the queue called name.
func queuePrefix(name string) []byte {
	p := make([]byte, 0, 4+len(name))
	p = append(p, 's', 'f', 0)
	p = append(p, name...)
	return append(p, 0)
}

// blockDesc describes one stored block. It is what the block's key says.
type blockDesc struct {
	first uint64 // sequence number of the first record
	count uint32 // records in the block (at least 1)
	bytes uint32 // sum of len(Data)+len(Meta) of its records
	milli int64  // commit time, Unix milliseconds
	bad   bool   // the value failed to decode; its records are skipped
}

func (d blockDesc) end() uint64 { return d.first + uint64(d.count) }

func blockKey(prefix []byte, d blockDesc) []byte {
	k := make([]byte, 0, len(prefix)+blockKeySuffix)
	k = append(k, prefix...)
	k = append(k, tagBlock)
	k = binary.BigEndian.AppendUint64(k, d.first)
	k = binary.BigEndian.AppendUint32(k, d.count)
	k = binary.BigEndian.AppendUint32(k, d.bytes)
	return binary.BigEndian.AppendUint64(k, uint64(d.milli))
}

// blockSeekKey is the smallest key of a block whose first record is seq.
func blockSeekKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+9)
	k = append(k, prefix...)
	k = append(k, tagBlock)
	return binary.BigEndian.AppendUint64(k, seq)
}

func parseBlockKey(prefix, key []byte) (blockDesc, error) {
	if len(key) != len(prefix)+blockKeySuffix || key[len(prefix)] != tagBlock {
		return blockDesc{}, fmt.Errorf("%w: key %q", errBlock, key)
	}
	b := key[len(prefix)+1:]
	d := blockDesc{
		first: binary.BigEndian.Uint64(b),
		count: binary.BigEndian.Uint32(b[8:]),
		bytes: binary.BigEndian.Uint32(b[12:]),
		milli: int64(binary.BigEndian.Uint64(b[16:])),
	}
	if d.count == 0 || d.end() < d.first {
		return blockDesc{}, fmt.Errorf("%w: key %q", errBlock, key)
	}
	return d, nil
}

func stateKey(prefix []byte) []byte {
	return append(append([]byte(nil), prefix...), tagState)
}

func encodeState(head, next uint64) []byte {
	v := make([]byte, 0, stateLen)
	v = append(v, stateVersion)
	v = binary.BigEndian.AppendUint64(v, head)
	return binary.BigEndian.AppendUint64(v, next)
}

func decodeState(v []byte) (head, next uint64, err error) {
	if len(v) != stateLen || v[0] != stateVersion {
		return 0, 0, fmt.Errorf("malformed state %x", v)
	}
	head = binary.BigEndian.Uint64(v[1:])
	next = binary.BigEndian.Uint64(v[9:])
	if head > next {
		return 0, 0, fmt.Errorf("malformed state: head %d after next %d", head, next)
	}
	return head, next, nil
}

// recordSize is the encoded size of r inside a block.
func recordSize(r *Record) int {
	return uvarintLen(uint64(len(r.Meta))) + len(r.Meta) + uvarintLen(uint64(len(r.Data))) + len(r.Data)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// blockBuilder packs records into one block value.
type blockBuilder struct {
	buf   []byte
	plain []byte // scratch of finish
	count int
	bytes int
}

// maxKeepPlain bounds the scratch kept by a blockBuilder between blocks.
const maxKeepPlain = 2 << 20

func (b *blockBuilder) reset(now time.Time, capHint int) {
	if cap(b.buf) < capHint {
		b.buf = make([]byte, 0, capHint)
	}
	b.buf = b.buf[:0]
	b.buf = append(b.buf, blockVersion)
	b.buf = binary.BigEndian.AppendUint64(b.buf, uint64(now.UnixNano()))
	b.count, b.bytes = 0, 0
}

// encodedLen is the block's length if it is finished now with more
// records of payload size extra added.
func (b *blockBuilder) encodedLen(extra, extraCount int) int {
	return len(b.buf) + uvarintLen(uint64(b.count+extraCount)) + extra + 4
}

func (b *blockBuilder) add(r *Record) {
	b.buf = binary.AppendUvarint(b.buf, uint64(len(r.Meta)))
	b.buf = append(b.buf, r.Meta...)
	b.buf = binary.AppendUvarint(b.buf, uint64(len(r.Data)))
	b.buf = append(b.buf, r.Data...)
	b.count++
	b.bytes += len(r.Data) + len(r.Meta)
}

// finish returns a new slice holding the block value, compressed when
// that pays; b.plain holds the uncompressed body (the record count and
// the records) until the next finish, or is nil when it was too large to
// keep.
func (b *blockBuilder) finish() []byte {
	body := b.buf[blockHeader:]
	plain := binary.AppendUvarint(b.plain[:0], uint64(b.count))
	plain = append(plain, body...)
	b.plain = plain
	v := make([]byte, 0, blockHeader+s2.MaxEncodedLen(len(plain))+4)
	v = append(v, b.buf[:blockHeader]...)
	if enc := s2.Encode(v[blockHeader:cap(v)], plain); len(enc) <= len(plain)-len(plain)/8 {
		v = v[:blockHeader+len(enc)]
		v[0] = blockVersionS2
	} else {
		v = append(v, plain...)
	}
	if cap(plain) > maxKeepPlain {
		b.plain = nil
	}
	return binary.BigEndian.AppendUint32(v, crc32.Checksum(v, castagnoli))
}

// decodeBlock checks and decodes a block value read for d. The records
// alias v (or a buffer of their own), which the caller must not reuse.
func decodeBlock(d blockDesc, v []byte) ([]Record, error) {
	if len(v) < blockHeader+1+4 || (v[0] != blockVersion && v[0] != blockVersionS2) {
		return nil, fmt.Errorf("%w: bad header", errBlock)
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", errBlock)
	}
	t := time.Unix(0, int64(binary.BigEndian.Uint64(body[1:])))
	p := body[blockHeader:]
	if v[0] == blockVersionS2 {
		// At most two length prefixes of 10 bytes per record on top of
		// the payload bytes the key gives: refuse anything larger.
		n, err := s2.DecodedLen(p)
		if err != nil || n > int(d.bytes)+20*int(d.count)+10 {
			return nil, fmt.Errorf("%w: bad compressed length", errBlock)
		}
		if p, err = s2.Decode(nil, p); err != nil {
			return nil, fmt.Errorf("%w: %v", errBlock, err)
		}
	}
	return decodeRecords(d, t, p)
}

// decodeRecords decodes the uncompressed body p of the block d (the
// record count, then the records) committed at t. The records alias p.
func decodeRecords(d blockDesc, t time.Time, p []byte) ([]Record, error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n != uint64(d.count) {
		return nil, fmt.Errorf("%w: %d records, key says %d", errBlock, n, d.count)
	}
	p = p[k:]
	recs := make([]Record, n)
	total := 0
	for i := range recs {
		var meta, data []byte
		var ok bool
		if meta, p, ok = field(p); !ok {
			return nil, fmt.Errorf("%w: record %d truncated", errBlock, i)
		}
		if data, p, ok = field(p); !ok {
			return nil, fmt.Errorf("%w: record %d truncated", errBlock, i)
		}
		total += len(meta) + len(data)
		recs[i] = Record{Seq: d.first + uint64(i), Time: t, Meta: nilIfEmpty(meta), Data: nilIfEmpty(data)}
	}
	if len(p) != 0 || total != int(d.bytes) {
		return nil, fmt.Errorf("%w: length mismatch", errBlock)
	}
	return recs, nil
}

func field(p []byte) (f, rest []byte, ok bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, false
	}
	end := k + int(n)
	return p[k:end:end], p[end:], true
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
