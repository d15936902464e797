package warning

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Filter selects warnings.
type Filter struct {
	State   string // "" any; "active" open or acknowledged
	Kind    string
	Subject string
	Q       string // in the label
	Limit   int    // default 100, at most 500
	Offset  int
}

// StateActive selects open and acknowledged warnings.
const StateActive = "active"

// Validate checks a filter; field errors go to e.
func (f *Filter) Validate(e *errs.Error) {
	if f.State != "" && f.State != StateActive && !slices.Contains(States, f.State) {
		e.Field("state", "field.invalid_choice")
	}
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		e.Field("kind", "field.invalid_choice")
	}
	if f.Subject != "" && !slices.Contains(Subjects, f.Subject) {
		e.Field("subject", "field.invalid_choice")
	}
	f.Q = strings.TrimSpace(f.Q)
	if len(f.Q) > 200 {
		e.Field("q", "warning.err.q")
	}
	if f.Limit < 0 || f.Offset < 0 {
		e.Field("limit", "field.invalid")
	}
	if f.Limit == 0 || f.Limit > 500 {
		f.Limit = min(max(f.Limit, 100), 500)
	}
}

const warningCols = `w.id, w.kind, w.subject, w.subject_key, w.label, w.indicator_id, w.state, w.active_key, w.orgs, w.provinces,
	w.total, w.rate, w.baseline, w.first_seen, w.last_seen, w.raised_at, w.updated_at, w.ended_at, w.acked_name, w.acked_at,
	w.closed_name, w.closed_at, w.note, w.advisory_id`

type scanner interface{ Scan(...any) error }

func scanWarning(sc scanner) (Warning, error) {
	var w Warning
	var ind, adv sql.NullInt64
	var active sql.NullString
	var ended, acked, closed sql.NullTime
	err := sc.Scan(&w.ID, &w.Kind, &w.Subject, &w.SubjectKey, &w.Label, &ind, &w.State, &active, &w.Orgs, &w.Provinces,
		&w.Total, &w.Rate, &w.Baseline, &w.FirstSeen, &w.LastSeen, &w.RaisedAt, &w.UpdatedAt, &ended, &w.AckedName, &acked,
		&w.ClosedName, &closed, &w.Note, &adv)
	w.IndicatorID, w.AdvisoryID, w.Active = ind.Int64, adv.Int64, active.Valid
	w.EndedAt, w.AckedAt, w.ClosedAt = store.TimeOf(ended), store.TimeOf(acked), store.TimeOf(closed)
	for _, t := range []*time.Time{&w.FirstSeen, &w.LastSeen, &w.RaisedAt, &w.UpdatedAt} {
		*t = t.UTC()
	}
	return w, err
}

// scopeWhere limits warnings to those concerning an organisation of the
// actor's scope (none for the whole network).
func scopeWhere(a policy.Actor) (string, []any) {
	if a.System || a.Scope.All {
		return "", nil
	}
	ids := a.Scope.IDs()
	if len(ids) == 0 {
		return " AND 1 = 0", nil
	}
	in, args := store.InList(ids)
	return " AND EXISTS (SELECT 1 FROM warning_orgs wo WHERE wo.warning_id = w.id AND wo.org_id IN " + in + ")", args
}

