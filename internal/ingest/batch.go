package ingest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"certnet/internal/auth"
	"certnet/internal/bus"
	"certnet/internal/errs"
	"certnet/internal/ingest/decode"
	"certnet/internal/store"
)

// Answer is what a batch gets back, stored so that a retry with the same
// idempotency key gets it again.
type Answer struct {
	BatchID  int64              `json:"batch_id"`
	Format   decode.Format      `json:"format"`
	Accepted int                `json:"accepted"`
	Rejected int                `json:"rejected"`
	Errors   []decode.LineError `json:"errors"`
	// ErrorsTruncated: more lines were refused than the answer lists.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
}

// maxErrors is how many refused lines an answer lists (Rejected counts them
// all).
const maxErrors = 1000

// Batch is one batch as the handler hands it to the service.
type Batch struct {
	Source *Source
	Key    string
	Format decode.Format
	Events []decode.Event
	Errors []decode.LineError
	Bytes  int
}

// Headers of a batch message on the bus.
const (
	hdrSource = "Certnet-Source"
	hdrKey    = "Certnet-Key"
	hdrFormat = "Certnet-Format"
)

// Authenticate finds the enabled source a token belongs to.
func (s *Service) Authenticate(ctx context.Context, token string) (*Source, error) {
	const op = "ingest: token"
	invalid := errs.Unauthenticated(op, "ingest.err.token")
	hash, ok := auth.SourceTokenHash(token)
	if !ok {
		return nil, invalid
	}
	src, err := scanSource(s.DB.QueryRow(ctx, "SELECT "+sourceCols+" FROM ingest_sources WHERE token_hash = ?", hash))
	if store.IsNoRows(err) {
		return nil, invalid
	}
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	if !src.Enabled {
		return nil, errs.Unauthenticated(op, "ingest.err.disabled")
	}
	return &src, nil
}

