package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgemq/edgemq/broker"
	"github.com/edgemq/edgemq/broker/auth"
	"github.com/edgemq/edgemq/broker/brokertest"
	"github.com/edgemq/edgemq/internal/config"
)

func passwdCmd(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cmdPasswd(args, strings.NewReader(stdin), &out, &errb)
	return code, errb.String()
}

func TestPasswd(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "passwd")
	if code, msg := passwdCmd(t, "", "-b", file, "alice", "a"); code != 1 || !strings.Contains(msg, "use -c") {
		t.Errorf("without -c on a missing file: %d %q", code, msg)
	}
	if code, msg := passwdCmd(t, "", "-c", "-b", file, "alice", "a"); code != 0 {
		t.Fatalf("-c -b: %d %s", code, msg)
	}
	if code, msg := passwdCmd(t, "pb\npb\n", file, "bob"); code != 0 {
		t.Fatalf("stdin: %d %s", code, msg)
	}
	if code, msg := passwdCmd(t, "x\ny\n", file, "carol"); code != 1 || !strings.Contains(msg, "do not match") {
		t.Errorf("mismatch: %d %q", code, msg)
	}
	if code, _ := passwdCmd(t, "", "-b", file, "bad:user", "x"); code != 1 {
		t.Error("a username with ':' was accepted")
	}
	if code, _ := passwdCmd(t, "", file); code != 2 {
		t.Error("missing USER: want usage (2)")
	}
	pw, err := auth.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if !pw.Verify("alice", "a") || !pw.Verify("bob", "pb") || pw.Has("carol") {
		t.Errorf("file holds %v", pw.Users())
	}
	if code, msg := passwdCmd(t, "", "-D", file, "alice"); code != 0 {
		t.Fatalf("-D: %d %s", code, msg)
	}
	if code, _ := passwdCmd(t, "", "-D", file, "alice"); code != 1 {
		t.Error("-D of a missing user succeeded")
	}
	if pw, err = auth.Load(file); err != nil || pw.Has("alice") {
		t.Errorf("after -D: %v, %v", pw.Users(), err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode: %v %v", fi.Mode(), err)
	}
}

// TestMosquittoClientsWithPasswordFile: a password file made by `edgemq
// passwd -b`, the auth section wired as `edgemq run` does, and the
// Mosquitto clients with -u/-P.
func TestMosquittoClientsWithPasswordFile(t *testing.T) {
	t.Parallel()
	pub := brokertest.RequireTool(t, "mosquitto_pub")
	sub := brokertest.RequireTool(t, "mosquitto_sub")
	file := filepath.Join(t.TempDir(), "passwd")
	for _, args := range [][]string{{"-c", "-b", file, "dev", "pw-dev"}, {"-b", file, "ops", "pw-ops"}} {
		if code, msg := passwdCmd(t, "", args...); code != 0 {
			t.Fatalf("passwd %v: %s", args, msg)
		}
	}
	a, err := newAuthorizer(config.Auth{
		PasswordFile: file,
		Roles: []config.Role{
			{Name: "dev", Allow: []config.Rule{{Publish: "sensors/%u/#"}}},
			{Name: "ops", Allow: []config.Rule{{Subscribe: "#"}}, Deny: []config.Rule{{Subscribe: "sensors/+/secret"}}},
		},
		Users: map[string][]string{"dev": {"dev"}, "ops": {"ops"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	_, addr := brokertest.StartServer(t, broker.Options{Auth: a,
		Listeners: []broker.Listener{{Address: "127.0.0.1:0", AllowAnonymous: &no}}})
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	base := []string{"-h", "127.0.0.1", "-p", port}

	s := exec.CommandContext(ctx, sub, append(base, "-u", "ops", "-P", "pw-ops", "-t", "#", "-C", "1", "-v", "-W", "10", "-V", "mqttv5")...)
	var sout, serr bytes.Buffer
	s.Stdout, s.Stderr = &sout, &serr
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()

	// Wrong password: mosquitto_pub fails.
	if out, err := exec.CommandContext(ctx, pub, append(base, "-u", "dev", "-P", "nope", "-t", "sensors/dev/t", "-m", "1")...).CombinedOutput(); err == nil {
		t.Errorf("wrong password accepted: %s", out)
	}
	// Publish until the subscriber (connecting in parallel) receives
	// one: first a denied topic for it, then an allowed one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, tp := range []string{"sensors/dev/secret", "sensors/dev/temp"} {
			if out, err := exec.CommandContext(ctx, pub, append(base, "-u", "dev", "-P", "pw-dev", "-q", "1", "-t", tp, "-m", "21.5")...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_pub %s: %v %s", tp, err, out)
			}
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("mosquitto_sub: %v %s", err, serr.String())
			}
			if got := strings.TrimSpace(sout.String()); got != "sensors/dev/temp 21.5" {
				t.Errorf("mosquitto_sub got %q", got)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto_sub received nothing: %s", serr.String())
		}
	}
}

func TestCheckConfigPasswordFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "edgemq.yaml")
	pw := filepath.Join(dir, "passwd")
	data := "broker:\n  auth:\n    password_file: " + pw + "\n    roles: [{name: r, allow: [{topic: '#'}]}]\n    users: {u: [r]}\n"
	if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := cmdCheckConfig([]string{cfg}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "password_file") {
		t.Errorf("missing password file: code %d, %q", code, errb.String())
	}
	if code, msg := passwdCmd(t, "", "-c", "-b", pw, "u", "p"); code != 0 {
		t.Fatal(msg)
	}
	errb.Reset()
	if code := cmdCheckConfig([]string{cfg}, &out, &errb); code != 0 {
		t.Errorf("with the password file: code %d, %q", code, errb.String())
	}
	if err := os.WriteFile(pw, []byte("u:$7$x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := cmdCheckConfig([]string{cfg}, &out, &errb); code != 1 || !strings.Contains(errb.String(), pw+":1:") {
		t.Errorf("bad password file: code %d, %q", code, errb.String())
	}
}
