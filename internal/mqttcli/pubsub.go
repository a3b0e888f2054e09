package mqttcli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgemq/edgemq/broker/packet"
)

// ErrTimedOut is returned by Sub when its Timeout passes (mosquitto_sub -W).
var ErrTimedOut = errors.New("mqttcli: timed out")

// ErrAllDenied is returned by Sub when the broker refused every filter.
var ErrAllDenied = errors.New("mqttcli: all subscription requests were denied")

// Mode says where the messages of Pub come from.
type Mode int

// Message sources, one per mosquitto_pub flag.
const (
	ModeMessage Mode = iota // -m: Payload
	ModeNull                // -n: one zero-length message
	ModeFile                // -f: the contents of File
	ModeStdin               // -s: all of standard input as one message
	ModeLines               // -l: one message per line of standard input
)

// PubConfig is what mosquitto_pub's flags say.
type PubConfig struct {
	Options
	Topic   string
	QoS     byte
	Retain  bool
	Mode    Mode
	Payload []byte // ModeMessage
	File    string // ModeFile
}

// SubConfig is what mosquitto_sub's flags say.
type SubConfig struct {
	Options
	Topics  []string
	QoS     byte
	Verbose bool // -v: "topic payload"
	NoEOL   bool // -N: no newline after each message
	// Count ends Sub after that many messages (-C); 0 means no limit.
	Count int
	// Timeout ends Sub with ErrTimedOut (-W); 0 means none.
	Timeout time.Duration
	// NoRetained skips retained (stale) messages (-R); they are not counted.
	NoRetained bool
	// RetainedOnly prints retained messages only and ends at the first
	// message that is not retained (--retained-only).
	RetainedOnly bool
}

// Pub connects, publishes the messages of cfg.Mode, waits until every QoS 1
// and 2 message is acknowledged (PUBACK, PUBCOMP) and disconnects. With
// ModeLines, each line of stdin is sent as it is read, without its
// newline; a last line without a newline is sent too. When ctx ends, Pub
// disconnects and returns ctx's error; a read of stdin pending then ends
// with the process.
func Pub(ctx context.Context, cfg PubConfig, stdin io.Reader) error {
	var payload []byte
	switch cfg.Mode {
	case ModeMessage:
		payload = cfg.Payload
	case ModeFile:
		b, err := os.ReadFile(cfg.File)
		if err != nil {
			return fmt.Errorf("unable to read file %q: %w", cfg.File, err)
		}
		payload = b
	case ModeStdin:
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		payload = b
	}
	c, err := Dial(ctx, cfg.Options)
	if err != nil {
		return err
	}
	defer c.Close()
	if cfg.Mode != ModeLines {
		if payload == nil {
			payload = []byte{}
		}
		if err := c.Publish(ctx, cfg.Topic, payload, cfg.QoS, cfg.Retain); err != nil {
			return err
		}
	} else if err := pubLines(ctx, c, cfg, stdin); err != nil {
		return err
	}
	werr := c.Wait(ctx)
	if ctx.Err() != nil {
		c.Disconnect()
		return werr
	}
	if err := c.Disconnect(); err != nil {
		return err
	}
	return werr
}

// pubLines publishes each line of stdin. The lines are read by a goroutine
// that ends at the end of stdin or at its next line after Pub returned.
func pubLines(ctx context.Context, c *Client, cfg PubConfig, stdin io.Reader) error {
	lines := make(chan []byte)
	errc := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		br := bufio.NewReader(stdin)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				select {
				case lines <- bytes.TrimSuffix(line, []byte("\n")):
				case <-stop:
					return
				}
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				errc <- err
				return
			}
		}
	}()
	for {
		select {
		case line := <-lines:
			if err := c.Publish(ctx, cfg.Topic, line, cfg.QoS, cfg.Retain); err != nil {
				return err
			}
		case err := <-errc:
			if err != nil {
				return fmt.Errorf("read standard input: %w", err)
			}
			return nil
		case <-c.Done():
			return c.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Sub connects, subscribes to cfg.Topics and writes the messages it
// receives to stdout as mosquitto_sub does, until cfg.Count messages,
// cfg.Timeout (ErrTimedOut) or the end of ctx (nil: SIGINT is a normal
// end). A connection that fails to open, or a broker that refuses every
// filter, ends Sub with an error. A connection lost later is opened again
// after a pause (first reconnectMin, doubling up to reconnectMax), and the
// filters subscribed again, as mosquitto_sub does; a broker that then
// refuses the connection, or that says another client took the session
// over (MQTT 5), ends Sub.
func Sub(ctx context.Context, cfg SubConfig, stdout io.Writer) error {
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cfg.Timeout, ErrTimedOut)
		defer cancel()
	}
	s := &subscriber{cfg: cfg, w: bufio.NewWriter(stdout)}
	c, err := s.open(ctx)
	if err != nil {
		return err
	}
	for {
		lost, err := s.receive(ctx, c)
		c.Close()
		if !lost {
			return err
		}
		if c, err = s.reopen(ctx, err); err != nil {
			return err
		}
	}
}

// Pauses between reconnections of Sub.
const (
	reconnectMin = time.Second
	reconnectMax = 30 * time.Second
)

// subscriber is the state of Sub that lasts across connections.
type subscriber struct {
	cfg SubConfig
	w   *bufio.Writer
	n   int // messages printed
}

