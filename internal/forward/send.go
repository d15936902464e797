package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// answer is what the server says of an accepted batch.
type answer struct {
	BatchID  int64 `json:"batch_id"`
	Batch    int64 `json:"batch"`
	Accepted int   `json:"accepted"`
	Rejected int   `json:"rejected"`
	Errors   []struct {
		Line    int    `json:"line"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// outcome of one attempt to send a batch.
type outcome int

const (
	delivered outcome = iota // acknowledged: delete it
	retry                    // try again after a backoff
	stalled                  // the server refuses us, not the batch (token, URL): try again, slowly
	refused                  // the server refuses this batch for good: keep it in rejected/
)

// sendLoop sends the spool's batches one after the other, in number order,
// each until the server acknowledges or refuses it.
func (f *Forwarder) sendLoop(ctx context.Context) error {
	attempt := 0
	for {
		f.mu.Lock()
		var b spooled
		ok := len(f.queue) > 0
		if ok {
			b = f.queue[0]
		}
		f.mu.Unlock()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-f.wake:
				continue
			}
		}
		if f.crash("sending") {
			return errCrash
		}
		res, wait, detail := f.send(ctx, b)
		if res != delivered && ctx.Err() != nil {
			return nil
		}
		switch res {
		case delivered:
			if f.crash("sent") {
				return errCrash
			}
			if err := os.Remove(filepath.Join(f.cfg.State, spoolDir, b.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("forward: remove sent batch: %w", err)
			}
			f.sent.Add(1)
			f.pop(b)
			attempt = 0
		case refused:
			if err := f.reject(b, detail); err != nil {
				return err
			}
			f.pop(b)
			attempt = 0
		default:
			attempt++
			f.retries.Add(1)
			d := backoff(f.cfg.RetryMin, f.cfg.RetryMax, attempt)
			if wait > d {
				d = wait
			}
			if res == stalled {
				f.log.Error("forward: the server refuses this forwarder (check --url and the token); retrying",
					"batch", b.Seq, "detail", detail, "in", d.Round(time.Millisecond))
			} else {
				f.log.Warn("forward: batch not delivered, will retry", "batch", b.Seq, "attempt", attempt, "detail", detail, "in", d.Round(time.Millisecond))
			}
			if err := f.cfg.sleep(ctx, d); err != nil {
				return nil
			}
		}
	}
}

// backoff is the wait before attempt n (1, 2, …): doubling from min up to
// max, with half of it random so that many forwarders do not retry in step.
func backoff(min, max time.Duration, n int) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// retryAfter reads Retry-After (seconds or an HTTP date), capped at an hour.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(h); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}

func (f *Forwarder) pop(b spooled) {
	f.mu.Lock()
	if len(f.queue) > 0 && f.queue[0].Seq == b.Seq {
		f.queue = f.queue[1:]
	}
	f.spoolBytes -= b.Size
	close(f.room)
	f.room = make(chan struct{})
	f.mu.Unlock()
}

// send makes one attempt. wait is what the server asked for (Retry-After);
// detail says what went wrong.
func (f *Forwarder) send(ctx context.Context, b spooled) (res outcome, wait time.Duration, detail string) {
	body, err := os.ReadFile(filepath.Join(f.cfg.State, spoolDir, b.Name))
	if err != nil {
		// Unreadable (removed by hand?): it cannot be sent; say so and go on.
		return refused, 0, "spool file unreadable: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.endpoint, bytes.NewReader(body))
	if err != nil {
		return stalled, 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+f.cfg.Token)
	req.Header.Set("Idempotency-Key", batchKey(f.st0().Instance, b.Seq))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	if b.Format != "" {
		req.Header.Set("X-Certnet-Format", b.Format)
	}
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return retry, 0, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		var a answer
		if err := json.Unmarshal(raw, &a); err != nil {
			f.log.Warn("forward: the acknowledgement is not the JSON expected; the batch counts as delivered", "batch", b.Seq, "err", err)
		}
		f.accepted.Add(int64(a.Accepted))
		f.refused.Add(int64(a.Rejected))
		id := a.BatchID
		if id == 0 {
			id = a.Batch
		}
		if a.Rejected > 0 {
			attrs := []any{"batch", b.Seq, "server_batch", id, "accepted", a.Accepted, "refused", a.Rejected}
			for i, e := range a.Errors {
				if i == 5 {
					break
				}
				attrs = append(attrs, fmt.Sprintf("line_%d", e.Line), e.Code+": "+e.Message)
			}
			f.log.Warn("forward: the server refused some lines of a batch", attrs...)
		} else {
			f.log.Debug("forward: batch delivered", "batch", b.Seq, "server_batch", id, "accepted", a.Accepted,
				"replayed", resp.Header.Get("Idempotent-Replayed") == "true")
		}
		return delivered, 0, ""
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return retry, retryAfter(resp.Header.Get("Retry-After"), f.cfg.Now()), statusDetail(code, raw)
	case code == http.StatusRequestTimeout || code >= 500:
		return retry, retryAfter(resp.Header.Get("Retry-After"), f.cfg.Now()), statusDetail(code, raw)
	case code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return stalled, 0, statusDetail(code, raw)
	default:
		return refused, 0, statusDetail(code, raw)
	}
}

// st0 is the state's instance, read under the lock.
func (f *Forwarder) st0() state {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func statusDetail(code int, raw []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
		return fmt.Sprintf("HTTP %d %s: %s", code, e.Error.Code, e.Error.Message)
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprintf("HTTP %d %s", code, s)
}

// reject moves a batch the server refused for good to rejected/, with a
// note of why beside it, and says so loudly: it is never sent again unless
// someone moves it back into spool/.
func (f *Forwarder) reject(b spooled, detail string) error {
	from := filepath.Join(f.cfg.State, spoolDir, b.Name)
	dir := filepath.Join(f.cfg.State, rejectedDir)
	note := fmt.Sprintf("batch %d (Idempotency-Key %s, format %q) refused at %s:\n%s\n",
		b.Seq, batchKey(f.st0().Instance, b.Seq), b.Format, f.cfg.Now().UTC().Format(time.RFC3339), detail)
	if err := writeAtomic(dir, b.Name+".txt", []byte(note)); err != nil {
		return fmt.Errorf("forward: keep rejected batch: %w", err)
	}
	if err := os.Rename(from, filepath.Join(dir, b.Name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forward: keep rejected batch: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	f.rejected.Add(1)
	f.log.Error("forward: the server refused a batch for good; it is kept in rejected/ and not sent again",
		"batch", b.Seq, "file", filepath.Join(dir, b.Name), "detail", detail)
	return nil
}
