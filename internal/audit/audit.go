// Package audit keeps the hash-chained audit log. Every change appends one
// entry in the same transaction as the change; each entry's hash covers its
// content and the previous entry's hash, so altering or removing a row breaks
// the chain at that row, which Verify reports.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Genesis is the previous hash of the first entry.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one audit record.
type Entry struct {
	Seq         int64
	At          time.Time
	ActorUserID int64
	Actor       string
	ActorOrgID  int64
	OrgID       int64 // the organisation the changed thing belongs to
	Action      string
	Entity      string
	EntityID    string
	Before      string // JSON, "" when created
	After       string // JSON, "" when deleted
	RequestID   string
	PrevHash    string
	Hash        string
}

// Change describes what is being recorded.
type Change struct {
	OrgID    int64
	Action   string // e.g. "org.create"
	Entity   string // e.g. "organisation"
	EntityID string
	Before   any // marshalled to JSON; nil for none
	After    any
}

// Record appends an entry for c inside tx. now is the injected clock.
func Record(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, c Change) error {
	if err := store.LockAudit(ctx, tx); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	e := Entry{
		At: now.UTC().Truncate(time.Microsecond), ActorUserID: a.UserID, Actor: a.Label(), ActorOrgID: a.OrgID,
		OrgID: c.OrgID, Action: c.Action, Entity: c.Entity, EntityID: c.EntityID, RequestID: a.RequestID,
	}
	var err error
	if e.Before, err = toJSON(c.Before); err != nil {
		return err
	}
	if e.After, err = toJSON(c.After); err != nil {
		return err
	}
	var last int64
	prev := Genesis
	row := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
	if err := row.Scan(&last, &prev); err != nil && !store.IsNoRows(err) {
		return fmt.Errorf("audit: last entry: %w", err)
	}
	e.Seq = last + 1
	e.PrevHash = prev
	e.Hash = e.ComputeHash()
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor_user_id, actor, actor_org_id, org_id, action,
		entity, entity_id, before_json, after_json, request_id, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, store.NullID(e.ActorUserID), e.Actor, store.NullID(e.ActorOrgID), store.NullID(e.OrgID), e.Action,
		e.Entity, e.EntityID, e.Before, e.After, e.RequestID, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: insert: %w", err)
	}
	return nil
}

func toJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: marshal: %w", err)
	}
	return string(b), nil
}

