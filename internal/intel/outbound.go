package intel

import (
	"context"
	"fmt"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel/stix"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Outbound kinds: the two tables a federation push reads, each in the
// order its rows changed.
const (
	OutboundIndicators = "indicator"
	OutboundObjects    = "object"
)

// OutboundQuery selects what a federation push sends next: rows of one
// kind owned by Owners (all organisations when nil) but not by Except,
// labelled one of TLPs (RED is never taken), changed after the keyset
// (After, AfterID) and no later than Until.
type OutboundQuery struct {
	Kind    string
	Owners  []int64
	Except  []int64
	TLPs    []policy.TLP
	After   time.Time
	AfterID int64
	Until   time.Time
	Limit   int
}

// OutboundObject is one row in its STIX form with its keyset position.
type OutboundObject struct {
	RowID   int64
	Updated time.Time
	STIXID  string
	Type    string
	TLP     policy.TLP
	Owner   int64
	Body    map[string]any
}

// Outbound reads the next rows a federation push sends. It is certnet
// acting for itself (the federation job): the caller decides which
// owners and labels may leave, and the rows come in (updated_at, id)
// order so that a cursor on the last one resumes exactly after it.
func (s *Service) Outbound(ctx context.Context, q OutboundQuery) ([]OutboundObject, error) {
	const op = "intel: outbound"
	where, args, ok := outboundWhere(q)
	if !ok {
		return nil, nil
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var out []OutboundObject
	switch q.Kind {
	case OutboundIndicators:
		rows, err := s.DB.Query(ctx, `SELECT `+indicatorCols+` FROM intel_indicators WHERE `+where+` ORDER BY updated_at, id LIMIT ?`,
			append(args, limit)...)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			i, err := scanIndicator(rows)
			if err != nil {
				return nil, errs.Internal(op, err)
			}
			out = append(out, OutboundObject{RowID: i.ID, Updated: i.UpdatedAt, STIXID: i.STIXID, Type: "indicator",
				TLP: i.TLP, Owner: i.OwnerOrgID, Body: indicatorObject(i)})
		}
		if err := rows.Err(); err != nil {
			return nil, errs.Internal(op, err)
		}
	case OutboundObjects:
		rows, err := s.DB.Query(ctx, `SELECT id, owner_org_id, stix_id, stix_type, tlp, body, updated_at FROM intel_objects WHERE `+where+
			` ORDER BY updated_at, id LIMIT ?`, append(args, limit)...)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		defer rows.Close()
		for rows.Next() {
			var o OutboundObject
			var t, body string
			if err := rows.Scan(&o.RowID, &o.Owner, &o.STIXID, &o.Type, &t, &body, &o.Updated); err != nil {
				return nil, errs.Internal(op, err)
			}
			o.TLP = policy.TLP(t)
			m, err := stix.Decode([]byte(body))
			if err != nil {
				continue // stored valid; a body that no longer decodes is not sent
			}
			m["object_marking_refs"] = []string{stix.TLPMarkingID(t)}
			delete(m, "granular_markings")
			o.Body = m
			out = append(out, o)
		}
		if err := rows.Err(); err != nil {
			return nil, errs.Internal(op, err)
		}
	default:
		return nil, errs.Internal(op, fmt.Errorf("unknown kind %q", q.Kind))
	}
	return out, nil
}

// OutboundPending counts the rows of a query (its keyset start aside from
// the limit): what is still to push.
func (s *Service) OutboundPending(ctx context.Context, q OutboundQuery) (int, error) {
	where, args, ok := outboundWhere(q)
	if !ok {
		return 0, nil
	}
	table := "intel_indicators"
	if q.Kind == OutboundObjects {
		table = "intel_objects"
	}
	var n int
	err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+where, args...).Scan(&n)
	return n, errs.Ensure("intel: outbound pending", err)
}

// outboundWhere is the query's condition; ok is false when it can match
// nothing.
func outboundWhere(q OutboundQuery) (string, []any, bool) {
	var conds []string
	var args []any
	var tlps []string
	for _, t := range q.TLPs {
		if t.Valid() && t != policy.TLPRed {
			tlps = append(tlps, string(t))
		}
	}
	if len(tlps) == 0 {
		return "", nil, false
	}
	conds = append(conds, "tlp IN (?"+strings.Repeat(", ?", len(tlps)-1)+")")
	for _, t := range tlps {
		args = append(args, t)
	}
	if q.Owners != nil {
		if len(q.Owners) == 0 {
			return "", nil, false
		}
		in, a := store.InList(q.Owners)
		conds = append(conds, "owner_org_id IN "+in)
		args = append(args, a...)
	}
	if len(q.Except) > 0 {
		in, a := store.InList(q.Except)
		conds = append(conds, "owner_org_id NOT IN "+in)
		args = append(args, a...)
	}
	if !q.After.IsZero() || q.AfterID > 0 {
		conds = append(conds, "(updated_at > ? OR (updated_at = ? AND id > ?))")
		args = append(args, q.After, q.After, q.AfterID)
	}
	if !q.Until.IsZero() {
		conds = append(conds, "updated_at <= ?")
		args = append(args, q.Until)
	}
	return strings.Join(conds, " AND "), args, true
}

// StoredSTIXOwners returns the organisations that hold a STIX id locally
// (as an indicator or another object).
func (s *Service) StoredSTIXOwners(ctx context.Context, stixID string) ([]int64, error) {
	ids, err := store.IDs(ctx, s.DB, `SELECT owner_org_id FROM intel_indicators WHERE stix_hash = ? AND stix_id = ?
		UNION SELECT owner_org_id FROM intel_objects WHERE stix_id = ?`, store.StixHash(stixID), stixID, stixID)
	return ids, errs.Ensure("intel: stored owners", err)
}
