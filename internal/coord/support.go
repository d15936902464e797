package coord

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Support request states.
const (
	SupportOpen     = "open"
	SupportAccepted = "accepted"
	SupportDeclined = "declined"
	SupportClosed   = "closed"
)

// SupportStatuses lists the states in order.
var SupportStatuses = []string{SupportOpen, SupportAccepted, SupportDeclined, SupportClosed}

// Support is a member's request for help on an incident, to its response
// unit or to the national coordinator.
type Support struct {
	ID              int64     `json:"id"`
	IncidentID      int64     `json:"incident_id"`
	IncidentRef     string    `json:"incident_ref"`
	IncidentTitle   string    `json:"incident_title"`
	RequesterOrgID  int64     `json:"requester_org_id"`
	RequesterName   string    `json:"requester_name"`
	RequestedBy     int64     `json:"requested_by,omitempty"`
	RequestedByName string    `json:"requested_by_name,omitempty"`
	ReceiverOrgID   int64     `json:"receiver_org_id"`
	ReceiverName    string    `json:"receiver_name"`
	Needed          string    `json:"needed"`
	Urgency         string    `json:"urgency"`
	Status          string    `json:"status"`
	Answer          string    `json:"answer,omitempty"`
	DecidedName     string    `json:"decided_name,omitempty"`
	DecidedAt       time.Time `json:"decided_at,omitzero"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func (r Support) resource() policy.Resource {
	return policy.Resource{OwnerOrg: r.RequesterOrgID, TLP: policy.TLPAmber, SharedOrgs: []int64{r.ReceiverOrgID}}
}

// SupportInput is a new support request. ToNational sends it to the
// national coordinator instead of the requester's response unit.
type SupportInput struct {
	Needed     string
	Urgency    string
	ToNational bool
	// OrgID is the requesting organisation when certnet itself files the
	// request (demo seeding); ignored for people.
	OrgID int64
}

// RequestSupport asks for help on the incident key.
func (s *Service) RequestSupport(ctx context.Context, a policy.Actor, key string, in SupportInput) (Support, error) {
	const op = "support: request"
	in.Needed = trim(in.Needed)
	var out Support
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		inc, err := s.Inc.LockTx(ctx, tx, a, key, policy.IncidentRead)
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.SupportRequest, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
			return err
		}
		v := errs.Invalid(op)
		checkText(v, "needed", in.Needed, maxText, true, true)
		if in.Urgency == "" {
			in.Urgency = PriorityNormal
		}
		if !slices.Contains(Priorities, in.Urgency) {
			v.Field("urgency", "field.invalid")
		}
		requester := a.OrgID
		if a.System && in.OrgID != 0 {
			requester = in.OrgID
		}
		var receiver int64
		if in.ToNational {
			receiver, err = nationalCoordinator(ctx, tx)
		} else {
			receiver, err = responseUnitOf(ctx, tx, requester)
		}
		if err != nil && !store.IsNoRows(err) {
			return err
		}
		if receiver != 0 && receiver == requester {
			// The national coordinator has nobody above it to ask.
			e := errs.Forbidden(op)
			e.Message = errs.Msg{Key: "coord.err.no_receiver"}
			return e
		}
		if receiver == 0 {
			v.Field("to", "coord.err.no_receiver")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		req, err := loadOrg(ctx, tx, requester)
		if err != nil {
			return err
		}
		rcv, err := loadOrg(ctx, tx, receiver)
		if err != nil {
			return err
		}
		out = Support{IncidentID: inc.ID, IncidentRef: inc.Ref, IncidentTitle: inc.Title, RequesterOrgID: req.ID,
			RequesterName: req.Name, RequestedBy: a.UserID, RequestedByName: a.Label(), ReceiverOrgID: rcv.ID,
			ReceiverName: rcv.Name, Needed: in.Needed, Urgency: in.Urgency, Status: SupportOpen, CreatedAt: now, UpdatedAt: now}
		if err := tx.QueryRow(ctx, `INSERT INTO coord_support_requests (incident_id, requester_org_id, requested_by, requested_name,
			receiver_org_id, needed, urgency, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			out.IncidentID, out.RequesterOrgID, store.NullID(a.UserID), out.RequestedByName, out.ReceiverOrgID, out.Needed,
			out.Urgency, out.Status, now, now).Scan(&out.ID); err != nil {
			return err
		}
		if _, err := s.Inc.RecordEvent(ctx, tx, now, a, inc.ID, "support.requested",
			map[string]any{"support_id": out.ID, "to": rcv.Code, "urgency": out.Urgency}); err != nil {
			return err
		}
		if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindSupport, Key: fmt.Sprintf("support:%d:requested", out.ID),
			Orgs: []int64{rcv.ID}, Roles: []policy.Role{policy.RoleCoordinator, policy.RoleAdmin},
			Subject: errs.Msg{Key: "coord.msg.support_requested", Args: []any{inc.Ref}},
			Body:    errs.Msg{Key: "coord.msg.result", Args: []any{out.Needed}},
			Link:    "/support", TLP: inc.TLP}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: req.ID, Action: "support.request", Entity: "support_request",
			EntityID: fmt.Sprint(out.ID), After: out})
	})
	if err != nil {
		return Support{}, errs.Ensure(op, err)
	}
	return out, nil
}

