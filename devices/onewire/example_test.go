package onewire_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edgemq/edgemq/devices/devicestest"
	"github.com/edgemq/edgemq/devices/onewire"
)

func Example() {
	// A stand-in for /sys/bus/w1/devices with one sensor on the bus.
	root, _ := os.MkdirTemp("", "w1")
	defer os.RemoveAll(root)
	os.Mkdir(filepath.Join(root, "28-0316a2791cff"), 0o755)
	os.WriteFile(filepath.Join(root, "28-0316a2791cff", "w1_slave"), []byte(
		"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n"+
			"72 01 4b 46 7f ff 0e 10 57 t=23125\n"), 0o644)

	a, err := onewire.New(onewire.Config{
		Root:    root,
		Sensors: []onewire.Sensor{{ID: "28-0316a2791cff", Name: "boiler"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The supervisor gives Run its Publisher; this one records. Run reads
	// at once, then every 10 s.
	pub := &devicestest.Publisher{}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	fmt.Println("run:", a.Run(ctx, pub))
	for _, r := range pub.Readings() {
		for _, f := range r.Fields {
			fmt.Printf("%s/%s %s\n", r.Group, f.Name, f.Value)
		}
	}
	fmt.Println("boiler online:", pub.GroupStatus("boiler"))
	// Output:
	// run: context deadline exceeded
	// boiler/temperature 23.125
	// boiler online: [true]
}
