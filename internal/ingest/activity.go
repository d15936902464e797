package ingest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/ingest/decode"
	"certnet/internal/store"
)

// The pipeline keeps, in the same transaction as a batch's sightings, the
// small counters the early warning (internal/warning) and the 24/7 view
// read instead of raw events:
//
//   - ingest_minutes: events and matches per source × minute of arrival;
//   - ingest_rates: events and matches per source × hour of arrival, and
//     matched events per organisation they were routed to (the members'
//     rates) — the rate baselines;
//   - ingest_signals: signatures (Suricata signature ids and Wazuh rule
//     ids share one key space, the number) and CVEs per reporting
//     organisation (the source's) × hour of the event, first and last seen.
//
// A batch already counted is skipped whole (ingest_batches), so these are
// counted exactly once too.

// Signal kinds of ingest_signals.
const (
	SignalSignature = "signature"
	SignalCVE       = "cve"
)

// Rate subjects of ingest_rates.
const (
	RateSource = "source"
	RateOrg    = "org"
)

type signalKey struct {
	kind, key string
	org       int64
	hour      int64
}

type signalVal struct {
	count       int64
	first, last time.Time
	name        string
}

type orgCount struct{ events, matches int64 }

// activity is one batch's counters.
type activity struct {
	orgs    map[int64]*orgCount
	signals map[signalKey]*signalVal
}

func (a *activity) reset() {
	if a.orgs == nil {
		a.orgs = map[int64]*orgCount{}
		a.signals = map[signalKey]*signalVal{}
	}
	clear(a.orgs)
	clear(a.signals)
}

// matched counts a matched event of n occurrences routed to orgs.
func (a *activity) matched(n int64, orgs []int64) {
	for _, o := range orgs {
		c := a.orgs[o]
		if c == nil {
			c = &orgCount{}
			a.orgs[o] = c
		}
		c.events += n
		c.matches += n
	}
}

// signal counts the signature and CVEs of one event of n occurrences at t
// for the organisation of the source that saw it. (Routing every event to
// the owners of its addresses would cost an upsert per member × signature
// × batch on the hot path; the reporting organisation is one per batch.)
func (a *activity) signal(e *decode.Event, t time.Time, n int64, org int64) {
	if e.SignatureID == 0 && len(e.CVEs) == 0 {
		return
	}
	hour := t.Truncate(time.Hour).Unix()
	add := func(kind, key, name string) {
		k := signalKey{kind: kind, key: key, org: org, hour: hour}
		v := a.signals[k]
		if v == nil {
			a.signals[k] = &signalVal{count: n, first: t, last: t, name: name}
			return
		}
		v.count += n
		if t.Before(v.first) {
			v.first = t
		}
		if t.After(v.last) {
			v.last = t
		}
	}
	if e.SignatureID != 0 {
		name := e.Signature
		if len(name) > 300 {
			name = strings.ToValidUTF8(name[:300], "")
		}
		add(SignalSignature, strconv.FormatInt(e.SignatureID, 10), name)
	}
	for i, c := range e.CVEs {
		if i == 20 { // an event naming more CVEs is noise for the warning
			break
		}
		if len(c) <= 40 {
			add(SignalCVE, c, "")
		}
	}
}

// store writes the batch's counters.
func (a *activity) store(ctx context.Context, tx *store.Tx, sourceID int64, arrived time.Time, events, matches int64) error {
	minute := arrived.UTC().Truncate(time.Minute)
	hour := arrived.UTC().Truncate(time.Hour)
	if _, err := tx.Exec(ctx, `INSERT INTO ingest_minutes (source_id, minute, events, matches) VALUES (?, ?, ?, ?)
		ON CONFLICT (source_id, minute) DO UPDATE SET events = ingest_minutes.events + excluded.events,
			matches = ingest_minutes.matches + excluded.matches`, sourceID, minute, events, matches); err != nil {
		return fmt.Errorf("ingest: minute counters: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (subject, subject_id, hour) DO UPDATE SET events = ingest_rates.events + excluded.events,
			matches = ingest_rates.matches + excluded.matches`, RateSource, sourceID, hour, events, matches); err != nil {
		return fmt.Errorf("ingest: rate counters: %w", err)
	}
	// The members' and the signals' rows go in multi-row statements (a
	// batch can touch a hundred members), in key order so that two
	// PostgreSQL workers lock rows in the same order.
	orgs := make([]int64, 0, len(a.orgs))
	for o := range a.orgs {
		orgs = append(orgs, o)
	}
	slices.Sort(orgs)
	for len(orgs) > 0 {
		chunk := orgs[:min(len(orgs), upsertChunk)]
		orgs = orgs[len(chunk):]
		args := make([]any, 0, 5*len(chunk))
		for _, o := range chunk {
			args = append(args, RateOrg, o, hour, a.orgs[o].events, a.orgs[o].matches)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ingest_rates (subject, subject_id, hour, events, matches) VALUES `+rowsOf(len(chunk), 5)+`
			ON CONFLICT (subject, subject_id, hour) DO UPDATE SET events = ingest_rates.events + excluded.events,
				matches = ingest_rates.matches + excluded.matches`, args...); err != nil {
			return fmt.Errorf("ingest: rate counters: %w", err)
		}
	}
	keys := make([]signalKey, 0, len(a.signals))
	for k := range a.signals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y signalKey) int {
		return cmp.Or(cmp.Compare(x.kind, y.kind), cmp.Compare(x.key, y.key), cmp.Compare(x.org, y.org), cmp.Compare(x.hour, y.hour))
	})
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), upsertChunk)]
		keys = keys[len(chunk):]
		args := make([]any, 0, 8*len(chunk))
		for _, k := range chunk {
			v := a.signals[k]
			args = append(args, k.kind, k.key, k.org, time.Unix(k.hour, 0).UTC(), v.count, v.first, v.last, v.name)
		}
		_, err := tx.Exec(ctx, `INSERT INTO ingest_signals (kind, key, org_id, hour, count, first_seen, last_seen, name)
			VALUES `+rowsOf(len(chunk), 8)+`
			ON CONFLICT (kind, key, org_id, hour) DO UPDATE SET count = ingest_signals.count + excluded.count,
				first_seen = CASE WHEN excluded.first_seen < ingest_signals.first_seen THEN excluded.first_seen ELSE ingest_signals.first_seen END,
				last_seen = CASE WHEN excluded.last_seen > ingest_signals.last_seen THEN excluded.last_seen ELSE ingest_signals.last_seen END,
				name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE ingest_signals.name END`, args...)
		if err != nil {
			return fmt.Errorf("ingest: signal counters: %w", err)
		}
	}
	return nil
}

// upsertChunk is the most rows of one multi-row upsert (8 × 200
// placeholders, far under both engines' limits).
const upsertChunk = 200

// rowsOf is "(?, ?, …), (?, ?, …)…": n rows of cols placeholders.
func rowsOf(n, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// PruneActivity forgets the per-minute counters older than minutes and the
// hourly ones (rates and signals) older than hours.
func (s *Service) PruneActivity(ctx context.Context, minutes, hours time.Time) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql string
		t   time.Time
	}{
		{"DELETE FROM ingest_minutes WHERE minute < ?", minutes},
		{"DELETE FROM ingest_rates WHERE hour < ?", hours},
		{"DELETE FROM ingest_signals WHERE hour < ?", hours},
	} {
		res, err := s.DB.Exec(ctx, q.sql, q.t.UTC())
		if err != nil {
			return total, fmt.Errorf("ingest: prune activity: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
