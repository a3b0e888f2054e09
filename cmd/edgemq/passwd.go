package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/edgemq/edgemq/broker/auth"
)

const passwdUsage = `usage: edgemq passwd [-c] [-b] [-D] FILE USER [PASSWORD]

Adds USER to the password FILE or changes their password, like
mosquitto_passwd (and in its format):
  -c  create FILE, replacing an existing one
  -b  batch: the password is the third argument (it shows in ps and the
      shell history; for scripts only)
  -D  delete USER
Without -b the password is asked twice on the terminal, without echo, or
read as two lines from standard input when it is not a terminal.
`

// cmdPasswd edits a password file.
func cmdPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, passwdUsage) }
	create := fs.Bool("c", false, "create the file")
	batch := fs.Bool("b", false, "password on the command line")
	del := fs.Bool("D", false, "delete the user")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	want := 2
	if *batch {
		want = 3
	}
	if len(rest) != want || (*del && (*batch || *create)) {
		fs.Usage()
		return 2
	}
	file, user := rest[0], rest[1]
	if err := passwd(file, user, rest[2:], *create, *del, stdin, stdout); err != nil {
		fmt.Fprintln(stderr, "edgemq passwd:", err)
		return 1
	}
	return 0
}

func passwd(file, user string, batch []string, create, del bool, stdin io.Reader, stdout io.Writer) error {
	if err := auth.ValidUsername(user); err != nil {
		return err
	}
	var pw *auth.Passwords
	if create {
		pw = auth.NewPasswords()
	} else {
		var err error
		if pw, err = auth.Load(file); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w (use -c to create it)", err)
			}
			return err
		}
	}
	if del {
		if !pw.Delete(user) {
			return fmt.Errorf("user %q is not in %s", user, file)
		}
		return pw.Save(file)
	}
	var password string
	if len(batch) > 0 {
		password = batch[0]
	} else {
		var err error
		if password, err = readPassword(stdin, stdout); err != nil {
			return err
		}
	}
	if password == "" {
		return errors.New("empty password")
	}
	if err := pw.Set(user, password); err != nil {
		return err
	}
	return pw.Save(file)
}

// readPassword asks twice: on the terminal without echo, or as two lines
// of stdin.
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stdout, "Reenter password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("passwords do not match")
		}
		return string(a), nil
	}
	br := bufio.NewReader(stdin)
	var lines [2]string
	for i := range lines {
		s, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || s == "") {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		lines[i] = strings.TrimRight(s, "\r\n")
	}
	if lines[0] != lines[1] {
		return "", errors.New("passwords do not match")
	}
	return lines[0], nil
}