// ComputeHash is SHA-256 over the previous hash and every field, each
// length-prefixed so that no two different entries serialise alike.
func (e Entry) ComputeHash() string {
	h := sha256.New()
	fields := []string{
		e.PrevHash, strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(e.ActorUserID, 10), e.Actor, strconv.FormatInt(e.ActorOrgID, 10),
		strconv.FormatInt(e.OrgID, 10), e.Action, e.Entity, e.EntityID, e.Before, e.After, e.RequestID,
	}
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Break describes the first broken link found by Verify.
type Break struct {
	Seq    int64
	Reason string
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	Checked int64
	LastSeq int64
	Break   *Break
}

// Verify walks the whole chain in order and stops at the first entry whose
// hash does not match its content, whose previous hash does not match the
// entry before it, or whose sequence number skips (a removed row).
func Verify(ctx context.Context, db store.Q, progress func(n int64)) (VerifyResult, error) {
	var res VerifyResult
	prev := Genesis
	var expect int64 = 1
	const page = 5000
	after := int64(0)
	for {
		rows, err := db.Query(ctx, `SELECT seq, at, COALESCE(actor_user_id, 0), actor, COALESCE(actor_org_id, 0),
			COALESCE(org_id, 0), action, entity, entity_id, before_json, after_json, request_id, prev_hash, hash
			FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, page)
		if err != nil {
			return res, fmt.Errorf("audit: verify: %w", err)
		}
		n := 0
		for rows.Next() {
			var e Entry
			if err := rows.Scan(&e.Seq, &e.At, &e.ActorUserID, &e.Actor, &e.ActorOrgID, &e.OrgID, &e.Action,
				&e.Entity, &e.EntityID, &e.Before, &e.After, &e.RequestID, &e.PrevHash, &e.Hash); err != nil {
				rows.Close()
				return res, fmt.Errorf("audit: verify scan: %w", err)
			}
			n++
			after = e.Seq
			res.LastSeq = e.Seq
			switch {
			case e.Seq != expect:
				res.Break = &Break{Seq: expect, Reason: fmt.Sprintf("entry %d is missing (next is %d)", expect, e.Seq)}
			case e.PrevHash != prev:
				res.Break = &Break{Seq: e.Seq, Reason: "previous-hash link does not match the entry before it"}
			case e.ComputeHash() != e.Hash:
				res.Break = &Break{Seq: e.Seq, Reason: "content does not match its hash (the entry was altered)"}
			}
			if res.Break != nil {
				rows.Close()
				return res, nil
			}
			res.Checked++
			prev = e.Hash
			expect++
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return res, fmt.Errorf("audit: verify: %w", err)
		}
		rows.Close()
		if progress != nil {
			progress(res.Checked)
		}
		if n < page {
			break
		}
	}
	return res, nil
}

// Filter selects entries for the auditor's view.
type Filter struct {
	Actor     string
	Action    string // prefix, e.g. "org."
	Entity    string
	EntityID  string
	OrgID     int64
	Since     time.Time
	Until     time.Time
	BeforeSeq int64 // for paging backwards
	Limit     int
}

// Service reads the log for people.
type Service struct {
	DB *store.DB
	// OrgLabel returns an organisation's TLP label, so that entries about
	// an organisation are shown only to those who may see it. When nil,
	// every organisation counts as AMBER.
	OrgLabel func(ctx context.Context, orgID int64) (policy.TLP, error)
}

// label is the organisation's TLP label (AMBER without OrgLabel; RED, the
// most restrictive, for an organisation that cannot be found).
func (s *Service) label(ctx context.Context, org int64) policy.TLP {
	if s.OrgLabel == nil {
		return policy.TLPAmber
	}
	t, err := s.OrgLabel(ctx, org)
	if err != nil || !t.Valid() {
		return policy.TLPRed
	}
	return t
}

// visible reports whether the actor may see entries about org.
func (s *Service) visible(ctx context.Context, a policy.Actor, org int64, cache map[int64]bool) bool {
	if org == 0 {
		return true
	}
	if v, ok := cache[org]; ok {
		return v
	}
	v := policy.CanSee(a, policy.Resource{OwnerOrg: org, TLP: s.label(ctx, org)})
	cache[org] = v
	return v
}

// List returns entries newest first that the actor may read: the auditor or
// administrator sees entries about organisations in their scope.
func (s *Service) List(ctx context.Context, a policy.Actor, f Filter) ([]Entry, error) {
	if err := policy.Check(a, policy.AuditRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber}); err != nil {
		return nil, err
	}
	if f.OrgID != 0 {
		if err := policy.Check(a, policy.AuditRead, policy.Resource{OwnerOrg: f.OrgID, TLP: s.label(ctx, f.OrgID)}); err != nil {
			return nil, err
		}
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var where []string
	var args []any
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		where = append(where, "action LIKE ? ESCAPE '\\'")
		args = append(args, store.LikePrefix(f.Action))
	}
	if f.Entity != "" {
		where = append(where, "entity = ?")
		args = append(args, f.Entity)
	}
	if f.EntityID != "" {
		where = append(where, "entity_id = ?")
		args = append(args, f.EntityID)
	}
	if f.OrgID != 0 {
		where = append(where, "org_id = ?")
		args = append(args, f.OrgID)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.Until.UTC())
	}
	if !a.Scope.All {
		ids := a.Scope.IDs()
		if len(ids) == 0 {
			return nil, nil
		}
		in, inArgs := store.InList(ids)
		where = append(where, "(org_id IN "+in+" OR actor_org_id IN "+in+")")
		args = append(args, inArgs...)
		args = append(args, inArgs...)
	}
	// Page backwards from BeforeSeq (or the newest entry).
	before := f.BeforeSeq
	if before <= 0 {
		before = math.MaxInt64
	}
	where = append(where, "seq < ?")
	q := `SELECT seq, at, COALESCE(actor_user_id, 0), actor, COALESCE(actor_org_id, 0), COALESCE(org_id, 0),
		action, entity, entity_id, before_json, after_json, request_id, prev_hash, hash FROM audit_log
		WHERE ` + strings.Join(where, " AND ") + " ORDER BY seq DESC LIMIT ?"
	// Entries about organisations the actor may not see (by their TLP
	// label) are left out; read on until the page is full.
	cache := map[int64]bool{}
	out := []Entry{}
	for round := 0; round < 20 && len(out) < f.Limit; round++ {
		n, last, err := s.page(ctx, q, append(append([]any{}, args...), before, f.Limit), func(e Entry) {
			if len(out) < f.Limit && s.visible(ctx, a, e.OrgID, cache) {
				out = append(out, e)
			}
		})
		if err != nil {
			return nil, err
		}
		if n < f.Limit {
			break
		}
		before = last
	}
	return out, nil
}

// page runs one query of the list and hands each entry to fn; it returns
// how many rows it read and the last sequence number.
func (s *Service) page(ctx context.Context, q string, args []any, fn func(Entry)) (int, int64, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return 0, 0, errs.Internal("audit: list", err)
	}
	defer rows.Close()
	n, last := 0, int64(0)
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.At, &e.ActorUserID, &e.Actor, &e.ActorOrgID, &e.OrgID, &e.Action,
			&e.Entity, &e.EntityID, &e.Before, &e.After, &e.RequestID, &e.PrevHash, &e.Hash); err != nil {
			return 0, 0, errs.Internal("audit: list", err)
		}
		n++
		last = e.Seq
		fn(e)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, errs.Internal("audit: list", err)
	}
	return n, last, nil
}
