package auth

import (
	"bufio"
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Password hashes use Mosquitto's "$7$" format, so that files written by
// mosquitto_passwd (2.x) load here and the other way round:
//
//	$7$<iterations>$<salt, standard base64>$<PBKDF2-SHA512 key, standard base64>
//
// New hashes use DefaultIterations and a 12 byte random salt (Mosquitto
// uses 101 iterations, which is too fast to slow down a stolen file; we
// verify any count from the file). PBKDF2 comes from the standard library
// (crypto/pbkdf2, the same code golang.org/x/crypto/pbkdf2 now wraps).
const (
	DefaultIterations = 20000
	saltLen           = 12
	keyLen            = 64
	maxIterations     = 10_000_000
)

// ErrBadHash reports a password hash in an unknown or damaged format.
var ErrBadHash = errors.New("auth: bad password hash")

// Hash returns the encoded hash of password with a fresh salt.
func Hash(password string) (string, error) {
	return hashIter(password, DefaultIterations)
}

func hashIter(password string, iter int) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha512.New, password, salt, iter, keyLen)
	if err != nil {
		return "", fmt.Errorf("auth: hash: %w", err)
	}
	enc := base64.StdEncoding
	return fmt.Sprintf("$7$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

type hash struct {
	iter      int
	salt, key []byte
}

func parseHash(s string) (hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "7" {
		return hash{}, fmt.Errorf("%w: want $7$iterations$salt$hash", ErrBadHash)
	}
	iter, err := strconv.Atoi(parts[2])
	if err != nil || iter < 1 || iter > maxIterations {
		return hash{}, fmt.Errorf("%w: iterations %q", ErrBadHash, parts[2])
	}
	salt, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || len(salt) == 0 {
		return hash{}, fmt.Errorf("%w: salt", ErrBadHash)
	}
	key, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(key) == 0 || len(key) > 128 {
		return hash{}, fmt.Errorf("%w: key", ErrBadHash)
	}
	return hash{iter, salt, key}, nil
}

func (h hash) verify(password string) bool {
	key, err := pbkdf2.Key(sha512.New, password, h.salt, h.iter, len(h.key))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// ValidUsername reports whether name can be stored in a password file: not
// empty, no ':', no control characters.
func ValidUsername(name string) error {
	if name == "" {
		return errors.New("empty username")
	}
	for _, r := range name {
		if r == ':' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("username %q: ':' and control characters are not allowed", name)
		}
	}
	return nil
}

// Passwords is a set of users and password hashes, as in a password file.
// It is safe for concurrent use.
type Passwords struct {
	mu    sync.RWMutex
	users map[string]hash
	raw   map[string]string // as in the file, for Save
	dummy hash              // verified for unknown users: same cost
}

// NewPasswords returns an empty set.
func NewPasswords() *Passwords {
	p := &Passwords{users: map[string]hash{}, raw: map[string]string{}}
	p.dummy = hash{iter: DefaultIterations, salt: make([]byte, saltLen), key: make([]byte, keyLen)}
	return p
}

// Load reads a password file: one "user:hash" line each; empty lines and
// lines starting with '#' are ignored. Errors name the file and line.
func Load(path string) (*Passwords, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a password file held in data; name is used in errors.
func Parse(name string, data []byte) (*Passwords, error) {
	p := NewPasswords()
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		user, enc, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want user:hash", name, line)
		}
		if err := ValidUsername(user); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if _, dup := p.users[user]; dup {
			return nil, fmt.Errorf("%s:%d: user %q appears twice", name, line, user)
		}
		h, err := parseHash(enc)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: user %q: %w", name, line, user, err)
		}
		p.users[user], p.raw[user] = h, enc
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// Verify reports whether password is user's. An unknown user costs as
// much time as a known one, and key comparison is constant time.
func (p *Passwords) Verify(user, password string) bool {
	p.mu.RLock()
	h, ok := p.users[user]
	p.mu.RUnlock()
	if !ok {
		p.dummy.verify(password)
		return false
	}
	return h.verify(password)
}

// Has reports whether user is in the set.
func (p *Passwords) Has(user string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.users[user]
	return ok
}

// Set adds user or changes their password.
func (p *Passwords) Set(user, password string) error {
	if err := ValidUsername(user); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	enc, err := Hash(password)
	if err != nil {
		return err
	}
	return p.setEncoded(user, enc)
}

// setEncoded stores user with an encoded hash.
func (p *Passwords) setEncoded(user, enc string) error {
	h, err := parseHash(enc)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.users[user], p.raw[user] = h, enc
	p.mu.Unlock()
	return nil
}

// Delete removes user and reports whether they existed.
func (p *Passwords) Delete(user string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.users[user]
	delete(p.users, user)
	delete(p.raw, user)
	return ok
}

// Users returns the user names, sorted.
func (p *Passwords) Users() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.usersLocked()
}

// Save writes the set to path atomically (a temporary file in the same
// directory, synced, then renamed over path), with mode 0600.
func (p *Passwords) Save(path string) error {
	var b bytes.Buffer
	p.mu.RLock()
	for _, u := range p.usersLocked() {
		fmt.Fprintf(&b, "%s:%s\n", u, p.raw[u])
	}
	p.mu.RUnlock()
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("auth: save: %w", err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(b.Bytes())
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("auth: save %s: %w", path, err)
	}
	return nil
}

func (p *Passwords) usersLocked() []string {
	var us []string
	for u := range p.users {
		us = append(us, u)
	}
	slices.Sort(us)
	return us
}
