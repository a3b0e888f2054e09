package devices

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	root := t.TempDir()
	dev, sys := filepath.Join(root, "dev"), filepath.Join(root, "sys")
	mk := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		mk(p)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"ttyUSB0", "ttyUSB10", "ttyUSB2", "ttyACM0", "ttyAMA0", "ttyS0", "ttyS1", "gpiochip0", "gpiochip1", "gpiochip2", "i2c-1", "null"} {
		mk(filepath.Join(dev, n))
	}
	byID := filepath.Join(dev, "serial", "by-id")
	os.MkdirAll(byID, 0o755)
	if err := os.Symlink("../../ttyUSB0", filepath.Join(byID, "usb-FTDI_FT232R-if00-port0")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../ttyUSB9", filepath.Join(byID, "usb-gone-if00")); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(sys, "bus", "gpio", "devices", "gpiochip0", "gpio", "gpiochip512", "label"), "pinctrl-bcm2711\n")
	write(filepath.Join(sys, "class", "gpio", "gpiochip1", "label"), "raspberrypi-exp-gpio\n")

	inv := Scan(dev, sys)
	rel := func(ns []Node) []Node {
		for i := range ns {
			ns[i].Path = strings.TrimPrefix(ns[i].Path, dev)
			ns[i].Target = strings.TrimPrefix(ns[i].Target, dev)
		}
		return ns
	}
	want := Inventory{
		Serial: []Node{
			{Path: "/serial/by-id/usb-FTDI_FT232R-if00-port0", Target: "/ttyUSB0"},
			{Path: "/serial/by-id/usb-gone-if00", Target: "../../ttyUSB9 (missing)"},
			{Path: "/ttyUSB0"}, {Path: "/ttyUSB2"}, {Path: "/ttyUSB10"},
			{Path: "/ttyACM0"}, {Path: "/ttyAMA0"}, {Path: "/ttyS0"},
		},
		GPIO: []Node{{Path: "/gpiochip0", Label: "pinctrl-bcm2711"}, {Path: "/gpiochip1", Label: "raspberrypi-exp-gpio"}, {Path: "/gpiochip2"}},
		I2C:  []Node{{Path: "/i2c-1"}},
	}
	got := Inventory{Serial: rel(inv.Serial), GPIO: rel(inv.GPIO), I2C: rel(inv.I2C)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Scan:\ngot  %+v\nwant %+v", got, want)
	}
	var b strings.Builder
	if err := got.Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"serial ports:\n  /serial/by-id/usb-FTDI_FT232R-if00-port0 -> /ttyUSB0\n", "gpio chips:\n  /gpiochip0 [pinctrl-bcm2711]\n", "i2c buses:\n  /i2c-1\n"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("Write output lacks %q:\n%s", s, b.String())
		}
	}
	var empty strings.Builder
	Scan(filepath.Join(root, "none"), sys).Write(&empty)
	if want := "serial ports:\n  (none)\ngpio chips:\n  (none)\ni2c buses:\n  (none)\n"; empty.String() != want {
		t.Errorf("empty Write = %q", empty.String())
	}
}
