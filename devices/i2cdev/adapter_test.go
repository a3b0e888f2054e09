package i2cdev

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
	"periph.io/x/conn/v3/i2c"
)

// simOpener opens a new SimBus holding chips at each call and keeps the
// last one.
type simOpener struct {
	chips []SimChip
	mu    sync.Mutex
	bus   *SimBus
	names []string
}

func (o *simOpener) open(name string) (i2c.BusCloser, error) {
	b, err := NewSimBus(o.chips...)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bus = b
	o.names = append(o.names, name)
	return b, nil
}

func (o *simOpener) last() *SimBus {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bus
}

// run starts a's Run; the returned function waits for its error.
func run(ctx context.Context, t *testing.T, a *Adapter, p devices.Publisher) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, p) }()
	return func() error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
}

// waitFor polls cond until it holds or a few seconds passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fieldText formats a reading's fields as "name=value ...".
func fieldText(r devices.Reading) string {
	var s []string
	for _, f := range r.Fields {
		s = append(s, f.Name+"="+f.Value.String())
	}
	return strings.Join(s, " ")
}

func TestAdapterEndToEnd(t *testing.T) {
	tests := []struct {
		chip  string
		image SimChip
		want  string
	}{
		{ChipBME280, DemoBME280(), "temperature=21.50 humidity=45.00 pressure=1013.25"},
		{ChipSHT3x, DemoSHT3x(), "temperature=22.00 humidity=40.00"},
	}
	for _, tt := range tests {
		t.Run(tt.chip, func(t *testing.T) {
			o := &simOpener{chips: []SimChip{tt.image}}
			a, err := New(Config{Bus: "1", Chip: tt.chip, Interval: MinInterval}, o.open)
			if err != nil {
				t.Fatal(err)
			}
			p := &devicestest.Publisher{}
			ctx, cancel := context.WithCancel(context.Background())
			wait := run(ctx, t, a, p)
			waitFor(t, "two readings", func() bool { return len(p.Readings()) >= 2 })
			cancel()
			if err := wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			for i, r := range p.Readings() {
				if got := fieldText(r); got != tt.want {
					t.Errorf("reading %d: %s, want %s", i, got, tt.want)
				}
				if r.Time.IsZero() || r.Group != "" {
					t.Errorf("reading %d: time %v, group %q", i, r.Time, r.Group)
				}
			}
			n := uint64(len(p.Readings()))
			if polls := p.Counted(devices.Polls); polls < n || polls > n+1 {
				t.Errorf("polls %d for %d readings", polls, n)
			}
			if pe := p.Counted(devices.ParseErrors); pe != 0 {
				t.Errorf("parse errors %d", pe)
			}
			bus := o.last()
			if !bus.Closed() {
				t.Error("bus not closed")
			}
			if o.names[0] != "1" {
				t.Errorf("opened bus %q, want 1", o.names[0])
			}
			if tt.chip == ChipBME280 {
				if ctrl, _ := bus.Get(0x76, 0xF2, 3); ctrl[0] != 0x01 || ctrl[2] != 0x25 {
					t.Errorf("ctrl_hum, status, ctrl_meas = % x, want 01 .. 25", ctrl)
				}
			}
		})
	}
}

func TestAdapterWrongChip(t *testing.T) {
	chip := DemoBME280()
	chip.Registers[0xD0] = []byte{0x58}
	o := &simOpener{chips: []SimChip{chip}}
	a, err := New(Config{Chip: ChipBME280}, o.open)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background(), &devicestest.Publisher{})
	if !errors.Is(err, ErrWrongChip) || !strings.Contains(err.Error(), "BMP280") {
		t.Errorf("Run = %v, want ErrWrongChip naming the BMP280", err)
	}
	if !o.last().Closed() {
		t.Error("bus not closed")
	}
}

// readFailer is a bus whose reads fail once Fail is set.
type readFailer struct {
	*SimBus
	fail atomic.Pointer[error]
}

func (b *readFailer) Tx(addr uint16, w, r []byte) error {
	if err := b.fail.Load(); err != nil && len(r) > 0 {
		return *err
	}
	return b.SimBus.Tx(addr, w, r)
}