const supportCols = `r.id, r.incident_id, i.ref, i.title, r.requester_org_id, q.name, r.requested_by, r.requested_name,
	r.receiver_org_id, g.name, r.needed, r.urgency, r.status, r.answer, r.decided_name, r.decided_at, r.created_at, r.updated_at`

const supportFrom = ` FROM coord_support_requests r JOIN incidents i ON i.id = r.incident_id
	JOIN organisations q ON q.id = r.requester_org_id JOIN organisations g ON g.id = r.receiver_org_id`

func scanSupport(sc interface{ Scan(...any) error }) (Support, error) {
	var r Support
	var by sql.NullInt64
	var dec sql.NullTime
	if err := sc.Scan(&r.ID, &r.IncidentID, &r.IncidentRef, &r.IncidentTitle, &r.RequesterOrgID, &r.RequesterName, &by,
		&r.RequestedByName, &r.ReceiverOrgID, &r.ReceiverName, &r.Needed, &r.Urgency, &r.Status, &r.Answer, &r.DecidedName,
		&dec, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return Support{}, err
	}
	r.RequestedBy, r.DecidedAt = by.Int64, store.TimeOf(dec)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

// SupportRequest returns one request as the actor may see it.
func (s *Service) SupportRequest(ctx context.Context, a policy.Actor, id int64) (Support, error) {
	const op = "support: get"
	r, err := scanSupport(s.DB.QueryRow(ctx, "SELECT "+supportCols+supportFrom+" WHERE r.id = ?", id))
	if store.IsNoRows(err) {
		return Support{}, errs.NotFound(op)
	}
	if err != nil {
		return Support{}, errs.Internal(op, err)
	}
	if err := policy.Check(a, policy.SupportRead, r.resource()); err != nil {
		return Support{}, errs.NotFound(op)
	}
	return r, nil
}

// SupportFilter narrows the support list.
type SupportFilter struct {
	Direction string // DirIn (to my organisation), DirOut (from it), "" both
	Status    string
	Incident  int64
}

// SupportRequests lists requests to and from the actor's organisation (or
// of one incident), newest first.
func (s *Service) SupportRequests(ctx context.Context, a policy.Actor, f SupportFilter) ([]Support, error) {
	const op = "support: list"
	q := "SELECT " + supportCols + supportFrom + " WHERE "
	var args []any
	switch {
	case f.Incident != 0:
		q += "r.incident_id = ?"
		args = append(args, f.Incident)
	case f.Direction == DirIn:
		q += "r.receiver_org_id = ?"
		args = append(args, a.OrgID)
	case f.Direction == DirOut:
		q += "r.requester_org_id = ?"
		args = append(args, a.OrgID)
	default:
		q += "(r.receiver_org_id = ? OR r.requester_org_id = ?)"
		args = append(args, a.OrgID, a.OrgID)
	}
	if f.Status != "" {
		q += " AND r.status = ?"
		args = append(args, f.Status)
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY r.id DESC LIMIT 500", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Support{}
	for rows.Next() {
		r, err := scanSupport(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		if policy.Allowed(a, policy.SupportRead, r.resource()) {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// Decisions on a support request.
const (
	DecideAccept  = "accept"
	DecideDecline = "decline"
	DecideClose   = "close"
)

// DecideSupport accepts (open → accepted), declines with a reason
// (open → declined) or closes (accepted → closed) a request; the answer is
// told to the requester.
func (s *Service) DecideSupport(ctx context.Context, a policy.Actor, id int64, decision, answer string) (Support, error) {
	const op = "support: decide"
	answer = trim(answer)
	var out Support
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		now := s.stamp()
		r, err := scanSupport(tx.QueryRow(ctx, "SELECT "+supportCols+supportFrom+" WHERE r.id = ?", id))
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		if err := policy.Check(a, policy.SupportRead, r.resource()); err != nil {
			return errs.NotFound(op)
		}
		if err := policy.Check(a, policy.SupportDecide, policy.Resource{OwnerOrg: r.ReceiverOrgID, TLP: policy.TLPGreen}); err != nil {
			return err
		}
		var to, from string
		switch decision {
		case DecideAccept:
			from, to = SupportOpen, SupportAccepted
		case DecideDecline:
			from, to = SupportOpen, SupportDeclined
		case DecideClose:
			from, to = SupportAccepted, SupportClosed
		default:
			return errs.Invalid(op).Field("decision", "field.invalid")
		}
		v := errs.Invalid(op)
		checkText(v, "answer", answer, maxText, true, to == SupportDeclined)
		if err := v.OrNil(); err != nil {
			return err
		}
		if r.Status != from {
			return errs.Conflict(op, "coord.err.support_transition", r.Status, to)
		}
		before := r
		r.Status, r.UpdatedAt, r.DecidedName, r.DecidedAt = to, now, a.Label(), now
		if answer != "" {
			r.Answer = answer
		}
		res, err := tx.Exec(ctx, `UPDATE coord_support_requests SET status = ?, answer = ?, decided_by = ?, decided_name = ?,
			decided_at = ?, updated_at = ? WHERE id = ? AND status = ?`, r.Status, r.Answer, store.NullID(a.UserID), r.DecidedName, now, now, r.ID, from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "coord.err.changed")
		}
		if _, err := s.Inc.RecordEvent(ctx, tx, now, a, r.IncidentID, "support."+to,
			map[string]any{"support_id": r.ID, "answer": r.Answer}); err != nil {
			return err
		}
		if err := notify.Enqueue(ctx, tx, now, notify.Message{Kind: KindSupportDecided, Key: fmt.Sprintf("support:%d:%s", r.ID, to),
			Orgs: []int64{r.RequesterOrgID}, Users: nonZero(r.RequestedBy),
			Subject: errs.Msg{Key: "coord.msg.support_" + to, Args: []any{r.IncidentRef}},
			Body:    errs.Msg{Key: "coord.msg.result", Args: []any{r.Answer}},
			Link:    "/support", TLP: policy.TLPAmber}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, a, audit.Change{OrgID: r.ReceiverOrgID, Action: "support." + decision,
			Entity: "support_request", EntityID: fmt.Sprint(r.ID), Before: before, After: r}); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return Support{}, errs.Ensure(op, err)
	}
	return out, nil
}

func nonZero(ids ...int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}
