// Package auth authenticates MQTT clients against a password file and
// authorizes them with roles, for the broker's Authorizer hook.
//
// # Password file
//
// One "user:hash" line per user, as Mosquitto's mosquitto_passwd writes
// them; hashes are PBKDF2-SHA512 in Mosquitto's "$7$" format (see Hash).
// Load reads one with file:line errors; Set, Delete and Save (atomic,
// mode 0600) edit it; Verify is constant time and as slow for an unknown
// user as for a known one.
//
// # Roles
//
// A Policy gives users roles and anonymous clients the anonymous roles.
// A role allows and denies publish, subscribe or both on topic filters
// with %u (username) and %c (client id) substituted; a deny wins over any
// allow. Subscriptions are checked by pattern (Covers) and every
// delivered message again (CanRead), so a wide subscription such as "#"
// never carries a denied topic. See Policy for the exact rules.
package auth
