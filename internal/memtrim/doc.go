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
// debug.FreeOSMemory. [PageOut] is the tool underneath; package kv pages
// out its database's mapped files with it.
package memtrim