// ValidKey reports whether an idempotency key is acceptable: 1–128
// printable ASCII characters.
func ValidKey(k string) bool {
	if len(k) < 1 || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// Replay returns the answer already given to a batch with this key, if any.
func (s *Service) Replay(ctx context.Context, sourceID int64, key string) (Answer, bool, error) {
	var ans Answer
	var errsJSON string
	var received *time.Time
	err := s.DB.QueryRow(ctx, `SELECT id, format, accepted, rejected, errors, received_at FROM ingest_batches WHERE source_id = ? AND idem_key = ?`,
		sourceID, key).Scan(&ans.BatchID, &ans.Format, &ans.Accepted, &ans.Rejected, &errsJSON, &received)
	if store.IsNoRows(err) || (err == nil && received == nil) {
		return Answer{}, false, nil
	}
	if err != nil {
		return Answer{}, false, errs.Internal("ingest: replay", err)
	}
	if err := json.Unmarshal([]byte(errsJSON), &ans.Errors); err != nil {
		return Answer{}, false, errs.Internal("ingest: replay", err)
	}
	ans.ErrorsTruncated = ans.Rejected > len(ans.Errors)
	return ans, true, nil
}

// QuotaError is a batch refused because the source used its quota; Retry
// says when the next window opens.
type QuotaError struct {
	Retry time.Duration
	Err   error
}

func (e *QuotaError) Error() string { return e.Err.Error() }
func (e *QuotaError) Unwrap() error { return e.Err }

// ErrUnavailable is a batch refused because the bus cannot take it now.
var ErrUnavailable = errors.New("ingest: transport unavailable")

// checkQuota refuses a batch that would take the source over its quota in
// the current minute.
func (s *Service) checkQuota(src *Source, n int, now time.Time) error {
	if n > src.Quota {
		return &errs.Error{Kind: errs.KindTooLarge, Op: "ingest: quota", Message: errs.Msg{Key: "ingest.err.over_quota", Args: []any{n, src.Quota}}}
	}
	window := now.Truncate(time.Minute)
	if src.quotaWindow.Equal(window) && src.quotaUsed+int64(n) > int64(src.Quota) {
		return &QuotaError{Retry: window.Add(time.Minute).Sub(now), Err: errs.TooMany("ingest: quota", "ingest.err.quota_used", src.Quota)}
	}
	return nil
}

// Accept makes a decoded batch durable: it publishes the events to the bus
// (waiting for the acknowledgement), then records the batch and its answer
// with the source's counters in one transaction. A concurrent or earlier
// batch with the same key wins: its answer is returned and nothing is
// counted again.
func (s *Service) Accept(ctx context.Context, b Batch) (Answer, bool, error) {
	const op = "ingest: accept"
	now := s.now()
	src := b.Source
	n := len(b.Events)
	if err := s.checkQuota(src, n, now); err != nil {
		return Answer{}, false, err
	}
	ans := Answer{Format: b.Format, Accepted: n, Rejected: len(b.Errors), Errors: b.Errors}
	if ans.Errors == nil {
		ans.Errors = []decode.LineError{}
	}
	if len(ans.Errors) > maxErrors {
		ans.Errors = ans.Errors[:maxErrors]
		ans.ErrorsTruncated = true
	}
	var seq uint64
	if n > 0 {
		if s.Bus == nil {
			return Answer{}, false, ErrUnavailable
		}
		buf := bufPool.Get().(*[]byte)
		data, err := encodeEvents(b.Events, *buf)
		if err != nil {
			bufPool.Put(buf)
			return Answer{}, false, errs.Internal(op, err)
		}
		p, err := s.Bus.Publish(ctx, s.Bus.Subject(src.ID), msgID(src.ID, b.Key), data, map[string]string{
			hdrSource: strconv.FormatInt(src.ID, 10), hdrKey: b.Key, hdrFormat: string(b.Format)})
		*buf = data[:0]
		bufPool.Put(buf)
		if err != nil {
			if errors.Is(err, bus.ErrTooLarge) {
				return Answer{}, false, &errs.Error{Kind: errs.KindTooLarge, Op: op, Message: errs.Msg{Key: "ingest.err.transport_limit",
					Args: []any{s.Bus.MaxPayload()}}}
			}
			s.Log.Warn("ingest: publish failed", "source", src.ID, "err", err)
			return Answer{}, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		seq = p.Seq
	}
	errsJSON, err := json.Marshal(ans.Errors)
	if err != nil {
		return Answer{}, false, errs.Internal(op, err)
	}
	window := now.Truncate(time.Minute)
	won := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO ingest_batches (source_id, idem_key, format, accepted, rejected, errors, bytes, stream_seq, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source_id, idem_key) DO UPDATE SET format = excluded.format, accepted = excluded.accepted,
				rejected = excluded.rejected, errors = excluded.errors, bytes = excluded.bytes, stream_seq = excluded.stream_seq,
				received_at = excluded.received_at
			WHERE ingest_batches.received_at IS NULL
			RETURNING id`, src.ID, b.Key, string(b.Format), n, len(b.Errors), string(errsJSON), b.Bytes, int64(seq), now).Scan(&ans.BatchID)
		if store.IsNoRows(err) {
			return nil // answered already
		}
		if err != nil {
			return err
		}
		won = true
		_, err = tx.Exec(ctx, `UPDATE ingest_sources SET batches = batches + 1, events = events + ?, rejected = rejected + ?, last_batch_at = ?,
			quota_used = CASE WHEN quota_window = ? THEN quota_used + ? ELSE ? END, quota_window = ? WHERE id = ?`,
			n, len(b.Errors), now, window, n, n, window, src.ID)
		return err
	})
	if err != nil {
		return Answer{}, false, errs.Internal(op, err)
	}
	if !won {
		prev, ok, err := s.Replay(ctx, src.ID, b.Key)
		if err != nil {
			return Answer{}, false, err
		}
		if ok {
			return prev, true, nil
		}
		return Answer{}, false, errs.Internal(op, errors.New("batch row vanished"))
	}
	return ans, false, nil
}

func msgID(source int64, key string) string { return strconv.FormatInt(source, 10) + ":" + key }

// keyOf reads a batch message's source and key.
func keyOf(m *bus.Msg) (int64, string, error) {
	id, err := strconv.ParseInt(m.Header(hdrSource), 10, 64)
	key := m.Header(hdrKey)
	if err != nil || id <= 0 || !ValidKey(key) {
		if src, k, ok := strings.Cut(m.ID, ":"); ok {
			if id, err = strconv.ParseInt(src, 10, 64); err == nil && ValidKey(k) {
				return id, k, nil
			}
		}
		return 0, "", fmt.Errorf("ingest: message %d has no source or key", m.Seq)
	}
	return id, key, nil
}
