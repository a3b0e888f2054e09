// Package memtrim gives back to the kernel the memory a long-running
// process touched while it started and will not touch again.
//
// A Go binary runs every package's init function and the whole
// configuration and start-up path once. Linux maps file pages 64 KB at a
// time around each page touched ("fault-around"), so that start-up leaves
// most of the executable's text and read-only data resident: about 12 MiB
// of the gateway's 15 MB binary, although an idle broker uses a small
// part of it. Those pages are clean copies of the file, reclaimed by the
// kernel only under memory pressure, and they count in the RSS that users
// of a small board watch. Likewise the Go heap keeps the pages freed after
// start-up until its scavenger returns them, slowly.
//
// [AfterStart] reclaims both once: the executable's read-only mappings
// with madvise(MADV_PAGEOUT) (code in use comes back from the page cache
// or the file on its next access, as after any reclaim), and the heap with
// debug.FreeOSMemory. It also marks those mappings MADV_RANDOM, so that a
// page touched later comes back alone rather than with its neighbours:
// without it, the periodic tasks of an idle gateway bring back about
// 4 MiB within seconds (measured: 9.4 MiB idle RSS instead of 5.3). The
// cost is one page fault per code page on its first use after the trim,
// instead of one per 64 KB. [PageOut] is the tool underneath; package kv
// pages out its database's mapped files with it.
package memtrim
