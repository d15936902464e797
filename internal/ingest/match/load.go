package match

import (
	"context"
	"database/sql"
	"time"

	"certnet/internal/store"
)

// Load builds the index of the indicators in force at now (not revoked,
// valid_from reached, valid_until unset or later) from intel_indicators, in
// one streaming query. Reading rows and indexing them overlap: one goroutine
// scans rows into batches, the caller's indexes them, so the load takes
// about the longer of the two rather than their sum. The filter is written
// so that SQLite scans the table in order rather than visiting millions of
// rows through the valid_until or kind index (twice as slow); STIX-pattern
// indicators are skipped here.
func Load(ctx context.Context, q store.Q, now time.Time) (*Index, error) {
	now = now.UTC()
	// Read before the rows: one committed in between is loaded now and
	// read again by the next Refresh, which is harmless.
	lastID, err := maxID(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, owner_org_id, kind, value, confidence FROM intel_indicators
		WHERE revoked = FALSE AND valid_from <= ? AND COALESCE(valid_until > ?, TRUE)`, now, now)
	if err != nil {
		return nil, store.Wrap("match: load indicators", err)
	}
	const batch = 4096
	full := make(chan []Indicator, 4)
	free := make(chan []Indicator, 6)
	var scanErr error
	go func() {
		defer close(full)
		defer rows.Close()
		buf := make([]Indicator, 0, batch)
		var in Indicator
		var kind sql.RawBytes
		for rows.Next() {
			if err := rows.Scan(&in.ID, &in.OrgID, &kind, &in.Value, &in.Confidence); err != nil {
				scanErr = err
				return
			}
			if in.Kind = kindOf(kind); in.Kind == "" {
				continue
			}
			if buf = append(buf, in); len(buf) == batch {
				full <- buf // the caller drains full to the end
				select {
				case buf = <-free:
				default:
					buf = make([]Indicator, 0, batch)
				}
			}
		}
		if scanErr = rows.Err(); scanErr == nil && len(buf) > 0 {
			full <- buf
		}
	}()
	b := NewBuilder()
	for buf := range full {
		for _, in := range buf {
			b.Add(in)
		}
		clear(buf) // drop the value strings the index did not keep
		select {
		case free <- buf[:0]:
		default:
		}
	}
	if scanErr != nil {
		return nil, store.Wrap("match: load indicators", scanErr)
	}
	x := b.Index()
	x.at, x.lastID = now, lastID
	return x, nil
}

// maxID is the largest indicator id.
func maxID(ctx context.Context, q store.Q) (int64, error) {
	var id int64
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM intel_indicators`).Scan(&id); err != nil {
		return 0, store.Wrap("match: last indicator", err)
	}
	return id, nil
}

// kindOf is the matchable kind named by k, without allocating; "" for any
// other.
func kindOf(k []byte) string {
	switch string(k) {
	case "ipv4":
		return "ipv4"
	case "ipv6":
		return "ipv6"
	case "cidr":
		return "cidr"
	case "domain":
		return "domain"
	case "url":
		return "url"
	case "md5":
		return "md5"
	case "sha1":
		return "sha1"
	case "sha256":
		return "sha256"
	case "email":
		return "email"
	}
	return ""
}
