package onewire

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
)

func TestBusMissing(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, root string
		want       string
		is         error
	}{
		{"missing", filepath.Join(dir, "w1"), "onewire: no 1-Wire bus at " + filepath.Join(dir, "w1") +
			": load the w1-gpio and w1-therm modules (dtoverlay=w1-gpio): ", fs.ErrNotExist},
		{"not a directory", file, "onewire: list 1-Wire bus " + file + ": ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Config{Root: tt.root, Sensors: []Sensor{{ID: id1}}})
			if err != nil {
				t.Fatal(err)
			}
			pub := &devicestest.Publisher{}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = a.Run(ctx, pub)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Run error = %v, want %q... (is %v)", err, tt.want, tt.is)
			}
			if got := pub.GroupStatus(id1); got != nil {
				t.Errorf("statuses published without a bus: %v", got)
			}
		})
	}
}

// start runs a in the background; stop cancels it and returns Run's
// error, failing if Run takes longer than within to return.
func start(t *testing.T, a *Adapter, pub devices.Publisher) (stop func(within time.Duration) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, pub) }()
	t.Cleanup(func() { cancel(); <-done })
	return func(within time.Duration) error {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			done <- err // for Cleanup
			return err
		case <-time.After(within):
			t.Fatalf("Run did not return within %v of cancel", within)
			return nil
		}
	}
}

// waitFor waits up to 10 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRun(t *testing.T) {
	root := t.TempDir()
	a, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	a.interval = 20 * time.Millisecond
	pub := &devicestest.Publisher{}
	stop := start(t, a, pub)
	time.Sleep(100 * time.Millisecond) // a few cycles of an empty bus
	plug(t, root, id1, fixture(t, "valid.txt"))
	waitFor(t, "the new sensor's reading", func() bool { return len(pub.Readings()) > 0 })
	plug(t, root, id1, fixture(t, "negative.txt"))
	waitFor(t, "the new reading", func() bool {
		rs := values(pub)
		return rs[len(rs)-1] == id1+" -1.062"
	})
	if err := stop(time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if got := pub.GroupStatus(id1); !slices.Equal(got, []bool{true}) {
		t.Errorf("statuses %v, want [true]", got)
	}
}

func TestRunDoesNotSpin(t *testing.T) {
	root := t.TempDir()
	plug(t, root, id1, fixture(t, "valid.txt"))
	a, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	a.interval = 100 * time.Millisecond
	pub := &devicestest.Publisher{}
	begun := time.Now()
	stop := start(t, a, pub)
	time.Sleep(450 * time.Millisecond)
	if err := stop(time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	took := time.Since(begun)
	if n := pub.Counted(devices.Polls); n < 1 || n > uint64(took/a.interval)+1 {
		t.Errorf("%d polls in %v at a %v interval", n, took, a.interval)
	}
}

// TestCancelBetweenSensors checks that Run notices ctx between sensors
// whose reads block, as on real hardware.
func TestCancelBetweenSensors(t *testing.T) {
	root := t.TempDir()
	var sensors []Sensor
	for i := range 10 {
		id := "28-00000000001" + string(rune('0'+i))
		plug(t, root, id, fixture(t, "valid.txt"))
		sensors = append(sensors, Sensor{ID: id})
	}
	a, err := New(Config{Root: root, Sensors: sensors})
	if err != nil {
		t.Fatal(err)
	}
	a.read = func(path string) ([]byte, error) {
		time.Sleep(200 * time.Millisecond) // a conversion
		return readFile(path)
	}
	pub := &devicestest.Publisher{}
	stop := start(t, a, pub)
	waitFor(t, "the first read", func() bool { return pub.Counted(devices.Polls) > 0 })
	begun := time.Now()
	// The rest of the cycle would take 1.8 s.
	if err := stop(time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if n := pub.Counted(devices.Polls); n > 3 {
		t.Errorf("%d sensors read in the %v after cancel", n, time.Since(begun))
	}
}

// failingStatus is a Publisher whose group statuses fail to publish.
type failingStatus struct {
	*devicestest.Publisher
	fail bool
}

func (p *failingStatus) PublishGroupStatus(ctx context.Context, group string, online bool) error {
	if p.fail {
		return errors.New("broker refused")
	}
	return p.Publisher.PublishGroupStatus(ctx, group, online)
}

func TestStatusRetried(t *testing.T) {
	root := t.TempDir()
	plug(t, root, id1, fixture(t, "valid.txt"))
	a, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	pub := &failingStatus{Publisher: &devicestest.Publisher{}, fail: true}
	r := newRun(a, pub)
	cycles(t, r, 2)
	if got := pub.GroupStatus(id1); got != nil {
		t.Fatalf("statuses %v", got)
	}
	pub.fail = false
	cycles(t, r, 2)
	if got := pub.GroupStatus(id1); !slices.Equal(got, []bool{true}) {
		t.Errorf("statuses %v, want [true]: published again after a failure", got)
	}
	if got := len(pub.Readings()); got != 4 {
		t.Errorf("%d readings, want 4", got)
	}
}

// plainPublisher is a Publisher without group statuses.
type plainPublisher struct{ p *devicestest.Publisher }

func (p plainPublisher) Publish(ctx context.Context, r devices.Reading) error {
	return p.p.Publish(ctx, r)
}
func (p plainPublisher) Count(c devices.Counter, n uint64) { p.p.Count(c, n) }
func (p plainPublisher) Commands() <-chan devices.Command  { return p.p.Commands() }

func TestWithoutGroupStatus(t *testing.T) {
	root := t.TempDir()
	plug(t, root, id1, fixture(t, "valid.txt"))
	a, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	pub := &devicestest.Publisher{}
	r := newRun(a, plainPublisher{pub})
	cycles(t, r, 1)
	unplug(t, root, id1)
	cycles(t, r, 1)
	if got := len(pub.Readings()); got != 1 {
		t.Errorf("%d readings, want 1", got)
	}
}
