// Package devices turns sensors into MQTT topics.
//
// An [Adapter] talks to one device (a serial line, later a GPIO pin, an
// I2C sensor, a Modbus slave) and hands what it reads to a [Publisher] as
// [Reading] values. A [Supervisor] runs each adapter, publishes its
// readings on the broker through a [Client], and restarts the adapter with
// capped, jittered exponential back-off whenever it fails (device
// unplugged, port missing, bus error).
//
// # Topics
//
// Each device has a topic prefix, by default edgemq/<gateway-id>/<device-id>:
//
//	<topic>/<field>       one value per field (payload "value", the default)
//	<topic>               one JSON object per reading (payload "json"):
//	                      {"time":"2026-01-02T03:04:05.678Z","temp":21.50,"door":"open"}
//	<topic>/status        "online" or "offline", retained, QoS 1
//	<topic>/<field>/set   commands for the fields the adapter can write
//
// A bus adapter (Modbus) publishes each sub-device's readings as a
// [Reading] with a Group: on <topic>/<group>/<field> (JSON: one object on
// <topic>/<group>), with commands on <topic>/<group>/<field>/set and the
// sub-device's own status, retained, on <topic>/<group>/status through
// [GroupStatusPublisher].
//
// Numbers are plain decimals with a stated number of decimals (never
// 23.150000000000002): see [Number]. The field names "status" and "time"
// are reserved; readings carrying them, or a name that is not a single
// topic level of letters, digits, '_', '-' and '.', are counted as parse
// errors and dropped.
//
// # Status
//
// A device is offline when the supervisor starts it, goes online with its
// first valid reading, and goes offline again when its adapter fails, when
// no valid reading arrived for Device.StaleAfter (if set), or when the
// supervisor stops. It goes back online with the next valid reading.
//
// # Counters
//
// [Supervisor.Stats] returns per-device counters (lines read, parse
// errors, polls, failures, reconnects, published); with
// Options.SysInterval set they are also published, retained, under
// $SYS/broker/devices/<id>/.
//
// # Goroutines
//
// [Supervisor.Start] starts, per device, one goroutine that runs the
// adapter and one that publishes its status; one more publishes $SYS
// figures. All of them exit when [Supervisor.Close] is called, which waits
// for them. An adapter must return soon after its context is done.
package devices
