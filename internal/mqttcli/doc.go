// Package mqttcli is the MQTT client behind `edgemq pub` and `edgemq sub`:
// small stand-ins for mosquitto_pub and mosquitto_sub on boards that lack
// them, built on the broker's own codec (broker/packet).
//
// A Client speaks MQTT 3.1, 3.1.1 and 5 over TCP or TLS (a CA file, an
// optional client certificate, and an "insecure" mode that verifies the
// chain but not the host name). Every network read and write has a
// deadline derived from the keep alive, and a pinger keeps an idle
// connection alive. A Client runs two goroutines (a reader and the
// pinger); both end in Close.
//
// Pub and Sub implement the commands with mosquitto's semantics: Pub waits
// for the PUBACK or PUBCOMP of every QoS 1 or 2 message before it
// disconnects; Sub prints what it receives as mosquitto_sub does (-v, -N,
// -C, -R, --retained-only, -W). ExitStatus gives mosquitto's exit status
// and message for their errors.
package mqttcli
