package storefwd

import "sort"

// front holds the descriptors of the blocks from the head on, in order:
// enough of them for the reader's window and for dropping old blocks,
// not necessarily all of them (a backlog of millions of blocks is not kept
// in memory). The rest is loaded from the keys when needed.
type front struct {
	descs     []blockDesc
	off       int    // descs[off:] are live
	capacity  int    // most descriptors kept
	endSeq    uint64 // first sequence number after the loaded descriptors
	complete  bool   // the descriptors cover every block below committed
	truncated bool   // load found more blocks than capacity
}

func (f *front) len() int            { return len(f.descs) - f.off }
func (f *front) at(i int) *blockDesc { return &f.descs[f.off+i] }
func (f *front) room() int           { return f.capacity - f.len() }

// loadOne adds d while the queue is opened; past the capacity it only
// notes that descriptors are missing.
func (f *front) loadOne(d blockDesc) {
	if f.truncated || f.room() <= 0 {
		f.truncated = true
		return
	}
	f.push(d)
}

func (f *front) push(d blockDesc) {
	if f.off > 0 && f.off >= len(f.descs)/2 {
		n := copy(f.descs, f.descs[f.off:])
		f.descs = f.descs[:n]
		f.off = 0
	}
	f.descs = append(f.descs, d)
	f.endSeq = d.end()
}

func (f *front) pop() blockDesc {
	d := f.descs[f.off]
	f.off++
	if f.off == len(f.descs) {
		f.descs, f.off = f.descs[:0], 0
	}
	return d
}

// find returns the index of the first descriptor that ends after seq, or
// len() if none does.
func (f *front) find(seq uint64) int {
	live := f.descs[f.off:]
	return sort.Search(len(live), func(i int) bool { return live[i].end() > seq })
}
