package match

import (
	"context"
	"database/sql"
	"time"

	"certnet/internal/store"
)

// Load builds the index of the indicators in force at now (not revoked,
// valid_from reached, valid_until unset or later) from intel_indicators, in
// one streaming query: rows go into the index as they arrive, never into an
// intermediate list. The filter is written so that SQLite scans the table in
// order rather than visiting millions of rows through the valid_until or
// kind index (twice as slow); STIX-pattern indicators are skipped here.
func Load(ctx context.Context, q store.Q, now time.Time) (*Index, error) {
	now = now.UTC()
	rows, err := q.Query(ctx, `SELECT id, owner_org_id, kind, value, confidence FROM intel_indicators
		WHERE revoked = FALSE AND valid_from <= ? AND COALESCE(valid_until > ?, TRUE)`, now, now)
	if err != nil {
		return nil, store.Wrap("match: load indicators", err)
	}
	defer rows.Close()
	b := NewBuilder()
	var in Indicator
	var kind sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&in.ID, &in.OrgID, &kind, &in.Value, &in.Confidence); err != nil {
			return nil, store.Wrap("match: load indicators", err)
		}
		if in.Kind = kindOf(kind); in.Kind != "" {
			b.Add(in)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, store.Wrap("match: load indicators", err)
	}
	x := b.Index()
	x.at = now
	return x, nil
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
