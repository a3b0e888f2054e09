package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
	"github.com/edgemq/edgemq/broker/topic"
	"github.com/edgemq/edgemq/internal/mqttcli"
)

const pubUsage = `usage: edgemq pub [-h host] [-p port] [-u username] [-P password] -t topic
                  {-m message | -f file | -l | -n | -s}
                  [-q qos] [-r] [-i id] [-c] [-k keepalive] [-V version] [-x expiry]
                  [-d] [--quiet] [--cafile file [--cert file --key file] [--insecure]]

Publishes like mosquitto_pub, with its flags:
  -h host     broker host (localhost)        -p port   1883, or 8883 with --cafile
  -t topic    topic to publish to            -q qos    0, 1 or 2 (0)
  -m message  the message                    -r        retain the message
  -f file     the contents of file           -n        a null (zero-length) message
  -l          one message per line of stdin  -s        all of stdin as one message
  -u, -P      user name and password         -i id     client id (random)
  -k secs     keep alive, 5-65535 (60)       -c        keep the session (needs -i)
  -V version  mqttv31 (31), mqttv311 (311, the default) or mqttv5 (5)
  -x secs     MQTT 5 session expiry interval (-1: never)
  -d          debug lines on stderr          --quiet   print no error messages
  --cafile, --cert, --key  TLS with this CA, client certificate and key
  --insecure  do not check the server's host name (the chain still is)
QoS 1 and 2 messages are acknowledged before edgemq pub exits.
`

const subUsage = `usage: edgemq sub [-h host] [-p port] [-u username] [-P password] -t topic ...
                  [-q qos] [-v] [-N] [-C count] [-W secs] [-R] [--retained-only]
                  [-i id] [-c] [-k keepalive] [-V version] [-x expiry]
                  [-d] [--quiet] [--cafile file [--cert file --key file] [--insecure]]

Subscribes like mosquitto_sub, with its flags:
  -t filter   topic filter, may be repeated  -q qos    0, 1 or 2 (0)
  -v          print "topic payload"          -N        no newline after each message
  -C count    exit after count messages      -W secs   exit after secs (status 27)
  -R          skip retained (stale) messages
  --retained-only  print retained messages only; exit at the first other one
  -h, -p, -u, -P, -i, -k, -c, -V, -x, -d, --quiet and the TLS flags as for
  edgemq pub. Ctrl-C ends it normally.
`

// usageError is a bad command line: one line, exit status 1 as mosquitto.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

// errHelp asks for the usage text.
var errHelp = errors.New("help")

// cliArgs walks a mosquitto-style command line: flags and their values as
// separate arguments.
type cliArgs struct {
	args []string
	i    int
}

// value returns the value of flag, the next argument.
func (a *cliArgs) value(flag, what string) (string, error) {
	if a.i+1 >= len(a.args) {
		return "", usagef("Error: %s argument given but no %s specified.", flag, what)
	}
	a.i++
	return a.args[a.i], nil
}

// intValue returns the value of flag as an int in [lo, hi]; bad is the
// message for a value out of range.
func (a *cliArgs) intValue(flag, what string, lo, hi int, bad string) (int, error) {
	s, err := a.value(flag, what)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, usagef(bad, s)
	}
	return n, nil
}

