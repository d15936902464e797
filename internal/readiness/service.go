// Package readiness keeps what a response team needs before an incident:
// its teams (đội ứng cứu sự cố) and people, their certificates and courses,
// the on-duty rota with its 24/7 coverage, and SIM3 self-assessments.
// Every read and write goes through internal/policy; every change is
// audited in its own transaction.
package readiness

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Service is the readiness service.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	Log *slog.Logger
}

// NewService returns the service; now is the clock (time.Now when nil).
func NewService(db *store.DB, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Now: now, Log: log}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Local is the time zone the rota is kept in (Vietnam, UTC+7, no DST).
var Local = time.FixedZone("ICT", 7*3600)

// MinExperts is the number of qualified experts a team should have.
const MinExperts = 5

// Limits of text fields.
const (
	maxName = 200
	maxText = 4000
	maxLine = 300
)

// earliest is the oldest date accepted (certificates, courses, agreements).
var earliest = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// Resource is what the readiness actions are checked against: the
// organisation's readiness records, under TLP AMBER.
func Resource(orgID int64) policy.Resource {
	return policy.Resource{OwnerOrg: orgID, TLP: policy.TLPAmber}
}

func check(a policy.Actor, act policy.Action, orgID int64) error {
	if err := policy.Check(a, policy.ReadinessRead, Resource(orgID)); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return err
		}
		return errs.NotFound("readiness")
	}
	if act == policy.ReadinessRead {
		return nil
	}
	return policy.Check(a, act, Resource(orgID))
}

// text validates one text field.
func text(v *errs.Error, field, s string, max int, required bool) {
	switch {
	case required && s == "":
		v.Field(field, "readiness.err.required")
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		v.Field(field, "readiness.err.text")
	case utf8.RuneCountInString(s) > max:
		v.Field(field, "readiness.err.too_long", max)
	}
}

func date(v *errs.Error, field string, t time.Time, now time.Time, required bool, futureYears int) {
	if t.IsZero() {
		if required {
			v.Field(field, "readiness.err.required")
		}
		return
	}
	if t.Before(earliest) || t.After(now.AddDate(futureYears, 0, 0)) {
		v.Field(field, "readiness.err.date")
	}
}

func day(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// orgExists reports whether the organisation is there.
func orgExists(ctx context.Context, q store.Q, id int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT 1 FROM organisations WHERE id = ?", id).Scan(&n)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// needOrg answers NotFound (op) when the organisation is not there.
func needOrg(ctx context.Context, q store.Q, op string, id int64) error {
	ok, err := orgExists(ctx, q, id)
	if err == nil && !ok {
		err = errs.NotFound(op)
	}
	return err
}

// orgsExisting returns which of the organisations are there.
func orgsExisting(ctx context.Context, q store.Q, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for chunk := range slices.Chunk(ids, maxIn) {
		in, args := store.InList(chunk)
		rows, err := q.Query(ctx, "SELECT id FROM organisations WHERE id IN "+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxIn is the most ids put in one IN list.
const maxIn = 500

// tx runs fn in one transaction and wraps what it returns.
func (s *Service) tx(ctx context.Context, op string, fn func(tx *store.Tx, now time.Time) error) error {
	now := s.now()
	err := s.DB.InTx(ctx, func(tx *store.Tx) error { return fn(tx, now) })
	return store.Wrap(op, err)
}

func record(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, orgID int64, action, entity string, id int64, before, after any) error {
	return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: action, Entity: entity,
		EntityID: fmt.Sprint(id), Before: before, After: after})
}

// scopeWhere limits a query on column col to the actor's scope.
func scopeWhere(a policy.Actor, col string) (string, []any) {
	if a.Scope.All || a.System {
		return "1=1", nil
	}
	ids := a.Scope.IDs()
	if len(ids) == 0 {
		return "1=0", nil
	}
	in, args := store.InList(ids)
	return col + " IN " + in, args
}
