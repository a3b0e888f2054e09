package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/edgemq/edgemq/storefwd"
)

// verdict is what the sink does with a batch after a request.
type verdict int

const (
	delivered  verdict = iota // 2xx: acknowledged
	deadLetter                // 4xx other than 408 and 429: removed, counted
	retry                     // 5xx, 408, 429, other codes, network errors
	closing                   // the sink is closing: the batch stays queued
)

// classify maps an HTTP status code to a verdict.
func classify(code int) verdict {
	switch {
	case code >= 200 && code <= 299:
		return delivered
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return retry
	case code >= 400 && code <= 499:
		return deadLetter
	default:
		return retry
	}
}

// outcome is the result of one request.
type outcome struct {
	verdict    verdict
	status     int           // HTTP status; 0 without an answer
	retryAfter time.Duration // asked for by a 429 or 503; -1: not given
	err        error         // why it failed; nil when delivered
}

// maxAnswer bounds what is read of an answer (the rest is discarded with
// the connection); answerSnippet what of it goes into LastError.
const (
	maxAnswer     = 64 << 10
	answerSnippet = 200
)

// deliver sends the queued messages in batches, in order, until the sink
// closes. A batch is acknowledged in the queue only after a 2xx answer
// (or dead-lettered after a final 4xx); after any other outcome the same
// batch is sent again after a back-off.
func (s *Sink) deliver() {
	var (
		pace    pacer
		carry   *storefwd.Record
		buf     bytes.Buffer
		backoff time.Duration
		failing bool
	)
	for {
		cfg, _ := s.settings()
		recs, err := s.collect(cfg, &carry)
		if err != nil {
			return // closing
		}
		msgs, err := s.decode(recs)
		if err != nil {
			return
		}
		if len(msgs) == 0 {
			continue
		}
		if d := pace.reserve(time.Now(), cfg.MaxRate, len(msgs)); d > 0 {
			if alive, _ := s.sleep(d, false); !alive {
				return
			}
		}
		for attempt := 0; ; attempt++ {
			cfg, client := s.settings()
			if attempt > 0 {
				s.count(func(st *Stats) { st.Resent += uint64(len(msgs)) })
			}
			out := s.post(cfg, client, &buf, msgs)
			switch out.verdict {
			case closing:
				return
			case delivered, deadLetter:
				if failing && out.verdict == delivered {
					s.log.Info("webhook delivery recovered", "queued", s.q.Stats().Records)
				}
				failing, backoff = false, 0
				if err := s.finish(msgs, out); err != nil {
					return
				}
			case retry:
				backoff = nextBackoff(backoff, cfg.RetryMin, cfg.RetryMax)
				d := backoff/2 + rand.N(backoff/2+1) // jitter in [backoff/2, backoff]
				if out.retryAfter >= 0 {
					d = min(max(out.retryAfter, cfg.RetryMin), cfg.RetryMax)
				}
				if !failing {
					s.log.Warn("webhook delivery failed, retrying", "err", out.err, "messages", len(msgs), "retry_in", d)
				} else {
					s.log.Debug("webhook delivery failed again", "err", out.err, "retry_in", d)
				}
				failing = true
				s.count(func(st *Stats) {
					st.Failures++
					st.LastError, st.LastErrorAt = out.err.Error(), time.Now()
				})
				alive, woken := s.sleep(d, true)
				if !alive {
					return
				}
				if woken {
					backoff = 0 // new settings: try them at once
				}
				continue
			}
			break
		}
	}
}

// nextBackoff doubles b within [lo, hi].
func nextBackoff(b, lo, hi time.Duration) time.Duration {
	if b < lo {
		return max(lo, time.Millisecond)
	}
	return min(2*b, hi)
}

// sleep waits d; alive is false when the sink closes first. With
// wakeable set, a Reconfigure ends the wait early (woken).
func (s *Sink) sleep(d time.Duration, wakeable bool) (alive, woken bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	var reconf chan struct{}
	if wakeable {
		reconf = s.reconfigured
	}
	select {
	case <-s.ctx.Done():
		return false, false
	case <-reconf:
		return true, true
	case <-t.C:
		return true, false
	}
}

