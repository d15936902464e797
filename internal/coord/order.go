package coord

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Priorities of an order.
const (
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Priorities lists the priorities in display order.
var Priorities = []string{PriorityNormal, PriorityHigh, PriorityUrgent}

// Acknowledgement periods: a target must acknowledge an urgent order within
// AckUrgent and any other within AckNormal; a reminder goes out when the
// period ends, and the target's parent and the issuer are told when a
// second period ends without acknowledgement.
const (
	AckUrgent = 4 * time.Hour
	AckNormal = 24 * time.Hour
)

// AckPeriod is the acknowledgement period of a priority.
func AckPeriod(priority string) time.Duration {
	if priority == PriorityUrgent {
		return AckUrgent
	}
	return AckNormal
}

// Target states.
const (
	StatusSent         = "sent"
	StatusAcknowledged = "acknowledged"
	StatusInProgress   = "in_progress"
	StatusDone         = "done"
	StatusUnable       = "unable"
)

// Statuses lists the target states in order.
var Statuses = []string{StatusSent, StatusAcknowledged, StatusInProgress, StatusDone, StatusUnable}

// next says which states a target may move to from each state; in progress
// may be reported again (a progress note).
var next = map[string][]string{
	StatusSent:         {StatusAcknowledged, StatusUnable},
	StatusAcknowledged: {StatusInProgress, StatusDone, StatusUnable},
	StatusInProgress:   {StatusInProgress, StatusDone, StatusUnable},
}

// Next lists the states a target may move to from status.
func Next(status string) []string { return next[status] }

// Finished reports whether the state is final.
func Finished(status string) bool { return status == StatusDone || status == StatusUnable }

// maxTargets bounds the organisations of one order.
const maxTargets = 50

// Order is a coordination order with its targets. Targets see the
// incident's ref, title, type and the observables the issuer included, not
// the incident itself.
type Order struct {
	ID            int64        `json:"id"`
	IncidentID    int64        `json:"incident_id"`
	IncidentRef   string       `json:"incident_ref"`
	IncidentTitle string       `json:"incident_title"`
	IncidentType  string       `json:"incident_type"`
	IssuerOrgID   int64        `json:"issuer_org_id"`
	IssuerName    string       `json:"issuer_name"`
	IssuedBy      int64        `json:"issued_by,omitempty"`
	IssuedName    string       `json:"issued_name,omitempty"`
	Title         string       `json:"title"`
	Actions       string       `json:"actions"`
	Priority      string       `json:"priority"`
	TLP           policy.TLP   `json:"tlp"`
	DeadlineAt    time.Time    `json:"deadline_at"`
	Observables   []Observable `json:"observables"`
	SupportID     int64        `json:"support_id,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	Targets       []Target     `json:"targets"`
	// ExerciseID: the order is on an exercise incident (a drill's order):
	// its messages are marked exercise and its escalation stays inside the
	// exercise.
	ExerciseID int64 `json:"exercise_id,omitempty"`
}

// Observable is an address, name or hash the issuer included in the order.
type Observable struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Target is one organisation's part of an order.
type Target struct {
	ID             int64     `json:"id"`
	OrderID        int64     `json:"order_id"`
	OrgID          int64     `json:"org_id"`
	OrgCode        string    `json:"org_code"`
	OrgName        string    `json:"org_name"`
	Status         string    `json:"status"`
	Result         string    `json:"result,omitempty"`
	AckDueAt       time.Time `json:"ack_due_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	FinishedAt     time.Time `json:"finished_at,omitzero"`
	UpdatedName    string    `json:"updated_name,omitempty"`
	UpdatedAt      time.Time `json:"updated_at"`
	Escalation     int       `json:"escalation"`
	OverdueSent    bool      `json:"overdue_sent"`
}

// Overdue reports whether the order is past its deadline and the target
// has not finished.
func (o Order) Overdue(t Target, now time.Time) bool {
	return !Finished(t.Status) && now.After(o.DeadlineAt)
}

// Target returns the target row of org, if any.
func (o Order) Target(orgID int64) (Target, bool) {
	for _, t := range o.Targets {
		if t.OrgID == orgID {
			return t, true
		}
	}
	return Target{}, false
}

// IssueInput is a new order.
type IssueInput struct {
	Title         string
	Actions       string
	Priority      string
	TLP           policy.TLP
	DeadlineAt    time.Time
	Targets       []int64
	ObservableIDs []int64
	SupportID     int64
	// IssuerOrgID is the issuing organisation when certnet itself issues
	// the order (demo seeding); ignored for people.
	IssuerOrgID int64
}

// MayIssue reports whether the actor may issue orders at all: order.issue
// on its organisation, which must be the national coordinator or a
// response unit (what Issue checks before the order's own fields).
func (s *Service) MayIssue(ctx context.Context, a policy.Actor) bool {
	if !policy.Allowed(a, policy.OrderIssue, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}) {
		return false
	}
	o, err := loadOrg(ctx, s.DB, a.OrgID)
	return err == nil && o.coordinates()
}

