package intel

import (
	"context"
	"strings"
	"time"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Filter selects indicators.
type Filter struct {
	Kind   Kind
	TLP    policy.TLP
	Source string // prefix of a source ("stix:", "misp:", "manual")
	Status string // "", "active", "expired", "revoked"
	Query  string // search without diacritics in value, name and description
	Owner  int64
	// Since: changed at or after (for exports and sync).
	Since  time.Time
	Limit  int // default 50, at most 1000
	Offset int
	// ByID pages by id for streaming exports: only ids above AfterID, in
	// id order, without a total.
	ByID    bool
	AfterID int64
}

// visibility is the SQL that keeps the rows the actor could see, before
// policy.Check confirms each.
func visibility(a policy.Actor) (string, []any) {
	if a.System || a.Scope.All {
		// The national scope sees AMBER everywhere; AMBER+STRICT and RED
		// still need the owner or the creator.
		if a.System {
			return "1=1", nil
		}
		return "(tlp IN ('CLEAR','GREEN','AMBER') OR (tlp = 'AMBER+STRICT' AND owner_org_id = ?) OR (tlp = 'RED' AND created_by = ?))",
			[]any{a.OrgID, a.UserID}
	}
	var b strings.Builder
	var args []any
	b.WriteString("(tlp = 'CLEAR'")
	if a.OrgID != 0 {
		b.WriteString(" OR tlp = 'GREEN'")
		if ids := a.Scope.IDs(); len(ids) > 0 {
			in, inArgs := store.InList(ids)
			b.WriteString(" OR (tlp = 'AMBER' AND owner_org_id IN " + in + ")")
			args = append(args, inArgs...)
		}
		b.WriteString(" OR (tlp = 'AMBER+STRICT' AND owner_org_id = ?)")
		args = append(args, a.OrgID)
	}
	if a.UserID != 0 {
		b.WriteString(" OR (tlp = 'RED' AND created_by = ?)")
		args = append(args, a.UserID)
	}
	b.WriteString(")")
	return b.String(), args
}

// List returns the indicators the actor may read that match f, newest
// change first (by id when AfterID pages), and the number that match.
func (s *Service) List(ctx context.Context, a policy.Actor, f Filter) ([]Indicator, int, error) {
	const op = "intel: list indicators"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return nil, 0, errs.Unauthenticated(op, "")
	}
	e := errs.Invalid(op)
	if f.Kind != "" && !ValidKind(f.Kind) {
		e.Field("kind", "intel.error.kind")
	}
	if f.TLP != "" && !f.TLP.Valid() {
		e.Field("tlp", "intel.error.tlp")
	}
	switch f.Status {
	case "", "active", "expired", "revoked":
	default:
		e.Field("status", "intel.error.status")
	}
	if err := e.OrNil(); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 1000)
	f.Offset = max(f.Offset, 0)
	where, args := visibility(a)
	conds := []string{where}
	now := s.stamp()
	if f.Kind != "" {
		conds = append(conds, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if f.TLP != "" {
		conds = append(conds, "tlp = ?")
		args = append(args, string(f.TLP))
	}
	if f.Owner != 0 {
		conds = append(conds, "owner_org_id = ?")
		args = append(args, f.Owner)
	}
	if f.Source != "" {
		conds = append(conds, `id IN (SELECT indicator_id FROM intel_indicator_sources WHERE source LIKE ? ESCAPE '\')`)
		args = append(args, store.LikePrefix(f.Source))
	}
	switch f.Status {
	case "active":
		conds = append(conds, "revoked = FALSE AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?)")
		args = append(args, now, now)
	case "expired":
		conds = append(conds, "revoked = FALSE AND valid_until IS NOT NULL AND valid_until <= ?")
		args = append(args, now)
	case "revoked":
		conds = append(conds, "revoked = TRUE")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		conds = append(conds, `search LIKE ? ESCAPE '\'`)
		args = append(args, store.Like(i18n.Fold(q)))
	}
	if !f.Since.IsZero() {
		conds = append(conds, "updated_at >= ?")
		args = append(args, f.Since.UTC())
	}
	w := strings.Join(conds, " AND ")
	var total int
	if !f.ByID {
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM intel_indicators WHERE "+w, args...).Scan(&total); err != nil {
			return nil, 0, errs.Internal(op, err)
		}
	}
	order := " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
	pageArgs := append(append([]any{}, args...), f.Limit, f.Offset)
	if f.ByID {
		w += " AND id > ?"
		order = " ORDER BY id LIMIT ?"
		pageArgs = append(append([]any{}, args...), f.AfterID, f.Limit)
	}
	rows, err := s.DB.Query(ctx, "SELECT "+indicatorCols+" FROM intel_indicators WHERE "+w+order, pageArgs...)
	if err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Indicator
	for rows.Next() {
		i, err := scanIndicator(rows)
		if err != nil {
			return nil, 0, errs.Internal(op, err)
		}
		if policy.Check(a, policy.IntelRead, i.Resource()) != nil {
			total--
			continue
		}
		out = append(out, i)
	}
	return out, total, rows.Err()
}
