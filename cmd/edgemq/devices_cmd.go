package main

import (
	"fmt"
	"io"

	"github.com/edgemq/edgemq/devices"
)

const devicesUsage = `usage: edgemq devices list
  list   show serial ports (/dev/serial/by-id names first), GPIO chips and
         I2C buses, for the devices section of the configuration
`

// cmdDevices runs `edgemq devices ...`.
func cmdDevices(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] != "list" {
		fmt.Fprint(stderr, devicesUsage)
		return 2
	}
	if err := devices.Scan("/dev", "/sys").Write(stdout); err != nil {
		fmt.Fprintln(stderr, "edgemq:", err)
		return 1
	}
	return 0
}