// Issue issues an order on the incident key to the target organisations.
// The actor must see the incident and be a coordinator of the national
// coordinator or a response unit; every target must be inside its scope.
func (s *Service) Issue(ctx context.Context, a policy.Actor, key string, in IssueInput) (Order, error) {
	return s.IssueThen(ctx, a, key, in, nil)
}

// OrgCoordinates reports whether the organisation may issue orders (the
// national coordinator or a response unit).
func (s *Service) OrgCoordinates(ctx context.Context, orgID int64) (bool, error) {
	o, err := loadOrg(ctx, s.DB, orgID)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil && o.coordinates(), err
}

// IssueThen issues the order as Issue does, then runs then in the same
// transaction (an error from it undoes the order): the exercise service
// marks its inject delivered with the order.
func (s *Service) IssueThen(ctx context.Context, a policy.Actor, key string, in IssueInput,
	then func(ctx context.Context, tx *store.Tx, o Order) error) (Order, error) {
	const op = "order: issue"
	in.Title, in.Actions = trim(in.Title), trim(in.Actions)
	var out Order
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		inc, err := s.Inc.LockTx(ctx, tx, a, key, policy.IncidentRead)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.OrderIssue, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
			return err
		}
		issuerID := a.OrgID
		if a.System && in.IssuerOrgID != 0 {
			issuerID = in.IssuerOrgID
		}
		issuer, err := loadOrg(ctx, tx, issuerID)
		if err != nil {
			if store.IsNoRows(err) {
				return errs.Forbidden(op)
			}
			return err
		}
		if !issuer.coordinates() {
			e := errs.Forbidden(op)
			e.Message = errs.Msg{Key: "coord.err.not_coordinator"}
			return e
		}
		v := errs.Invalid(op)
		checkText(v, "title", in.Title, maxTitle, false, true)
		checkText(v, "actions", in.Actions, maxText, true, true)
		if in.Priority == "" {
			in.Priority = PriorityNormal
		}
		if !slices.Contains(Priorities, in.Priority) {
			v.Field("priority", "field.invalid")
		}
		if in.TLP == "" {
			in.TLP = inc.TLP
		}
		if !in.TLP.Valid() || in.TLP == policy.TLPRed {
			v.Field("tlp", "coord.err.tlp")
		}
		switch {
		case in.DeadlineAt.IsZero():
			v.Field("deadline_at", "field.required")
		case !in.DeadlineAt.After(now) || in.DeadlineAt.After(now.AddDate(1, 0, 0)):
			v.Field("deadline_at", "coord.err.deadline")
		}
		targets := make([]orgRow, 0, len(in.Targets))
		switch {
		case len(in.Targets) == 0:
			v.Field("targets", "coord.err.targets_required")
		case len(in.Targets) > maxTargets:
			v.Field("targets", "coord.err.targets_many", maxTargets)
		default:
			ids := unique(in.Targets)
			orgs, err := orgsByID(ctx, tx, ids)
			if err != nil {
				return err
			}
			var outside []string
			for _, id := range ids {
				t, ok := orgs[id]
				if !ok || !t.Active {
					v.Field("targets", "coord.err.target_unknown")
					continue
				}
				if policy.Check(a, policy.OrderIssue, policy.Resource{OwnerOrg: t.ID, TLP: policy.TLPGreen}) != nil {
					outside = append(outside, t.Code)
					continue
				}
				targets = append(targets, t)
			}
			if len(outside) > 0 {
				v.Field("targets", "coord.err.target_scope", strings.Join(outside, ", "))
			}
		}
		obs, err := pickObservables(ctx, tx, inc.ID, in.ObservableIDs)
		if err != nil {
			return err
		}
		if obs == nil {
			v.Field("observables", "coord.err.observable")
		}
		if in.SupportID != 0 {
			var incID, receiver int64
			var status string
			err := tx.QueryRow(ctx, "SELECT incident_id, receiver_org_id, status FROM coord_support_requests WHERE id = ?", in.SupportID).
				Scan(&incID, &receiver, &status)
			if err != nil && !store.IsNoRows(err) {
				return err
			}
			if err != nil || incID != inc.ID || receiver != issuer.ID || status != SupportAccepted {
				v.Field("support_id", "coord.err.support_link")
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		obsJSON, _ := json.Marshal(obs)
		out = Order{IncidentID: inc.ID, ExerciseID: inc.ExerciseID, IncidentRef: inc.Ref, IncidentTitle: inc.Title, IncidentType: string(inc.Type),
			IssuerOrgID: issuer.ID, IssuerName: issuer.Name, IssuedBy: a.UserID, IssuedName: a.Label(), Title: in.Title,
			Actions: in.Actions, Priority: in.Priority, TLP: in.TLP, DeadlineAt: in.DeadlineAt.UTC().Truncate(time.Microsecond),
			Observables: obs, SupportID: in.SupportID, CreatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO coord_orders (incident_id, issuer_org_id, issued_by, issued_name, title, actions,
			priority, tlp, deadline_at, observables, support_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			out.IncidentID, out.IssuerOrgID, store.NullID(a.UserID), out.IssuedName, out.Title, out.Actions, out.Priority, string(out.TLP),
			out.DeadlineAt, string(obsJSON), store.NullID(out.SupportID), now).Scan(&out.ID); err != nil {
			return err
		}
		ackDue := now.Add(AckPeriod(out.Priority))
		codes := make([]string, 0, len(targets))
		orgIDs := make([]int64, 0, len(targets))
		for _, t := range targets {
			tg := Target{OrderID: out.ID, OrgID: t.ID, OrgCode: t.Code, OrgName: t.Name, Status: StatusSent, AckDueAt: ackDue, UpdatedAt: now}
			if err := tx.QueryRow(ctx, `INSERT INTO coord_order_targets (order_id, org_id, status, ack_due_at, updated_at)
				VALUES (?, ?, ?, ?, ?) RETURNING id`, out.ID, t.ID, StatusSent, ackDue, now).Scan(&tg.ID); err != nil {
				return err
			}
			out.Targets = append(out.Targets, tg)
			codes = append(codes, t.Code)
			orgIDs = append(orgIDs, t.ID)
		}
		if _, err := s.Inc.RecordEvent(ctx, tx, now, a, inc.ID, "order.issued",
			map[string]any{"order_id": out.ID, "title": out.Title, "targets": strings.Join(codes, ", ")}); err != nil {
			return err
		}
		if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindOrderIssued, Key: fmt.Sprintf("order:%d:issued", out.ID),
			Orgs: orgIDs, Subject: errs.Msg{Key: "coord.msg.order_issued", Args: []any{out.Title}},
			Body: errs.Msg{Key: "coord.msg.order_issued_body", Args: []any{out.DeadlineAt.Format(time.RFC3339)}},
			Link: fmt.Sprintf("/orders/%d", out.ID), TLP: out.TLP, Exercise: out.ExerciseID != 0}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, a, audit.Change{OrgID: issuer.ID, Action: "order.issue", Entity: "order",
			EntityID: fmt.Sprint(out.ID), After: out}); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, out)
		}
		return nil
	})
	if err != nil {
		return Order{}, errs.Ensure(op, err)
	}
	return out, nil
}

