package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgemq/edgemq/broker/brokertest"
)

// The installation tests always install into a temporary DESTDIR: never
// run make install or scripts/install.sh here without one.

// repoRoot is the source tree's root (tests run in cmd/edgemq).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// installEnv is the environment without the variables that would change
// what make install or a nested make does.
func installEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DESTDIR", "PREFIX", "BINDIR", "UNITDIR", "CONFDIR", "BIN":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func runInstall(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = installEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// checkFile checks that path has mode perm and, if want is not nil, the
// content want.
func checkFile(t *testing.T, path string, perm fs.FileMode, want []byte) []byte {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != perm {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode(), perm)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want != nil && !bytes.Equal(got, want) {
		t.Errorf("%s: content differs from the source (%d bytes, want %d)", path, len(got), len(want))
	}
	return got
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkInstalled checks a tree installed into dest with the binary as
// prefix/bin/edgemq (a copy of bin), the unit in unitDir and the example
// configuration.
func checkInstalled(t *testing.T, dest, prefix, unitDir, bin string) {
	t.Helper()
	root := repoRoot(t)
	installed := filepath.Join(dest, prefix, "bin", "edgemq")
	checkFile(t, installed, 0o755, readFile(t, bin))
	if out, err := exec.Command(installed, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "edgemq ") {
		t.Errorf("installed edgemq version: %v: %s", err, out)
	}
	unit := string(checkFile(t, filepath.Join(dest, unitDir, "edgemq.service"), 0o644, nil))
	if want := "\nExecStart=" + prefix + "/bin/edgemq run --config /etc/edgemq/edgemq.yaml\n"; !strings.Contains(unit, want) {
		t.Errorf("unit: want the line %q in\n%s", want[1:], unit)
	}
	cfg := filepath.Join(dest, "etc", "edgemq", "edgemq.yaml")
	checkFile(t, cfg, 0o644, readFile(t, filepath.Join(root, "systemd", "edgemq.yaml")))
	checkFile(t, filepath.Join(dest, "etc", "edgemq", "edgemq.example.yaml"), 0o644, readFile(t, filepath.Join(root, "edgemq.example.yaml")))
	// The starter configuration is valid and keeps the state where the
	// unit's StateDirectory puts it.
	if out, err := exec.Command(installed, "check-config", cfg).CombinedOutput(); err != nil {
		t.Errorf("check-config on the installed configuration: %v: %s", err, out)
	}
}

// keepsConfig changes the installed configuration, runs install again and
// checks that the change is still there.
func keepsConfig(t *testing.T, dest string, install func()) {
	t.Helper()
	cfg := filepath.Join(dest, "etc", "edgemq", "edgemq.yaml")
	mine := []byte("# changed on the device\n")
	if err := os.WriteFile(cfg, mine, 0o640); err != nil {
		t.Fatal(err)
	}
	install()
	if got := readFile(t, cfg); !bytes.Equal(got, mine) {
		t.Errorf("a second install replaced the existing configuration:\n%s", got)
	}
}

func TestMakeInstall(t *testing.T) {
	mk := brokertest.RequireTool(t, "make")
	brokertest.RequireTool(t, "install")
	dest := t.TempDir()
	install := func() {
		// BIN: the binary TestMain built, so that make does not build.
		runInstall(t, mk, "install", "DESTDIR="+dest, "PREFIX=/usr", "BIN="+binPath)
	}
	install()
	checkInstalled(t, dest, "/usr", "/etc/systemd/system", binPath)
	keepsConfig(t, dest, install)
}

func TestInstallScript(t *testing.T) {
	bash := brokertest.RequireTool(t, "bash")
	brokertest.RequireTool(t, "install")
	script := filepath.Join("scripts", "install.sh")
	// A dist directory with the four binaries, each a copy of ours with
	// its arch name appended, so that the one installed shows the arch.
	dist := t.TempDir()
	bin := readFile(t, binPath)
	for _, arch := range []string{"armv6", "armv7", "arm64", "amd64"} {
		if err := os.WriteFile(filepath.Join(dist, "edgemq-linux-"+arch), append(bin[:len(bin):len(bin)], arch...), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("arch", func(t *testing.T) {
		for machine, arch := range map[string]string{
			"armv6l": "armv6", "armv7l": "armv7", "armv8l": "armv7",
			"aarch64": "arm64", "arm64": "arm64", "x86_64": "amd64",
		} {
			dest := t.TempDir()
			out := runInstall(t, bash, script, "--dry-run", "--destdir", dest, "--dist", dist, "--machine", machine)
			if want := "arch " + arch + ": " + filepath.Join(dist, "edgemq-linux-"+arch) + " "; !strings.Contains(out, want) {
				t.Errorf("--machine %s: want %q in\n%s", machine, want, out)
			}
			if ents, err := os.ReadDir(dest); err != nil || len(ents) != 0 {
				t.Errorf("--dry-run wrote into DESTDIR: %v %v", ents, err)
			}
		}
		cmd := exec.Command(bash, script, "--dry-run", "--destdir", t.TempDir(), "--dist", dist, "--machine", "mips")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "unsupported machine") {
			t.Errorf("--machine mips: want an error about an unsupported machine, got %v:\n%s", err, out)
		}
	})

	t.Run("install", func(t *testing.T) {
		dest := t.TempDir()
		install := func() {
			runInstall(t, bash, script, "--destdir", dest, "--prefix", "/opt/edgemq", "--no-user", "--no-systemctl",
				"--dist", dist, "--machine", "armv6l")
		}
		install()
		checkInstalled(t, dest, "/opt/edgemq", "/etc/systemd/system", filepath.Join(dist, "edgemq-linux-armv6"))
		keepsConfig(t, dest, install)
	})
}
