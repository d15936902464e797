package match

import (
	"context"
	"time"

	"certnet/internal/store"
)

// Load builds the index of the indicators in force at now (not revoked,
// valid_from reached, valid_until unset or later) from intel_indicators, in
// one streaming query: rows go into the index as they arrive, never into an
// intermediate list.
func Load(ctx context.Context, q store.Q, now time.Time) (*Index, error) {
	rows, err := q.Query(ctx, `SELECT id, owner_org_id, kind, value, confidence FROM intel_indicators
		WHERE revoked = FALSE AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?)
		AND kind IN ('ipv4', 'ipv6', 'cidr', 'domain', 'url', 'md5', 'sha1', 'sha256', 'email')`, now.UTC(), now.UTC())
	if err != nil {
		return nil, store.Wrap("match: load indicators", err)
	}
	defer rows.Close()
	b := NewBuilder()
	var in Indicator
	for rows.Next() {
		if err := rows.Scan(&in.ID, &in.OrgID, &in.Kind, &in.Value, &in.Confidence); err != nil {
			return nil, store.Wrap("match: load indicators", err)
		}
		b.Add(in)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Wrap("match: load indicators", err)
	}
	x := b.Index()
	x.at = now
	return x, nil
}
