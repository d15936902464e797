// Package coord holds coordination orders (lệnh điều phối) issued on an
// incident to one or more organisations, members' support requests to their
// response unit or the national coordinator, and the effort and costs of
// helping organisations recorded for reimbursement (QĐ 1622/QĐ-TTg).
//
// Every method checks policy, validates, then writes in one transaction with
// the audit record, the incident timeline event and the outbox messages.
package coord

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/store"
)

// Service is the coordination service.
type Service struct {
	DB  *store.DB
	Inc *incident.Service
	Now func() time.Time
	Log *slog.Logger
}

// NewService returns the service; now nil means time.Now.
func NewService(db *store.DB, inc *incident.Service, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Inc: inc, Now: now, Log: log}
}

func (s *Service) stamp() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Notification kinds.
const (
	KindOrderIssued    = "order.issued"
	KindOrderResponded = "order.responded"
	KindOrderEscalated = "order.escalated"
	KindOrderOverdue   = "order.overdue"
	KindSupport        = "support.requested"
	KindSupportDecided = "support.decided"
)

func init() {
	notify.RegisterKind(KindOrderIssued, "coord.kind.order_issued")
	notify.RegisterKind(KindOrderResponded, "coord.kind.order_responded")
	notify.RegisterKind(KindOrderEscalated, "coord.kind.order_escalated")
	notify.RegisterKind(KindOrderOverdue, "coord.kind.order_overdue")
	notify.RegisterKind(KindSupport, "coord.kind.support_requested")
	notify.RegisterKind(KindSupportDecided, "coord.kind.support_decided")
}

// Limits of text fields.
const (
	maxTitle = 300
	maxText  = 10000
)

// earliest is the earliest date a user may enter.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func checkText(v *errs.Error, field, s string, max int, multiline, required bool) {
	if s == "" {
		if required {
			v.Field(field, "field.required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.Field(field, "field.invalid")
		return
	}
	if utf8.RuneCountInString(s) > max {
		v.Field(field, "field.too_long", max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			v.Field(field, "coord.err.control_chars")
			return
		}
	}
}

// orgRow is what the service needs to know of an organisation.
type orgRow struct {
	ID       int64
	Code     string
	Name     string
	ParentID int64
	Active   bool
	Roles    []org.Role
}

func (o orgRow) has(r ...org.Role) bool {
	return slices.ContainsFunc(r, func(x org.Role) bool { return slices.Contains(o.Roles, x) })
}

// responseUnitRoles are the network roles of a response unit (đơn vị
// chuyên trách).
var responseUnitRoles = []org.Role{org.RoleProvincialResponseUnit, org.RoleMinistryResponseUnit, org.RoleSectorCERT}

// coordinates reports whether the organisation may issue orders: the
// national coordinator or a response unit.
func (o orgRow) coordinates() bool {
	return o.has(org.RoleNationalCoordinator) || o.has(responseUnitRoles...)
}

func loadOrg(ctx context.Context, q store.Q, id int64) (orgRow, error) {
	var o orgRow
	var parent sql.NullInt64
	err := q.QueryRow(ctx, "SELECT id, code, name, parent_id, active FROM organisations WHERE id = ?", id).
		Scan(&o.ID, &o.Code, &o.Name, &parent, &o.Active)
	if err != nil {
		return orgRow{}, err
	}
	o.ParentID = parent.Int64
	rows, err := q.Query(ctx, "SELECT role FROM org_roles WHERE org_id = ?", id)
	if err != nil {
		return orgRow{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return orgRow{}, err
		}
		o.Roles = append(o.Roles, org.Role(r))
	}
	return o, rows.Err()
}

// orgsByID returns the organisations with the given ids (without their
// roles), in one query.
func orgsByID(ctx context.Context, q store.Q, ids []int64) (map[int64]orgRow, error) {
	out := make(map[int64]orgRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := q.Query(ctx, "SELECT id, code, name, parent_id, active FROM organisations WHERE id IN "+in, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var o orgRow
		var parent sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Code, &o.Name, &parent, &o.Active); err != nil {
			return nil, err
		}
		o.ParentID = parent.Int64
		out[o.ID] = o
	}
	return out, rows.Err()
}

// inList is "(?, ?, …)" for ids (at least one) with its arguments.
func inList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// unique returns ids without repeats, in their first order.
func unique(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// nationalCoordinator returns the id of the national coordinator (0 when
// none is registered).
func nationalCoordinator(ctx context.Context, q store.Q) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT org_id FROM org_roles WHERE role = ? ORDER BY org_id LIMIT 1", string(org.RoleNationalCoordinator)).Scan(&id)
	if store.IsNoRows(err) {
		return 0, nil
	}
	return id, err
}

// responseUnitOf returns the nearest ancestor of orgID (not itself) that is
// a response unit, or the national coordinator when none is.
func responseUnitOf(ctx context.Context, q store.Q, orgID int64) (int64, error) {
	o, err := loadOrg(ctx, q, orgID)
	if err != nil {
		return 0, err
	}
	cur := o.ParentID
	for range 16 {
		if cur == 0 {
			break
		}
		p, err := loadOrg(ctx, q, cur)
		if err != nil {
			return 0, err
		}
		if p.has(responseUnitRoles...) || p.has(org.RoleNationalCoordinator) {
			return p.ID, nil
		}
		cur = p.ParentID
	}
	return nationalCoordinator(ctx, q)
}

func trim(s string) string { return strings.TrimSpace(s) }