// List returns the warnings the actor may read, the latest first.
func (s *Service) List(ctx context.Context, a policy.Actor, f Filter) ([]Warning, error) {
	const op = "warning: list"
	if err := policy.Check(a, policy.WarningRead, resource(a.OrgID)); err != nil {
		return nil, err
	}
	e := errs.Invalid(op)
	if f.Validate(e); e.OrNil() != nil {
		return nil, e
	}
	where, args := scopeWhere(a)
	switch f.State {
	case "":
	case StateActive:
		where += " AND w.state IN ('open', 'acknowledged')"
	default:
		where += " AND w.state = ?"
		args = append(args, f.State)
	}
	if f.Kind != "" {
		where += " AND w.kind = ?"
		args = append(args, f.Kind)
	}
	if f.Subject != "" {
		where += " AND w.subject = ?"
		args = append(args, f.Subject)
	}
	if f.Q != "" {
		where += " AND LOWER(w.label) LIKE ? ESCAPE '\\'"
		q := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Q))
		args = append(args, "%"+q+"%")
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := s.DB.Query(ctx, "SELECT "+warningCols+" FROM warnings w WHERE 1 = 1"+where+
		" ORDER BY w.last_seen DESC, w.id DESC LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	defer rows.Close()
	var out []Warning
	for rows.Next() {
		w, err := scanWarning(rows)
		if err != nil {
			return nil, store.Wrap(op, err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Wrap(op, err)
	}
	if err := s.mask(ctx, a, out); err != nil {
		return nil, err
	}
	return out, nil
}

// mask hides from a label what the actor may not read: an indicator's
// value under a label the actor is not cleared for, an organisation the
// actor may not see.
func (s *Service) mask(ctx context.Context, a policy.Actor, list []Warning) error {
	if a.System {
		return nil
	}
	for i := range list {
		w := &list[i]
		switch w.Subject {
		case SubjectIndicator:
			var owner, by sql.NullInt64
			var tlp string
			err := s.DB.QueryRow(ctx, "SELECT owner_org_id, tlp, created_by FROM intel_indicators WHERE id = ?", w.IndicatorID).Scan(&owner, &tlp, &by)
			if err != nil && !store.IsNoRows(err) {
				return err
			}
			if err != nil || policy.Check(a, policy.IntelRead, policy.Resource{OwnerOrg: owner.Int64, TLP: policy.TLP(tlp), CreatedBy: by.Int64}) != nil {
				w.Label = "#" + w.SubjectKey
			}
		case SubjectSource, SubjectOrg:
			orgID, _ := strconv.ParseInt(w.SubjectKey, 10, 64)
			if w.Subject == SubjectSource {
				if err := s.DB.QueryRow(ctx, "SELECT org_id FROM ingest_sources WHERE id = ?", orgID).Scan(&orgID); err != nil && !store.IsNoRows(err) {
					return err
				}
			}
			if s.Orgs == nil {
				continue
			}
			if _, err := s.Orgs.Get(ctx, a, orgID); err != nil {
				if !errs.Is(err, errs.KindNotFound) && !errs.Is(err, errs.KindForbidden) {
					return err
				}
				w.Label = "#" + w.SubjectKey
			}
		}
	}
	return nil
}

// Get returns one warning with the organisations it concerns that the
// actor may see; NotFound when it concerns none of the actor's scope.
func (s *Service) Get(ctx context.Context, a policy.Actor, id int64) (Warning, error) {
	const op = "warning: get"
	w, err := s.readable(ctx, s.DB, a, id)
	if err != nil {
		return Warning{}, err
	}
	rows, err := s.DB.Query(ctx, `SELECT wo.org_id, wo.count, wo.first_seen, wo.last_seen, o.name, COALESCE(o.province_code, '')
		FROM warning_orgs wo JOIN organisations o ON o.id = wo.org_id WHERE wo.warning_id = ? ORDER BY wo.count DESC, wo.org_id`, id)
	if err != nil {
		return Warning{}, store.Wrap(op, err)
	}
	var all []Affected
	for rows.Next() {
		var x Affected
		if err := rows.Scan(&x.OrgID, &x.Count, &x.FirstSeen, &x.LastSeen, &x.Name, &x.Province); err != nil {
			rows.Close()
			return Warning{}, store.Wrap(op, err)
		}
		x.FirstSeen, x.LastSeen = x.FirstSeen.UTC(), x.LastSeen.UTC()
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Warning{}, store.Wrap(op, err)
	}
	for _, x := range all {
		if !a.System && !a.Scope.Contains(x.OrgID) {
			continue
		}
		if s.Orgs != nil && !a.System {
			if _, err := s.Orgs.Get(ctx, a, x.OrgID); err != nil {
				if errs.Is(err, errs.KindNotFound) || errs.Is(err, errs.KindForbidden) {
					continue
				}
				return Warning{}, err
			}
		}
		w.Affected = append(w.Affected, x)
	}
	return w, nil
}

// readable loads a warning the actor may read.
func (s *Service) readable(ctx context.Context, q store.Q, a policy.Actor, id int64) (Warning, error) {
	const op = "warning: get"
	if err := policy.Check(a, policy.WarningRead, resource(a.OrgID)); err != nil {
		return Warning{}, err
	}
	where, args := scopeWhere(a)
	w, err := scanWarning(q.QueryRow(ctx, "SELECT "+warningCols+" FROM warnings w WHERE w.id = ?"+where, append([]any{id}, args...)...))
	if store.IsNoRows(err) {
		return Warning{}, errs.NotFound(op)
	}
	if err != nil {
		return Warning{}, store.Wrap(op, err)
	}
	list := []Warning{w}
	if err := s.mask(ctx, a, list); err != nil {
		return Warning{}, err
	}
	return list[0], nil
}

// maxNote is the longest note on acknowledging or closing.
const maxNote = 2000

// Acknowledge marks an open warning seen by the national coordinator.
func (s *Service) Acknowledge(ctx context.Context, a policy.Actor, id int64, note string) (Warning, error) {
	return s.transition(ctx, a, id, StateAcknowledged, note)
}

// Close closes an open or acknowledged warning. While its condition lasts
// it stays the subject's one warning (updated, not raised again).
func (s *Service) Close(ctx context.Context, a policy.Actor, id int64, note string) (Warning, error) {
	return s.transition(ctx, a, id, StateClosed, note)
}

func (s *Service) transition(ctx context.Context, a policy.Actor, id int64, to, note string) (Warning, error) {
	op := "warning: " + to
	if err := policy.Check(a, policy.WarningManage, resource(a.OrgID)); err != nil {
		return Warning{}, err
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > maxNote || strings.ContainsRune(note, 0) {
		return Warning{}, errs.Invalid(op).Field("note", "warning.err.note", maxNote)
	}
	var out Warning
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		before, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		ok := before.State == StateOpen || to == StateClosed && before.State == StateAcknowledged
		if !ok {
			return errs.Conflict(op, "warning.err.state", i18n.T(i18n.VI, "warning.state."+before.State))
		}
		now := s.now()
		if note == "" {
			note = before.Note
		}
		var q string
		if to == StateAcknowledged {
			q = "UPDATE warnings SET state = ?, acked_by = ?, acked_name = ?, acked_at = ?, note = ?, updated_at = ? WHERE id = ? AND state = ?"
		} else {
			q = "UPDATE warnings SET state = ?, closed_by = ?, closed_name = ?, closed_at = ?, note = ?, updated_at = ? WHERE id = ? AND state = ?"
		}
		res, err := tx.Exec(ctx, q, to, store.NullID(a.UserID), a.Label(), now, note, now, id, before.State)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.Conflict(op, "warning.err.state", before.State)
		}
		if out, err = s.readable(ctx, tx, a, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: a.OrgID, Action: "warning." + to, Entity: "warning",
			EntityID: strconv.FormatInt(id, 10), Before: map[string]any{"state": before.State},
			After: map[string]any{"state": to, "note": note}})
	})
	if err != nil {
		return Warning{}, store.Wrap(op, err)
	}
	return out, nil
}

// SubjectText names the warning's subject for a title, in the language.
func SubjectText(l i18n.Lang, w Warning) string {
	return i18n.T(l, "warning.subject."+w.Subject) + " " + w.Label
}