// open connects and subscribes. The client is nil when err is not.
func (s *subscriber) open(ctx context.Context) (*Client, error) {
	c, err := Dial(ctx, s.cfg.Options)
	if err != nil {
		if context.Cause(ctx) == ErrTimedOut {
			return nil, ErrTimedOut
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	codes, err := c.Subscribe(ctx, s.cfg.QoS, s.cfg.Topics...)
	if err != nil {
		err = subEnd(ctx, c, err)
		c.Close()
		return nil, err
	}
	if s.cfg.Debug != nil {
		granted := make([]string, len(codes))
		for i, code := range codes {
			granted[i] = strconv.Itoa(int(code))
		}
		c.debugLine("Subscribed (mid: 1): " + strings.Join(granted, ", "))
	}
	denied := 0
	for _, code := range codes {
		if code.IsError() {
			denied++
		}
	}
	if denied == len(codes) {
		c.Disconnect()
		c.Close()
		return nil, ErrAllDenied
	}
	return c, nil
}

// reopen connects again after the connection was lost with why, pausing
// between attempts. It returns a nil client with a nil error when ctx ended
// normally.
func (s *subscriber) reopen(ctx context.Context, why error) (*Client, error) {
	var de *DisconnectError
	if errors.As(why, &de) && de.Code == packet.SessionTakenOver {
		return nil, why
	}
	pause := reconnectMin
	for {
		if s.cfg.Debug != nil {
			fmt.Fprintf(s.cfg.Debug, "Client %s: %v; reconnecting in %v\n", s.cfg.ClientID, why, pause)
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if context.Cause(ctx) == ErrTimedOut {
				return nil, ErrTimedOut
			}
			return nil, nil
		}
		c, err := s.open(ctx)
		var ce *ConnackError
		switch {
		case c != nil:
			return c, nil
		case err == nil: // ctx ended
			return nil, nil
		case errors.Is(err, ErrTimedOut), errors.Is(err, ErrAllDenied), errors.As(err, &ce):
			return nil, err
		}
		why = err
		pause = min(2*pause, reconnectMax)
	}
}

// receive prints the messages of c. lost reports that the connection was
// lost, with err saying why; otherwise Sub ends with err. A nil c (ctx
// ended while connecting) ends Sub normally.
func (s *subscriber) receive(ctx context.Context, c *Client) (lost bool, err error) {
	if c == nil {
		return false, nil
	}
	for {
		select {
		case p := <-c.Messages():
			if end, err := s.print(c, p); end {
				return false, err
			}
		case <-ctx.Done():
			return false, subEnd(ctx, c, ctx.Err())
		case <-c.Done():
			if ctx.Err() != nil {
				return false, subEnd(ctx, c, ctx.Err())
			}
			for { // what arrived before the loss
				select {
				case p := <-c.Messages():
					if end, err := s.print(c, p); end {
						return false, err
					}
					continue
				default:
				}
				return true, c.Err()
			}
		}
	}
}

// print writes p unless the options skip it; end says Sub is over (Count
// reached, the first message that is not retained with RetainedOnly, or
// stdout failed), with err its result.
func (s *subscriber) print(c *Client, p *packet.Publish) (end bool, err error) {
	if s.cfg.NoRetained && p.Retain {
		return false, nil
	}
	if s.cfg.RetainedOnly && !p.Retain {
		return true, c.Disconnect()
	}
	writeMessage(s.w, p, s.cfg.Verbose, !s.cfg.NoEOL)
	if err := s.w.Flush(); err != nil {
		c.Disconnect()
		return true, err
	}
	if s.n++; s.cfg.Count > 0 && s.n >= s.cfg.Count {
		return true, c.Disconnect()
	}
	return false, nil
}

// subEnd disconnects and tells a normal end (ctx cancelled) from a timeout
// and an error.
func subEnd(ctx context.Context, c *Client, err error) error {
	c.Disconnect()
	switch {
	case context.Cause(ctx) == ErrTimedOut:
		return ErrTimedOut
	case ctx.Err() != nil:
		return nil
	}
	return err
}

// writeMessage prints p as mosquitto_sub does: the payload, or with verbose
// "topic payload"; a zero-length payload prints nothing, or "topic (null)"
// with verbose; eol adds the newline.
func writeMessage(w *bufio.Writer, p *packet.Publish, verbose, eol bool) {
	if verbose {
		if len(p.Payload) == 0 {
			if eol {
				fmt.Fprintf(w, "%s (null)\n", p.Topic)
			}
			return
		}
		w.WriteString(p.Topic)
		w.WriteByte(' ')
	} else if len(p.Payload) == 0 {
		return
	}
	w.Write(p.Payload)
	if eol {
		w.WriteByte('\n')
	}
}

// ExitStatus maps an error of Pub or Sub to mosquitto's exit status and
// message (empty for success): a refused connection exits with the CONNACK
// code and "Connection error: ...", a timeout with 27 and "Timed out",
// a refused v5 publish with 0 and mosquitto's warning, anything else with
// 1 and "Error: ...".
func ExitStatus(err error) (code int, msg string) {
	var ce *ConnackError
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &ce):
		return int(ce.Code), "Connection error: " + ce.Error()
	case errors.Is(err, ErrTimedOut):
		return 27, "Timed out"
	case errors.Is(err, ErrAllDenied):
		return 1, "All subscription requests were denied."
	case errors.Is(err, context.Canceled):
		return 1, "Error: interrupted"
	case errors.Is(err, syscall.ECONNREFUSED):
		return 1, "Error: Connection refused"
	}
	var pe *publishError
	if errors.As(err, &pe) {
		return 0, err.Error()
	}
	return 1, "Error: " + err.Error()
}
