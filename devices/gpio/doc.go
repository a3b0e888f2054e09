// Package gpio provides the GPIO device adapters: a digital input
// (In: door contact, button, PIR), a pulse counter (Counter: S0 energy
// meter, reed-switch water meter) and a relay output (Out).
//
// The adapters work on periph.io's gpio.PinIO, which they get from a
// PinSource: on a Raspberry Pi the host's pins (package
// devices/hardware, through the GPIO character device), in simulated
// mode or tests simulated pins. The adapter code is the same in both.
//
// Topics, below the device's topic prefix:
//
//	In:      state         ON or OFF, at start and on every change
//	Counter: count         pulses counted since the counter was created
//	         total         count / pulses_per_unit
//	         rate          units per hour over the last interval
//	Out:     state         ON or OFF, at start and after every change
//	         state/set     ON, OFF or TOGGLE (any case)
//
// ON is the active level: high, or low with active_low.
package gpio
