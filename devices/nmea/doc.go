// Package nmea decodes the NMEA 0183 sentences a GPS/GNSS receiver emits on
// a serial line.
//
// Only the two sentences an edge gateway needs are decoded: GGA (fix data:
// time of day, position, fix quality, satellites, altitude) and RMC
// (recommended minimum: date and time, position, validity, speed, course),
// from any talker (GP, GN, GL, GA, BD, ...). Other sentence types are
// reported with [ErrUnsupported] so that callers can skip them quietly.
//
// [Parse] is pure, allocation-free on success and safe for concurrent use.
// Every error wraps exactly one of the sentinel errors [ErrFormat],
// [ErrChecksum] or [ErrUnsupported]; test with errors.Is.
//
// Empty fields are normal while a receiver has no fix yet: they never cause
// an error, they leave the matching Has* flag false and the value zero.
package nmea
