// Package infosys keeps the information systems of the network's members
// and their security levels (NĐ 85/2016, TT 12/2022): the inventory, the
// level questionnaire that proposes a level with its reasons, the level
// dossier and its workflow (draft → submitted → appraised → approved, or
// returned to draft) with the legal deadlines, the schedules of periodic
// assessment, scanning, threat hunting and drills computed from the
// records, and the KPIs against the yearly targets. Every read and write
// goes through internal/policy; every change is audited in its own
// transaction.
package infosys

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Service is the information-system service.
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

// Local is Vietnam's time zone (UTC+7, no daylight saving); dates and
// working days are counted in it.
var Local = time.FixedZone("ICT", 7*3600)

// Limits of text fields.
const (
	maxName = 200
	maxText = 8000
	maxLine = 1000
)

func resource(owner, operator int64) policy.Resource {
	r := policy.Resource{OwnerOrg: owner, TLP: policy.TLPAmber}
	if operator != 0 {
		r.SharedOrgs = []int64{operator}
	}
	return r
}

// check decides act on a system of owner operated by operator: allowed when
// allowed against the owner, or, for reading and writing, against the
// operator (operators keep the systems they run). Someone who may not read
// it gets NotFound.
func check(a policy.Actor, act policy.Action, owner, operator int64) error {
	decide := func(act policy.Action) error {
		err := policy.Check(a, act, resource(owner, operator))
		if err != nil && (act == policy.InfosysRead || act == policy.InfosysWrite) && operator != 0 && operator != owner &&
			policy.Check(a, act, policy.Resource{OwnerOrg: operator, TLP: policy.TLPAmber}) == nil {
			return nil
		}
		return err
	}
	if err := decide(policy.InfosysRead); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return err
		}
		return errs.NotFound("infosys")
	}
	if act == policy.InfosysRead {
		return nil
	}
	return decide(act)
}

// Check decides act on the system for the actor as the service does: the
// owner's right, or the operator's for reads and writes (operators keep the
// systems they run); NotFound for someone who may not read it.
func Check(a policy.Actor, act policy.Action, sys System) error {
	return check(a, act, sys.OwnerOrgID, sys.OperatorOrgID)
}

func text(v *errs.Error, field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Field(field, "infosys.err.required")
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		v.Field(field, "infosys.err.text")
	case utf8.RuneCountInString(s) > max:
		v.Field(field, "infosys.err.too_long", max)
	}
}

func orgExists(ctx context.Context, q store.Q, id int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT 1 FROM organisations WHERE id = ?", id).Scan(&n)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// strs runs a query whose rows are one text column (like store.IDs).
func strs(ctx context.Context, q store.Q, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Service) tx(ctx context.Context, op string, fn func(tx *store.Tx, now time.Time) error) error {
	now := s.now()
	err := s.DB.InTx(ctx, func(tx *store.Tx) error { return fn(tx, now) })
	return store.Wrap(op, err)
}

func record(ctx context.Context, tx *store.Tx, now time.Time, a policy.Actor, orgID int64, action, entity string, id any, before, after any) error {
	return audit.Record(ctx, tx, now, a, audit.Change{OrgID: orgID, Action: action, Entity: entity,
		EntityID: fmt.Sprint(id), Before: before, After: after})
}

// scopeWhere limits a query to systems whose owner or operator is in the
// actor's scope.
func scopeWhere(a policy.Actor) (string, []any) {
	if a.Scope.All || a.System {
		return "1=1", nil
	}
	ids := a.Scope.IDs()
	if len(ids) == 0 {
		return "1=0", nil
	}
	in, args := store.InList(ids)
	return "(s.owner_org_id IN " + in + " OR s.operator_org_id IN " + in + ")", append(args, args...)
}
