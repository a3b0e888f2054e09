// Package serial is the serial line adapter: it reads lines from a serial
// port (an Arduino, a GPS, a meter), parses each with one of the formats
// below and publishes the fields through a devices.Publisher.
//
// Formats:
//
//	raw    the line as is, in one field (Config.Field, default "raw")
//	kv     temp=21.5,hum=40 (Config.Separator "," and Config.KVSeparator "=")
//	csv    21.5,40 with Config.Columns naming the values ("" or "-" skips one)
//	json   {"temp":21.5,"env":{"hum":40}}: one field per number, string
//	       and boolean; nested objects are flattened with "_" (env_hum) so
//	       that every field stays one topic level; arrays and nulls are
//	       skipped
//	regex  Config.Pattern's named groups become fields
//	nmea   GGA and RMC sentences (package devices/nmea): lat, lon (decimal
//	       degrees, 6 decimals), altitude (m), fix, satellites, speed
//	       (knots), course (degrees), utc; other sentence types are skipped
//
// A value that reads as a decimal number is published as a number with
// the decimals written in the line (or Config.Decimals), anything else
// as a string. Lines are split at Config.LineEnding; a stray "\r" or
// "\n" around a line is removed whatever the setting. Garbage, lines
// longer than Config.MaxLine and bad checksums are counted
// (devices.ParseErrors) and skipped.
//
// # The port
//
// Ports are opened with github.com/tarm/serial behind the small Port
// interface, with a bounded read timeout: tarm/serial returns (0, io.EOF)
// when a read times out, Close waits for a pending read, and an unplugged
// device looks like endless immediate (0, io.EOF). The adapter therefore
// checks its context between reads, and after every empty read checks
// that the configured path (followed through symlinks such as
// /dev/serial/by-id/...) still names the device it opened; a run of
// empty reads that return much faster than the timeout also means the
// device hung up. Either ends Run with an error, and the supervisor
// reopens the port with back-off.
package serial
