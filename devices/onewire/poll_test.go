package onewire

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/edgemq/edgemq/devices"
	"github.com/edgemq/edgemq/devices/devicestest"
)

// Sensor ids of the tests.
const (
	id1 = "28-000000000001"
	id2 = "28-000000000002"
	id3 = "28-000000000003"
)

// fixture returns the contents of testdata/name.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// plug writes the w1_slave file of sensor id under root, creating its
// directory: a sensor plugged in, or a new reading.
func plug(t *testing.T, root, id, contents string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, id, "w1_slave"), []byte(contents), 0o644); err != nil {
		t.Fatal(err)
	}
}

// unplug removes sensor id's directory, as the kernel does.
func unplug(t *testing.T, root, id string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, id)); err != nil {
		t.Fatal(err)
	}
}

// newTestRun returns the poll state of an adapter for c over the
// directory tree at c.Root.
func newTestRun(t *testing.T, c Config) (*run, *devicestest.Publisher) {
	t.Helper()
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	pub := &devicestest.Publisher{}
	return newRun(a, pub), pub
}

// cycles runs n poll cycles.
func cycles(t *testing.T, r *run, n int) {
	t.Helper()
	for range n {
		if err := r.cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// values returns "<group> <temperature>" for each reading.
func values(pub *devicestest.Publisher) []string {
	var out []string
	for _, r := range pub.Readings() {
		for _, f := range r.Fields {
			if f.Name != field {
				out = append(out, "unexpected field "+f.Name)
			}
			out = append(out, r.Group+" "+f.Value.String())
		}
	}
	return out
}

func TestReadings(t *testing.T) {
	tests := []struct {
		file   string
		values []string // after three cycles
		status []bool
		errs   uint64 // parse errors after three cycles
	}{
		{"valid.txt", []string{id1 + " 23.125", id1 + " 23.125", id1 + " 23.125"}, []bool{true}, 0},
		{"negative.txt", []string{id1 + " -1.062", id1 + " -1.062", id1 + " -1.062"}, []bool{true}, 0},
		{"crc_no.txt", nil, []bool{false}, 3},
		{"reset.txt", nil, []bool{false}, 3},
		{"zeros.txt", nil, []bool{false}, 3},
		{"range.txt", nil, []bool{false}, 3},
		{"garbage.txt", nil, []bool{false}, 3},
		{"truncated.txt", nil, []bool{false}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			root := t.TempDir()
			plug(t, root, id1, fixture(t, tt.file))
			r, pub := newTestRun(t, Config{Root: root})
			cycles(t, r, 2)
			if got := pub.GroupStatus(id1); len(got) != 0 && !got[0] {
				t.Errorf("offline after two cycles: %v", got)
			}
			cycles(t, r, 1)
			if got := values(pub); !slices.Equal(got, tt.values) {
				t.Errorf("readings %q, want %q", got, tt.values)
			}
			if got := pub.GroupStatus(id1); !slices.Equal(got, tt.status) {
				t.Errorf("statuses %v, want %v", got, tt.status)
			}
			if got := pub.Counted(devices.ParseErrors); got != tt.errs {
				t.Errorf("%d parse errors, want %d", got, tt.errs)
			}
			if got := pub.Counted(devices.Polls); got != 3 {
				t.Errorf("%d polls, want 3", got)
			}
			if got := pub.Counted(devices.LinesRead); got != 3 {
				t.Errorf("%d lines read, want 3", got)
			}
		})
	}
}

func TestDecimals(t *testing.T) {
	root := t.TempDir()
	plug(t, root, id1, fixture(t, "negative.txt"))
	plug(t, root, id2, fixture(t, "room.txt"))
	r, pub := newTestRun(t, Config{Root: root, Decimals: ptr(1)})
	cycles(t, r, 1)
	want := []string{id1 + " -1.1", id2 + " 21.5"}
	if got := values(pub); !slices.Equal(got, want) {
		t.Errorf("readings %q, want %q", got, want)
	}
}

// TestFailures follows one sensor's status through a sequence of
// w1_slave contents, one per cycle ("" : the sensor's directory is
// missing, "unreadable": w1_slave cannot be read).
func TestFailures(t *testing.T) {
	tests := []struct {
		name   string
		files  []string
		status []bool
	}{
		{"two failures stay online", []string{"valid.txt", "crc_no.txt", "reset.txt", "valid.txt", "garbage.txt"}, []bool{true}},
		{"three failures go offline", []string{"valid.txt", "crc_no.txt", "reset.txt", "garbage.txt", "zeros.txt", "room.txt"}, []bool{true, false, true}},
		{"valid read resets the count", []string{"valid.txt", "reset.txt", "reset.txt", "valid.txt", "reset.txt", "reset.txt"}, []bool{true}},
		{"unreadable", []string{"valid.txt", "unreadable", "unreadable", "unreadable", "valid.txt"}, []bool{true, false, true}},
		{"removed goes offline at once", []string{"valid.txt", "", "", "valid.txt"}, []bool{true, false, true}},
		{"failing then removed", []string{"garbage.txt", "", "garbage.txt", "garbage.txt", "garbage.txt"}, []bool{false}},
		{"late", []string{"", "", "room.txt"}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			r, pub := newTestRun(t, Config{Root: root})
			for _, f := range tt.files {
				switch f {
				case "":
					unplug(t, root, id1)
				case "unreadable":
					unplug(t, root, id1)
					if err := os.MkdirAll(filepath.Join(root, id1, "w1_slave"), 0o755); err != nil {
						t.Fatal(err)
					}
				default:
					unplug(t, root, id1)
					plug(t, root, id1, fixture(t, f))
				}
				cycles(t, r, 1)
			}
			if got := pub.GroupStatus(id1); !slices.Equal(got, tt.status) {
				t.Errorf("statuses %v, want %v", got, tt.status)
			}
		})
	}
}

