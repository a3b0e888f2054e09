package auth

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgemq/edgemq/broker/brokertest"
)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	enc, err := hashIter("s3cret", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$7$1000$") {
		t.Fatalf("hash %q: want $7$1000$ prefix", enc)
	}
	p, err := Parse("passwd", []byte("# comment\n\nalice:"+enc+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Verify("alice", "s3cret") {
		t.Error("Verify(alice, s3cret) = false")
	}
	for _, c := range [][2]string{{"alice", "S3cret"}, {"alice", ""}, {"bob", "s3cret"}, {"", ""}} {
		if p.Verify(c[0], c[1]) {
			t.Errorf("Verify(%q, %q) = true", c[0], c[1])
		}
	}
}

// A hash made by mosquitto_passwd 2.0 (password "test", 101 iterations).
const mosquittoHash = "$7$101$6y8FbHILseCOPDbJ$88qmZE4mlpfyva/lGyRtaztGmrPEVYDIQgbiQD1fTsBRSMUxli2IgHQwfHVOfSL4eMt3AFsQXwjlcuSAm/fENQ=="

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"alice", "f:1: want user:hash"},
		{"\nalice:$6$x", "f:2: user \"alice\""},
		{"a:" + mosquittoHash + "\na:" + mosquittoHash, "f:2: user \"a\" appears twice"},
		{":" + mosquittoHash, "f:1: empty username"},
		{"a:$7$0$AAAA$AAAA", "iterations"},
		{"a:$7$10$!!$AAAA", "salt"},
		{"a:$7$10$AAAA$", "key"},
	} {
		_, err := Parse("f", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want error with %q", tc.in, err, tc.want)
		}
	}
}

func TestMosquittoCompatible(t *testing.T) {
	t.Parallel()
	p, err := Parse("f", []byte("u:"+mosquittoHash+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Verify("u", "test") || p.Verify("u", "wrong") {
		t.Error("mosquitto_passwd hash not verified")
	}
}

// TestMosquittoPasswd: a file written by mosquitto_passwd loads, and one
// written by Save is read by mosquitto_passwd (-U would rehash; -D edits
// it in place, which needs it parsed).
func TestMosquittoPasswd(t *testing.T) {
	t.Parallel()
	tool := brokertest.RequireTool(t, "mosquitto_passwd")
	path := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(tool, "-c", "-b", path, "m", "pw-m").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Verify("m", "pw-m") {
		t.Fatal("mosquitto_passwd's hash not verified")
	}
	if err := p.Set("e", "pw-e"); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "-b", path, "m2", "x").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd on our file: %v %s", err, out)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Verify("e", "pw-e") || !q.Verify("m2", "x") {
		t.Error("round trip through mosquitto_passwd lost a user")
	}
}

func TestSetDeleteSave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "passwd")
	p := NewPasswords()
	if err := p.Set("alice", "a"); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("bob", "b"); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("bad:name", "x"); err == nil {
		t.Error("Set(bad:name) succeeded")
	}
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Verify("alice", "a") || !q.Verify("bob", "b") || q.Verify("alice", "b") {
		t.Error("reloaded file does not verify")
	}
	if !q.Delete("bob") || q.Delete("bob") {
		t.Error("Delete(bob) twice: want true then false")
	}
	if err := q.Save(path); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Users(), ","); got != "alice" {
		t.Errorf("users after delete: %s", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load(missing) succeeded")
	}
}