func TestAdapterBusError(t *testing.T) {
	tests := []struct {
		chip  string
		image SimChip
		want  string // error prefix
	}{
		{ChipBME280, DemoBME280(), "i2cdev: bme280 at 0x76: read 0xf3: "},
		{ChipSHT3x, DemoSHT3x(), "i2cdev: sht3x at 0x44: read measurement: "},
	}
	for _, tt := range tests {
		t.Run(tt.chip, func(t *testing.T) {
			sim, err := NewSimBus(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			bus := &readFailer{SimBus: sim}
			a, err := New(Config{Chip: tt.chip, Interval: MinInterval}, func(string) (i2c.BusCloser, error) { return bus, nil })
			if err != nil {
				t.Fatal(err)
			}
			p := &devicestest.Publisher{}
			wait := run(context.Background(), t, a, p)
			waitFor(t, "a reading", func() bool { return len(p.Readings()) >= 1 })
			eio := errors.New("input/output error")
			bus.fail.Store(&eio)
			err = wait()
			if !errors.Is(err, eio) || err.Error() != tt.want+eio.Error() {
				t.Errorf("Run = %v, want %s%v", err, tt.want, eio)
			}
			if !sim.Closed() {
				t.Error("bus not closed")
			}
		})
	}
}

func TestAdapterBusUnplugged(t *testing.T) {
	o := &simOpener{chips: []SimChip{DemoBME280()}}
	a, err := New(Config{Chip: ChipBME280, Interval: MinInterval}, o.open)
	if err != nil {
		t.Fatal(err)
	}
	p := &devicestest.Publisher{}
	wait := run(context.Background(), t, a, p)
	waitFor(t, "a reading", func() bool { return len(p.Readings()) >= 1 })
	eio := errors.New("input/output error")
	o.last().SetError(eio)
	err = wait()
	if !errors.Is(err, eio) || !strings.HasPrefix(err.Error(), "i2cdev: bme280 at 0x76: write 0xf2: ") {
		t.Errorf("Run = %v, want the wrapped bus error", err)
	}
	if !o.last().Closed() {
		t.Error("bus not closed")
	}
}

func TestAdapterNoChip(t *testing.T) {
	for _, chip := range Chips {
		o := &simOpener{}
		a, err := New(Config{Chip: chip}, o.open)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Run(context.Background(), &devicestest.Publisher{}); !errors.Is(err, ErrNACK) {
			t.Errorf("%s: Run = %v, want ErrNACK", chip, err)
		}
	}
}

func TestAdapterOpenError(t *testing.T) {
	enoent := errors.New("no such file")
	a, err := New(Config{Bus: "/dev/i2c-9", Chip: ChipSHT3x}, func(string) (i2c.BusCloser, error) { return nil, enoent })
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background(), &devicestest.Publisher{})
	if !errors.Is(err, enoent) || err.Error() != `i2cdev: open bus "/dev/i2c-9": no such file` {
		t.Errorf("Run = %v", err)
	}
}

func TestAdapterCRCError(t *testing.T) {
	chip := DemoSHT3x()
	chip.Registers[0x2400] = []byte{0x62, 0x02, 0x00, 0x66, 0x66, 0x93}
	o := &simOpener{chips: []SimChip{chip}}
	a, err := New(Config{Chip: ChipSHT3x, Interval: MinInterval}, o.open)
	if err != nil {
		t.Fatal(err)
	}
	p := &devicestest.Publisher{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := run(ctx, t, a, p)
	waitFor(t, "two parse errors", func() bool { return p.Counted(devices.ParseErrors) >= 2 })
	if n := len(p.Readings()); n != 0 {
		t.Errorf("%d readings published from bad responses", n)
	}
	if err := o.last().Set(0x44, 0x2402, 0x6F); err != nil { // fix the CRC
		t.Fatal(err)
	}
	waitFor(t, "a reading", func() bool { return len(p.Readings()) >= 1 })
	if got := fieldText(p.Readings()[0]); got != "temperature=22.00 humidity=40.00" {
		t.Errorf("got %s", got)
	}
	if lr, polls := p.Counted(devices.LinesRead), p.Counted(devices.Polls); lr < 3 || polls < lr {
		t.Errorf("lines read %d, polls %d", lr, polls)
	}
	cancel()
	if err := wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestAdapterCancelPromptly(t *testing.T) {
	for _, chip := range Chips {
		t.Run(chip, func(t *testing.T) {
			o := &simOpener{chips: []SimChip{DemoBME280(), DemoSHT3x()}}
			a, err := New(Config{Chip: chip}, o.open) // interval 10 s
			if err != nil {
				t.Fatal(err)
			}
			p := &devicestest.Publisher{}
			ctx, cancel := context.WithCancel(context.Background())
			wait := run(ctx, t, a, p)
			waitFor(t, "a reading", func() bool { return len(p.Readings()) >= 1 })
			start := time.Now()
			cancel()
			if err := wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Run returned %v after cancel", d)
			}
			if !o.last().Closed() {
				t.Error("bus not closed")
			}
		})
	}
}

func TestAdapterCancelDuringMeasurement(t *testing.T) {
	chip := DemoBME280()
	chip.Registers[0xF3] = []byte{0x08} // never done
	o := &simOpener{chips: []SimChip{chip}}
	a, err := New(Config{Chip: ChipBME280}, o.open)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	p := &devicestest.Publisher{}
	if err := a.Run(ctx, p); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want context.DeadlineExceeded", err)
	}
	if pe := p.Counted(devices.ParseErrors); pe != 0 {
		t.Errorf("cancelled measurement counted as %d parse errors", pe)
	}
}

func TestNewInvalid(t *testing.T) {
	o := &simOpener{}
	if _, err := New(Config{Chip: "bme680"}, o.open); err == nil || err.Error() != `i2c: chip: unknown chip "bme680"; known chips: bme280, sht3x` {
		t.Errorf("New with an unknown chip: %v", err)
	}
	if _, err := New(Config{Chip: ChipSHT3x}, nil); err == nil {
		t.Error("New without an opener: no error")
	}
}