// common parses a flag shared by pub and sub; ok is false when flag is not
// one of them.
func (a *cliArgs) common(flag string, o *mqttcli.Options, quiet *bool, portSet *bool) (ok bool, err error) {
	switch flag {
	case "-h", "--host":
		o.Host, err = a.value(flag, "host")
	case "-p", "--port":
		o.Port, err = a.intValue(flag, "port", 1, 65535, "Error: Invalid port given: %s")
		*portSet = true
	case "-u", "--username":
		o.Username, err = a.value(flag, "username")
		o.HasUsername = true
	case "-P", "--pw":
		o.Password, err = a.value(flag, "password")
		o.HasPassword = true
	case "-i", "--id":
		o.ClientID, err = a.value(flag, "id")
	case "-k", "--keepalive":
		o.KeepAlive, err = a.intValue(flag, "keepalive", 5, 65535, "Error: Invalid keepalive %q given, it must be between 5 and 65535 inclusive.")
	case "-c", "--disable-clean-session":
		o.NoCleanSession = true
	case "-V", "--protocol-version":
		var s string
		if s, err = a.value(flag, "protocol version"); err == nil {
			switch s {
			case "mqttv31", "31":
				o.Version = packet.Version31
			case "mqttv311", "311":
				o.Version = packet.Version311
			case "mqttv5", "5":
				o.Version = packet.Version5
			default:
				err = usagef("Error: Invalid protocol version argument %q given.", s)
			}
		}
	case "-x":
		var s string
		if s, err = a.value(flag, "session expiry interval"); err == nil {
			n, perr := strconv.ParseInt(s, 10, 64)
			switch {
			case s == "∞" || n == -1 && perr == nil:
				o.SessionExpiry = math.MaxUint32
			case perr != nil || n < 0 || n > math.MaxUint32:
				err = usagef("Error: Invalid session-expiry-interval %q.", s)
			default:
				o.SessionExpiry = n
			}
		}
	case "-d", "--debug":
		o.Debug = io.Discard // replaced by stderr in runPubSub
	case "--quiet":
		*quiet = true
	case "--cafile":
		o.CAFile, err = a.value(flag, "file")
	case "--cert":
		o.CertFile, err = a.value(flag, "file")
	case "--key":
		o.KeyFile, err = a.value(flag, "file")
	case "--insecure":
		o.Insecure = true
	case "--help":
		err = errHelp
	default:
		return false, nil
	}
	return true, err
}

// finish checks and completes the options shared by pub and sub.
func finish(o *mqttcli.Options, portSet bool) error {
	if !portSet {
		o.Port = 1883
		if o.CAFile != "" {
			o.Port = 8883 // as mosquitto: the MQTT over TLS port
		}
	}
	if o.NoCleanSession && o.ClientID == "" {
		return usageError("Error: You must provide a client id if you are using the -c option.")
	}
	if o.SessionExpiry >= 0 && o.Version != packet.Version5 {
		return usageError("Error: -x needs MQTT v5 (-V mqttv5).")
	}
	if o.CAFile == "" && (o.CertFile != "" || o.KeyFile != "" || o.Insecure) {
		return usageError("Error: --cert, --key and --insecure need --cafile.")
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return usageError("Error: Both certfile and keyfile must be provided if one of them is set.")
	}
	return nil
}

func qosValue(a *cliArgs, flag string) (byte, error) {
	n, err := a.intValue(flag, "QoS", 0, 2, "Error: Invalid QoS given: %s")
	return byte(n), err
}

// parsePub parses the flags of edgemq pub.
func parsePub(args []string) (cfg mqttcli.PubConfig, quiet bool, err error) {
	cfg.Options = mqttcli.Default()
	a := &cliArgs{args: args}
	var portSet bool
	modes := 0
	for ; a.i < len(args); a.i++ {
		flag := args[a.i]
		ok, err := a.common(flag, &cfg.Options, &quiet, &portSet)
		if err != nil {
			return cfg, quiet, err
		}
		if ok {
			continue
		}
		switch flag {
		case "-t", "--topic":
			cfg.Topic, err = a.value(flag, "topic")
		case "-q", "--qos":
			cfg.QoS, err = qosValue(a, flag)
		case "-r", "--retain":
			cfg.Retain = true
		case "-m", "--message":
			var s string
			s, err = a.value(flag, "message")
			cfg.Mode, cfg.Payload, modes = mqttcli.ModeMessage, []byte(s), modes+1
		case "-f", "--file":
			cfg.File, err = a.value(flag, "file")
			cfg.Mode, modes = mqttcli.ModeFile, modes+1
		case "-l", "--stdin-line":
			cfg.Mode, modes = mqttcli.ModeLines, modes+1
		case "-s", "--stdin-file":
			cfg.Mode, modes = mqttcli.ModeStdin, modes+1
		case "-n", "--null-message":
			cfg.Mode, modes = mqttcli.ModeNull, modes+1
		default:
			err = usagef("Error: Unknown option '%s'.", flag)
		}
		if err != nil {
			return cfg, quiet, err
		}
	}
	if err := finish(&cfg.Options, portSet); err != nil {
		return cfg, quiet, err
	}
	switch {
	case modes > 1:
		return cfg, quiet, usageError("Error: Only one type of message can be sent at once.")
	case cfg.Topic == "" || modes == 0:
		return cfg, quiet, usageError("Error: Both topic and message must be supplied.")
	case topic.ValidName(cfg.Topic) != nil:
		return cfg, quiet, usagef("Error: Invalid publish topic '%s', does it contain '+' or '#'?", cfg.Topic)
	}
	return cfg, quiet, nil
}

