// Package config loads edgemq's configuration file.
//
// # The file
//
// The configuration is one YAML file, /etc/edgemq/edgemq.yaml on a
// device. It holds a single YAML document whose top level is a mapping
// of sections:
//
//	gateway:                  # who this gateway is
//	  id: gw1                 # default: the host name
//	broker:                   # the MQTT broker
//	  listeners:              # default: one tcp listener on 127.0.0.1:1883
//	    - {type: tcp, address: "0.0.0.0:1883", allow_anonymous: false}
//	  limits: {max_connections: 2000, max_packet_size: 256KiB, max_keep_alive: 60s,
//	           max_inflight: 32, max_queued_messages: 1000, receive_maximum: 64}
//	  sys_interval: 10s       # 0 disables $SYS
//	storage:
//	  dir: /var/lib/edgemq    # default ./data
//	log:
//	  level: info             # debug, info, warn or error
//	memory_limit: 96MiB       # becomes GOMEMLIMIT; 0 = not set
//	max_procs: 0              # most cores used at once; 0 = all
//
// The defaults, with a comment on each, are in default.yaml (embedded in
// the binary and returned by DefaultYAML); edgemq.example.yaml at the
// top of the repository is a commented example of every key.
//
// # Rules
//
// Keys are lower_snake_case. Every key may be left out, and a key with
// an empty value ("key:", "key: ~" or "key: null") is the same as a
// key left out: it keeps its default. A list (such as
// broker.listeners) replaces the default list as a whole; an empty list
// ("listeners: []") means none.
//
// Values:
//
//   - strings are taken as written, quoted or not (quote a value that
//     contains ": " or " #", or starts with a character that YAML treats
//     specially, such as *, &, !, [, { or %);
//   - integers are written in decimal (a leading zero does not make an
//     octal number); a quoted number is a string, not an integer;
//   - booleans are true or false (not yes/no/on/off);
//   - durations are Go durations with a unit: 500ms, 30s, 2m, 1h30m
//     (units ns, us, ms, s, m, h); a number without a unit is refused,
//     except 0;
//   - sizes are a number and a unit: B, KiB, MiB, GiB, TiB (powers of
//     1024) or KB, MB, GB, TB (powers of 1000), such as 256KiB or 2GiB; a
//     number without a unit is a number of bytes;
//   - addresses are host:port; an empty host (":1883") means all
//     interfaces, and an IPv6 host is written in brackets ("[::1]:1883").
//
// Anchors, aliases and merge keys (<<) may be used to avoid repetition.
//
// # Errors
//
// A configuration is refused as a whole if anything in it is wrong:
// unknown keys (with a suggestion when a known key is close), values of
// the wrong type, values out of range, duplicate keys, a second YAML
// document, YAML syntax errors. Every problem is reported (up to 20),
// ordered by line, each naming the file, the line and the key path:
//
//	edgemq.yaml:7: broker.limts: unknown key (did you mean "limits"?)
//	edgemq.yaml:9: broker.limits.max_connections: want an integer, got "lots"
//	edgemq.yaml:12: broker.listeners[1].address: missing port
//
// Each problem is an *Error; errors.Is(err, ErrInvalid) tells a refused
// configuration from a file that could not be read, and Errors lists
// the problems.
package config