// pickObservables returns the incident's observables with the given ids,
// in their order; nil when one of them is not the incident's.
func pickObservables(ctx context.Context, q store.Q, incID int64, ids []int64) ([]Observable, error) {
	ids = unique(ids)
	out := make([]Observable, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in, args := inList(ids)
	rows, err := q.Query(ctx, "SELECT id, kind, value FROM incident_observables WHERE incident_id = ? AND id IN "+in,
		append([]any{incID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[int64]Observable, len(ids))
	for rows.Next() {
		var id int64
		var o Observable
		if err := rows.Scan(&id, &o.Kind, &o.Value); err != nil {
			return nil, err
		}
		byID[id] = o
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		o, ok := byID[id]
		if !ok {
			return nil, nil
		}
		out = append(out, o)
	}
	return out, nil
}

const orderCols = `o.id, o.incident_id, i.ref, i.title, i.type, o.issuer_org_id, g.name, o.issued_by, o.issued_name, o.title,
	o.actions, o.priority, o.tlp, o.deadline_at, o.observables, o.support_id, o.created_at, COALESCE(i.exercise_id, 0)`

const orderFrom = ` FROM coord_orders o JOIN incidents i ON i.id = o.incident_id JOIN organisations g ON g.id = o.issuer_org_id`

func scanOrder(sc interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var by, support sql.NullInt64
	var tlp, obs string
	if err := sc.Scan(&o.ID, &o.IncidentID, &o.IncidentRef, &o.IncidentTitle, &o.IncidentType, &o.IssuerOrgID, &o.IssuerName,
		&by, &o.IssuedName, &o.Title, &o.Actions, &o.Priority, &tlp, &o.DeadlineAt, &obs, &support, &o.CreatedAt, &o.ExerciseID); err != nil {
		return Order{}, err
	}
	o.IssuedBy, o.SupportID, o.TLP = by.Int64, support.Int64, policy.TLP(tlp)
	o.DeadlineAt, o.CreatedAt = o.DeadlineAt.UTC(), o.CreatedAt.UTC()
	if err := json.Unmarshal([]byte(obs), &o.Observables); err != nil {
		return Order{}, err
	}
	if o.Observables == nil {
		o.Observables = []Observable{}
	}
	return o, nil
}

// loadTargets returns the targets of the given orders by order id, in one
// query (a list page shows up to 500 orders).
func loadTargets(ctx context.Context, q store.Q, orderIDs ...int64) (map[int64][]Target, error) {
	out := make(map[int64][]Target, len(orderIDs))
	if len(orderIDs) == 0 {
		return out, nil
	}
	in, args := inList(orderIDs)
	rows, err := q.Query(ctx, `SELECT t.id, t.order_id, t.org_id, g.code, g.name, t.status, t.result, t.ack_due_at, t.acknowledged_at,
		t.finished_at, t.updated_name, t.updated_at, t.escalation, t.overdue_sent
		FROM coord_order_targets t JOIN organisations g ON g.id = t.org_id WHERE t.order_id IN `+in+` ORDER BY g.name, t.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t Target
		var ack, fin sql.NullTime
		var overdue int
		if err := rows.Scan(&t.ID, &t.OrderID, &t.OrgID, &t.OrgCode, &t.OrgName, &t.Status, &t.Result, &t.AckDueAt, &ack, &fin,
			&t.UpdatedName, &t.UpdatedAt, &t.Escalation, &overdue); err != nil {
			return nil, err
		}
		t.AckDueAt, t.UpdatedAt = t.AckDueAt.UTC(), t.UpdatedAt.UTC()
		t.AcknowledgedAt, t.FinishedAt, t.OverdueSent = store.TimeOf(ack), store.TimeOf(fin), overdue != 0
		out[t.OrderID] = append(out[t.OrderID], t)
	}
	return out, rows.Err()
}

func loadOrder(ctx context.Context, q store.Q, id int64) (Order, error) {
	o, err := scanOrder(q.QueryRow(ctx, "SELECT "+orderCols+orderFrom+" WHERE o.id = ?", id))
	if err != nil {
		return Order{}, err
	}
	targets, err := loadTargets(ctx, q, id)
	o.Targets = targets[id]
	return o, err
}

// canRead reports whether the actor may see the order: the issuer, the
// targets and the organisations above either, within the order's label.
func canRead(a policy.Actor, o Order) bool {
	if policy.Allowed(a, policy.OrderRead, policy.Resource{OwnerOrg: o.IssuerOrgID, TLP: policy.TLPAmber}) {
		return true
	}
	for _, t := range o.Targets {
		if policy.Allowed(a, policy.OrderRead, policy.Resource{OwnerOrg: t.OrgID, TLP: policy.TLPAmber}) {
			return true
		}
	}
	return false
}

// Order returns the order as the actor may see it (NotFound otherwise).
func (s *Service) Order(ctx context.Context, a policy.Actor, id int64) (Order, error) {
	const op = "order: get"
	o, err := loadOrder(ctx, s.DB, id)
	if store.IsNoRows(err) {
		return Order{}, errs.NotFound(op)
	}
	if err != nil {
		return Order{}, errs.Internal(op, err)
	}
	if !canRead(a, o) {
		return Order{}, errs.NotFound(op)
	}
	return o, nil
}

// Directions of the order list.
const (
	DirIn  = "in"  // orders to my organisation
	DirOut = "out" // orders issued by my organisation
)

// Filter narrows the order list.
type Filter struct {
	Direction string // DirIn, DirOut or "" (both)
	Status    string // a target state of my organisation's part ("" any)
	Overdue   bool
	Incident  int64 // the orders of one incident (ignores Direction)
	// Exercise: only exercise orders (a drill's); the real ones only
	// otherwise. An incident's list shows its own orders either way.
	Exercise bool
	Limit    int
}

// Orders lists the orders issued by or to the actor's organisation (or of
// one incident), newest first, each as the actor may see it.
func (s *Service) Orders(ctx context.Context, a policy.Actor, f Filter) ([]Order, error) {
	const op = "order: list"
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q := "SELECT " + orderCols + orderFrom + " WHERE "
	var args []any
	switch {
	case f.Incident != 0:
		q += "o.incident_id = ?"
		args = append(args, f.Incident)
	case f.Direction == DirOut:
		q += "o.issuer_org_id = ?"
		args = append(args, a.OrgID)
	case f.Direction == DirIn:
		q += "EXISTS (SELECT 1 FROM coord_order_targets t WHERE t.order_id = o.id AND t.org_id = ?)"
		args = append(args, a.OrgID)
	default:
		q += "(o.issuer_org_id = ? OR EXISTS (SELECT 1 FROM coord_order_targets t WHERE t.order_id = o.id AND t.org_id = ?))"
		args = append(args, a.OrgID, a.OrgID)
	}
	if f.Incident == 0 {
		// "+": not through the exercise_id index (see incident.List).
		if f.Exercise {
			q += " AND i.exercise_id IS NOT NULL"
		} else {
			q += " AND +i.exercise_id IS NULL"
		}
	}
	now := s.stamp()
	if f.Status != "" || f.Overdue {
		// A target of my organisation's part (of any part, for the issuer
		// and on an incident's list) in that state or overdue, decided
		// before the limit so that older matches are not cut off.
		q += " AND EXISTS (SELECT 1 FROM coord_order_targets ft WHERE ft.order_id = o.id"
		if f.Incident == 0 {
			q += " AND (ft.org_id = ? OR o.issuer_org_id = ?)"
			args = append(args, a.OrgID, a.OrgID)
		}
		if f.Status != "" {
			q += " AND ft.status = ?"
			args = append(args, f.Status)
		}
		if f.Overdue {
			q += " AND ft.status NOT IN (?, ?) AND o.deadline_at < ?"
			args = append(args, StatusDone, StatusUnable, now)
		}
		q += ")"
	}
	q += " ORDER BY o.id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var list []Order
	var ids []int64
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		list = append(list, o)
		ids = append(ids, o.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	targets, err := loadTargets(ctx, s.DB, ids...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	out := []Order{}
	for _, o := range list {
		o.Targets = targets[o.ID]
		if !canRead(a, o) {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// RespondInput moves the actor's organisation's part of an order.
type RespondInput struct {
	Status string
	Result string
}

// Respond moves the actor's organisation's part of the order: acknowledge,
// in progress (again, as a progress report), done or unable with a result.
func (s *Service) Respond(ctx context.Context, a policy.Actor, orderID int64, in RespondInput) (Order, error) {
	const op = "order: respond"
	in.Result = trim(in.Result)
	var out Order
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		o, err := loadOrder(ctx, tx, orderID)
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		if !canRead(a, o) {
			return errs.NotFound(op)
		}
		t, ok := o.Target(a.OrgID)
		if !ok {
			return errs.Forbidden(op)
		}
		if err := policy.Check(a, policy.OrderRespond, policy.Resource{OwnerOrg: t.OrgID, TLP: policy.TLPAmber}); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if !slices.Contains(Statuses, in.Status) || in.Status == StatusSent {
			v.Field("status", "field.invalid")
		} else if !slices.Contains(Next(t.Status), in.Status) {
			return errs.Conflict(op, "coord.err.transition", t.Status, in.Status)
		}
		checkText(v, "result", in.Result, maxText, true, Finished(in.Status))
		if err := v.OrNil(); err != nil {
			return err
		}
		before := t
		t.Status, t.UpdatedName, t.UpdatedAt = in.Status, a.Label(), now
		if in.Result != "" {
			t.Result = in.Result
		}
		if t.AcknowledgedAt.IsZero() {
			t.AcknowledgedAt = now
		}
		if Finished(t.Status) {
			t.FinishedAt = now
		}
		res, err := tx.Exec(ctx, `UPDATE coord_order_targets SET status = ?, result = ?, acknowledged_at = ?, finished_at = ?,
			updated_by = ?, updated_name = ?, updated_at = ? WHERE id = ? AND status = ?`,
			t.Status, t.Result, t.AcknowledgedAt, store.NullTime(t.FinishedAt), store.NullID(a.UserID), t.UpdatedName, now, t.ID, before.Status)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "coord.err.changed")
		}
		for i := range o.Targets {
			if o.Targets[i].ID == t.ID {
				o.Targets[i] = t
			}
		}
		detail := map[string]any{"order_id": o.ID, "title": o.Title, "org": t.OrgCode}
		if in.Result != "" {
			detail["result"] = in.Result
		}
		if _, err := s.Inc.RecordEvent(ctx, tx, now, a, o.IncidentID, "order."+t.Status, detail); err != nil {
			return err
		}
		if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindOrderResponded,
			Key:  fmt.Sprintf("order:%d:target:%d:%s:%d:%x", o.ID, t.ID, t.Status, now.UnixMicro(), sha256.Sum256([]byte(in.Result))),
			Orgs: []int64{o.IssuerOrgID}, Subject: errs.Msg{Key: "coord.msg.order_" + t.Status, Args: []any{o.Title}},
			Body: errs.Msg{Key: "coord.msg.result", Args: []any{t.Result}},
			Link: fmt.Sprintf("/orders/%d", o.ID), TLP: o.TLP, Exercise: o.ExerciseID != 0}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, a, audit.Change{OrgID: t.OrgID, Action: "order.respond", Entity: "order_target",
			EntityID: fmt.Sprint(t.ID), Before: before, After: t}); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		return Order{}, errs.Ensure(op, err)
	}
	return out, nil
}