// collect takes the next batch from the queue: it waits for a first
// record, then takes what follows until the batch is full (messages or
// bytes) or the first record has waited BatchDelay. A record that would
// overflow the bytes is kept in carry for the next batch.
func (s *Sink) collect(cfg Config, carry **storefwd.Record) ([]storefwd.Record, error) {
	var first storefwd.Record
	if *carry != nil {
		first, *carry = **carry, nil
	} else {
		var err error
		if first, err = s.q.Next(s.ctx); err != nil {
			return nil, err
		}
	}
	batch := []storefwd.Record{first}
	size := recordSize(first)
	start := first.Time
	if start.IsZero() {
		start = time.Now()
	}
	deadline := start.Add(cfg.BatchDelay)
	var wctx context.Context
	for len(batch) < cfg.BatchMessages && size < cfg.BatchBytes {
		rec, ok, err := s.q.TryNext()
		if err != nil {
			return nil, err
		}
		if !ok {
			if !time.Now().Before(deadline) {
				break
			}
			if wctx == nil {
				var cancel context.CancelFunc
				wctx, cancel = context.WithDeadline(s.ctx, deadline)
				defer cancel()
			}
			if rec, err = s.q.Next(wctx); err != nil {
				if s.ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
					break // the batch waited long enough
				}
				return nil, err
			}
		}
		if size+recordSize(rec) > cfg.BatchBytes {
			*carry = &rec
			break
		}
		batch = append(batch, rec)
		size += recordSize(rec)
	}
	return batch, nil
}

func recordSize(r storefwd.Record) int { return len(r.Meta) + len(r.Data) }

// decode turns records into messages; a record that does not decode is
// acknowledged (it would never go out) and counted in Corrupt.
func (s *Sink) decode(recs []storefwd.Record) ([]message, error) {
	msgs := make([]message, 0, len(recs))
	for _, r := range recs {
		m, err := decodeRecord(r.Seq, r.Meta, r.Data)
		if err != nil {
			s.log.Error("dropping undecodable queue record", "seq", r.Seq, "err", err)
			s.count(func(st *Stats) { st.Corrupt++ })
			if err := s.q.Ack(r.Seq); err != nil {
				return nil, err
			}
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// post sends msgs in one request.
func (s *Sink) post(cfg Config, client *http.Client, buf *bytes.Buffer, msgs []message) outcome {
	if err := encodeBody(buf, s.gateway, s.name, msgs, cfg.Gzip); err != nil {
		// Not expected with these types; retrying would not help.
		return outcome{verdict: deadLetter, retryAfter: -1, err: err}
	}
	ctx, cancel := context.WithTimeout(s.ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(buf.Bytes()))
	if err != nil {
		return outcome{verdict: retry, retryAfter: -1, err: fmt.Errorf("sink %q: request: %w", s.name, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "edgemq-webhook")
	for k, v := range cfg.Headers {
		req.Header.Set(k, v)
	}
	if cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	s.count(func(st *Stats) { st.Requests++ })
	if s.ctx.Err() != nil {
		if err == nil {
			resp.Body.Close()
		}
		return outcome{verdict: closing}
	}
	if err != nil {
		return outcome{verdict: retry, retryAfter: -1, err: fmt.Errorf("sink %q: %w", s.name, err)}
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	out := outcome{verdict: classify(resp.StatusCode), status: resp.StatusCode, retryAfter: -1}
	if out.verdict == delivered {
		return out
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	msg := fmt.Sprintf("sink %q: HTTP %s", s.name, resp.Status)
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		msg += " to " + strconv.Quote(loc) + " (redirects are not followed: fix the url)"
	}
	if a := snippet(answer); a != "" {
		msg += ": " + a
	}
	out.err = errors.New(msg)
	return out
}

// finish acknowledges a delivered or dead-lettered batch and counts it.
func (s *Sink) finish(msgs []message, out outcome) error {
	n := uint64(len(msgs))
	now := time.Now()
	if out.verdict == deadLetter {
		s.log.Warn("webhook endpoint refused a batch: dead-lettered, not retried",
			"status", out.status, "messages", n, "first_seq", msgs[0].seq, "last_seq", msgs[len(msgs)-1].seq, "err", out.err)
	}
	s.count(func(st *Stats) {
		if out.verdict == deadLetter {
			st.DeadLettered += n
			st.Failures++
			st.LastError, st.LastErrorAt = out.err.Error(), now
			return
		}
		st.Delivered += n
		st.LastError, st.LastSuccess = "", now
	})
	for _, m := range msgs {
		if err := s.q.Ack(m.seq); err != nil {
			return fmt.Errorf("sink %q: %w", s.name, err)
		}
	}
	return nil
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date. It returns -1 when the header is absent or invalid.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return -1
	}
	if n, err := strconv.ParseUint(h, 10, 32); err == nil {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(0, t.Sub(now))
	}
	return -1
}

// snippet is the start of an answer body, printable, for LastError.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), answerSnippet)]), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return strings.TrimSpace(s)
}