// parseSub parses the flags of edgemq sub.
func parseSub(args []string) (cfg mqttcli.SubConfig, quiet bool, err error) {
	cfg.Options = mqttcli.Default()
	a := &cliArgs{args: args}
	var portSet bool
	for ; a.i < len(args); a.i++ {
		flag := args[a.i]
		ok, err := a.common(flag, &cfg.Options, &quiet, &portSet)
		if err != nil {
			return cfg, quiet, err
		}
		if ok {
			continue
		}
		switch flag {
		case "-t", "--topic":
			var s string
			if s, err = a.value(flag, "topic"); err == nil {
				if topic.ValidFilter(s) != nil {
					err = usagef("Error: Invalid subscription topic '%s', are all '+' and '#' wildcards correct?", s)
				}
				cfg.Topics = append(cfg.Topics, s)
			}
		case "-q", "--qos":
			cfg.QoS, err = qosValue(a, flag)
		case "-v", "--verbose":
			cfg.Verbose = true
		case "-N":
			cfg.NoEOL = true
		case "-C":
			cfg.Count, err = a.intValue(flag, "count", 1, math.MaxInt32, "Error: Invalid message count %q.")
		case "-W":
			var n int
			n, err = a.intValue(flag, "timeout", 1, 3600, "Error: Invalid timeout %q, it must be between 1 and 3600 seconds.")
			cfg.Timeout = time.Duration(n) * time.Second
		case "-R":
			cfg.NoRetained = true
		case "--retained-only":
			cfg.RetainedOnly = true
		default:
			err = usagef("Error: Unknown option '%s'.", flag)
		}
		if err != nil {
			return cfg, quiet, err
		}
	}
	if err := finish(&cfg.Options, portSet); err != nil {
		return cfg, quiet, err
	}
	switch {
	case len(cfg.Topics) == 0:
		return cfg, quiet, usageError("Error: You must specify a topic to subscribe to.")
	case cfg.NoRetained && cfg.RetainedOnly:
		return cfg, quiet, usageError("Error: -R and --retained-only cannot be used together.")
	}
	return cfg, quiet, nil
}

// cmdPub runs edgemq pub.
func cmdPub(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, quiet, err := parsePub(args)
	if code, done := parsed(err, quiet, pubUsage, stdout, stderr); done {
		return code
	}
	if cfg.Debug != nil {
		cfg.Debug = stderr
	}
	return exitStatus(mqttcli.Pub(ctx, cfg, stdin), quiet, stderr)
}

// cmdSub runs edgemq sub.
func cmdSub(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, quiet, err := parseSub(args)
	if code, done := parsed(err, quiet, subUsage, stdout, stderr); done {
		return code
	}
	if cfg.Debug != nil {
		cfg.Debug = stderr
	}
	return exitStatus(mqttcli.Sub(ctx, cfg, stdout), quiet, stderr)
}

// parsed handles a parse error or --help; done says the command is over.
func parsed(err error, quiet bool, usage string, stdout, stderr io.Writer) (code int, done bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, errHelp):
		fmt.Fprint(stdout, usage)
		return 0, true
	}
	if !quiet {
		fmt.Fprintln(stderr, strings.TrimSpace(err.Error()))
	}
	return 1, true
}

func exitStatus(err error, quiet bool, stderr io.Writer) int {
	code, msg := mqttcli.ExitStatus(err)
	if msg != "" && !quiet {
		fmt.Fprintln(stderr, msg)
	}
	return code
}