func TestRemovedAndReadded(t *testing.T) {
	root := t.TempDir()
	plug(t, root, id1, fixture(t, "valid.txt"))
	plug(t, root, id2, fixture(t, "room.txt"))
	r, pub := newTestRun(t, Config{Root: root})
	cycles(t, r, 1)
	unplug(t, root, id1)
	cycles(t, r, 2)
	if got := pub.GroupStatus(id1); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("removed: statuses %v, want [true false]", got)
	}
	if got := pub.Counted(devices.Polls); got != 4 {
		t.Errorf("%d polls, want 4: a removed sensor is not read", got)
	}
	plug(t, root, id1, fixture(t, "negative.txt"))
	cycles(t, r, 1)
	if got := pub.GroupStatus(id1); !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("re-added: statuses %v, want [true false true]", got)
	}
	if got := pub.GroupStatus(id2); !slices.Equal(got, []bool{true}) {
		t.Errorf("other sensor: statuses %v, want [true]", got)
	}
	want := []string{id1 + " 23.125", id2 + " 21.500", id2 + " 21.500", id2 + " 21.500", id1 + " -1.062", id2 + " 21.500"}
	if got := values(pub); !slices.Equal(got, want) {
		t.Errorf("readings %q, want %q", got, want)
	}
}

func TestListedSensors(t *testing.T) {
	root := t.TempDir()
	plug(t, root, id1, fixture(t, "valid.txt"))
	plug(t, root, id2, fixture(t, "room.txt")) // not listed: ignored
	r, pub := newTestRun(t, Config{Root: root, Sensors: []Sensor{
		{ID: id3, Name: "kitchen"}, // absent
		{ID: id1, Name: "boiler"},
	}})
	cycles(t, r, 1)
	if got, want := values(pub), []string{"boiler 23.125"}; !slices.Equal(got, want) {
		t.Errorf("readings %q, want %q", got, want)
	}
	if got := pub.GroupStatus("boiler"); !slices.Equal(got, []bool{true}) {
		t.Errorf("boiler: statuses %v, want [true]", got)
	}
	if got := pub.GroupStatus("kitchen"); !slices.Equal(got, []bool{false}) {
		t.Errorf("absent kitchen: statuses %v, want [false]", got)
	}
	if got := pub.GroupStatus(id1); got != nil {
		t.Errorf("status published under the id: %v", got)
	}
	plug(t, root, id3, fixture(t, "negative.txt"))
	cycles(t, r, 1)
	if got := pub.GroupStatus("kitchen"); !slices.Equal(got, []bool{false, true}) {
		t.Errorf("kitchen plugged in: statuses %v, want [false true]", got)
	}
	if got, want := values(pub), []string{"boiler 23.125", "kitchen -1.062", "boiler 23.125"}; !slices.Equal(got, want) {
		t.Errorf("readings %q, want %q", got, want)
	}
}

func TestDiscovery(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"w1_bus_master1", "10-000802b4f4c4", "28-00000000000G", "28-0000000000011"} {
		plug(t, root, dir, fixture(t, "valid.txt"))
	}
	r, pub := newTestRun(t, Config{Root: root})
	cycles(t, r, 2)
	if got := pub.Readings(); len(got) != 0 {
		t.Errorf("readings of no DS18B20: %v", got)
	}
	if got := pub.Counted(devices.Polls); got != 0 {
		t.Errorf("%d polls without a sensor", got)
	}
	plug(t, root, id2, fixture(t, "room.txt"))
	cycles(t, r, 1)
	plug(t, root, id1, fixture(t, "valid.txt"))
	cycles(t, r, 1)
	want := []string{id2 + " 21.500", id1 + " 23.125", id2 + " 21.500"}
	if got := values(pub); !slices.Equal(got, want) {
		t.Errorf("readings %q, want %q", got, want)
	}
	for _, id := range []string{id1, id2} {
		if got := pub.GroupStatus(id); !slices.Equal(got, []bool{true}) {
			t.Errorf("%s: statuses %v, want [true]", id, got)
		}
	}
}
