package devices

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Inventory is what Scan found: the device nodes adapters can open.
type Inventory struct {
	Serial []Node // by-id names first (Target: the node they point to)
	GPIO   []Node // Label: the chip's label when readable
	I2C    []Node
}

// Node is one device node.
type Node struct {
	Path   string
	Target string // a symlink's resolved path
	Label  string
}

// Scan lists serial ports (/dev/serial/by-id/* with their targets, then
// /dev/ttyUSB*, ttyACM*, ttyAMA*, ttyS0), GPIO chips (/dev/gpiochip*,
// labelled from /sys) and I2C buses (/dev/i2c-*). devRoot and sysRoot are
// "/dev" and "/sys" on a real system; tests pass a directory tree.
func Scan(devRoot, sysRoot string) Inventory {
	var inv Inventory
	byID, _ := filepath.Glob(filepath.Join(devRoot, "serial", "by-id", "*"))
	sort.Strings(byID)
	for _, p := range byID {
		n := Node{Path: p}
		if t, err := filepath.EvalSymlinks(p); err == nil {
			n.Target = t
		} else if t, err := os.Readlink(p); err == nil {
			n.Target = t + " (missing)"
		}
		inv.Serial = append(inv.Serial, n)
	}
	for _, pat := range []string{"ttyUSB*", "ttyACM*", "ttyAMA*", "ttyS0"} {
		for _, p := range globSorted(filepath.Join(devRoot, pat)) {
			inv.Serial = append(inv.Serial, Node{Path: p})
		}
	}
	for _, p := range globSorted(filepath.Join(devRoot, "gpiochip*")) {
		inv.GPIO = append(inv.GPIO, Node{Path: p, Label: gpioLabel(sysRoot, filepath.Base(p))})
	}
	for _, p := range globSorted(filepath.Join(devRoot, "i2c-*")) {
		inv.I2C = append(inv.I2C, Node{Path: p})
	}
	return inv
}

// globSorted returns the matches of pattern in natural order (ttyUSB2
// before ttyUSB10).
func globSorted(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	sort.Slice(m, func(i, j int) bool {
		if len(m[i]) != len(m[j]) {
			return len(m[i]) < len(m[j])
		}
		return m[i] < m[j]
	})
	return m
}

// gpioLabel reads the label of a GPIO chip from sysfs, or "".
func gpioLabel(sysRoot, chip string) string {
	candidates := []string{filepath.Join(sysRoot, "bus", "gpio", "devices", chip, "label")}
	// The legacy sysfs view names the chip by its base number.
	legacy, _ := filepath.Glob(filepath.Join(sysRoot, "bus", "gpio", "devices", chip, "gpio", "gpiochip*", "label"))
	candidates = append(candidates, legacy...)
	candidates = append(candidates, filepath.Join(sysRoot, "class", "gpio", chip, "label"))
	for _, c := range candidates {
		b, err := readSmall(c)
		if err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// readSmall reads at most 256 bytes of a file.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 256))
}

// Write prints inv for a terminal.
func (inv Inventory) Write(w io.Writer) error {
	section := func(name string, nodes []Node, line func(Node) string) {
		fmt.Fprintf(w, "%s:\n", name)
		if len(nodes) == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		for _, n := range nodes {
			fmt.Fprintf(w, "  %s\n", line(n))
		}
	}
	section("serial ports", inv.Serial, func(n Node) string {
		if n.Target != "" {
			return n.Path + " -> " + n.Target
		}
		return n.Path
	})
	section("gpio chips", inv.GPIO, func(n Node) string {
		if n.Label != "" {
			return n.Path + " [" + n.Label + "]"
		}
		return n.Path
	})
	_, err := fmt.Fprintf(w, "i2c buses:\n")
	if err != nil {
		return err
	}
	if len(inv.I2C) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, n := range inv.I2C {
		if _, err := fmt.Fprintf(w, "  %s\n", n.Path); err != nil {
			return err
		}
	}
	return nil
}
