package coord

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Effort is one day's work of a helping organisation on an incident,
// recorded for reimbursement (QĐ 1622/QĐ-TTg). Hours are kept in tenths.
type Effort struct {
	ID          int64     `json:"id"`
	IncidentID  int64     `json:"incident_id"`
	OrgID       int64     `json:"org_id"`
	OrgCode     string    `json:"org_code"`
	OrgName     string    `json:"org_name"`
	Date        string    `json:"date"`
	People      int       `json:"people"`
	Hours       float64   `json:"hours"`
	CostVND     int64     `json:"cost_vnd"`
	Description string    `json:"description"`
	OrderID     int64     `json:"order_id,omitempty"`
	RecordedBy  string    `json:"recorded_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// EffortInput is a new effort record; OrgID 0 means the actor's
// organisation.
type EffortInput struct {
	OrgID       int64
	Date        string // YYYY-MM-DD
	People      int
	Hours       float64
	CostVND     int64
	Description string
	OrderID     int64
}

// Totals sums effort per organisation and for the incident.
type Totals struct {
	OrgID   int64   `json:"org_id"`
	OrgName string  `json:"org_name"`
	Records int     `json:"records"`
	People  int     `json:"people"`
	Hours   float64 `json:"hours"`
	CostVND int64   `json:"cost_vnd"`
}

// Limits of an effort record.
const (
	maxPeople = 10000
	maxHours  = 100000
	maxCost   = 1_000_000_000_000 // 1,000 billion đồng
)

// AddEffort records a helping organisation's effort on the incident key.
// The organisation must be inside the actor's scope.
func (s *Service) AddEffort(ctx context.Context, a policy.Actor, key string, in EffortInput) (Effort, error) {
	const op = "effort: add"
	in.Description = trim(in.Description)
	if in.OrgID == 0 {
		in.OrgID = a.OrgID
	}
	var out Effort
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		inc, err := s.Inc.LockTx(ctx, tx, a, key, policy.IncidentRead)
		if err != nil {
			return err
		}
		out, err = s.addEffort(ctx, tx, a, inc, in)
		return err
	})
	if err != nil {
		return Effort{}, errs.Ensure(op, err)
	}
	return out, nil
}

// AddOrderEffort records the effort of the actor's organisation as a target
// of the order: a target sees the order, not always its incident (an ISP
// asked to block an address), and still reports the work the order cost it.
func (s *Service) AddOrderEffort(ctx context.Context, a policy.Actor, orderID int64, in EffortInput) (Effort, error) {
	const op = "effort: add to order"
	in.Description = trim(in.Description)
	var out Effort
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
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
		// The order's incident, locked as certnet: the target's right is
		// the order's, checked above and by EffortWrite on its own part.
		inc, err := s.Inc.LockTx(ctx, tx, policy.SystemActor("coord"), fmt.Sprint(o.IncidentID), policy.IncidentRead)
		if err != nil {
			return err
		}
		in.OrgID, in.OrderID = t.OrgID, o.ID
		out, err = s.addEffort(ctx, tx, a, inc, in)
		return err
	})
	if err != nil {
		return Effort{}, errs.Ensure(op, err)
	}
	return out, nil
}

// addEffort checks and writes one effort record on inc, locked in tx.
func (s *Service) addEffort(ctx context.Context, tx *store.Tx, a policy.Actor, inc incident.Incident, in EffortInput) (Effort, error) {
	const op = "effort: add"
	now := s.stamp()
	if err := policy.Check(a, policy.EffortWrite, policy.Resource{OwnerOrg: in.OrgID, TLP: policy.TLPGreen}); err != nil {
		return Effort{}, err
	}
	o, err := loadOrg(ctx, tx, in.OrgID)
	if store.IsNoRows(err) {
		return Effort{}, errs.Invalid(op).Field("org_id", "coord.err.target_unknown")
	}
	if err != nil {
		return Effort{}, err
	}
	v := errs.Invalid(op)
	d, derr := time.Parse(time.DateOnly, in.Date)
	switch {
	case in.Date == "":
		v.Field("date", "field.required")
	case derr != nil:
		v.Field("date", "coord.err.date")
	case d.Before(earliest) || d.After(now):
		v.Field("date", "coord.err.date_range")
	}
	if in.People < 1 || in.People > maxPeople {
		v.Field("people", "coord.err.range", 1, maxPeople)
	}
	tenths := math.Round(in.Hours * 10)
	if math.IsNaN(in.Hours) || tenths < 1 || tenths > maxHours*10 {
		v.Field("hours", "coord.err.hours", maxHours)
	}
	if in.CostVND < 0 || in.CostVND > maxCost {
		v.Field("cost_vnd", "coord.err.range", 0, int64(maxCost))
	}
	checkText(v, "description", in.Description, maxText, true, true)
	if in.OrderID != 0 {
		var incID int64
		err := tx.QueryRow(ctx, "SELECT incident_id FROM coord_orders WHERE id = ?", in.OrderID).Scan(&incID)
		if err != nil && !store.IsNoRows(err) {
			return Effort{}, err
		}
		if incID != inc.ID {
			v.Field("order_id", "coord.err.order_link")
		}
	}
	if err := v.OrNil(); err != nil {
		return Effort{}, err
	}
	out := Effort{IncidentID: inc.ID, OrgID: o.ID, OrgCode: o.Code, OrgName: o.Name, Date: d.Format(time.DateOnly),
		People: in.People, Hours: tenths / 10, CostVND: in.CostVND, Description: in.Description, OrderID: in.OrderID,
		RecordedBy: a.Label(), CreatedAt: now}
	if err := tx.QueryRow(ctx, `INSERT INTO coord_efforts (incident_id, org_id, work_date, people, hours_tenths, cost_vnd,
		description, order_id, recorded_by, recorded_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		out.IncidentID, out.OrgID, out.Date, out.People, int64(tenths), out.CostVND, out.Description, store.NullID(out.OrderID),
		store.NullID(a.UserID), out.RecordedBy, now).Scan(&out.ID); err != nil {
		return Effort{}, err
	}
	if _, err := s.Inc.RecordEvent(ctx, tx, now, a, inc.ID, "effort.recorded", map[string]any{"effort_id": out.ID,
		"org": o.Code, "date": out.Date, "people": out.People, "hours": out.Hours, "cost_vnd": out.CostVND}); err != nil {
		return Effort{}, err
	}
	return out, audit.Record(ctx, tx, now, a, audit.Change{OrgID: o.ID, Action: "effort.add", Entity: "effort",
		EntityID: fmt.Sprint(out.ID), After: out})
}

// Efforts lists the incident's effort records (oldest first) with totals
// per organisation and the incident's total (last, OrgID 0). Anyone who may
// read the incident may read them.
func (s *Service) Efforts(ctx context.Context, a policy.Actor, key string) ([]Effort, []Totals, error) {
	const op = "effort: list"
	inc, err := s.Inc.Get(ctx, a, key)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT e.id, e.incident_id, e.org_id, g.code, g.name, e.work_date, e.people, e.hours_tenths,
		e.cost_vnd, e.description, e.order_id, e.recorded_name, e.created_at
		FROM coord_efforts e JOIN organisations g ON g.id = e.org_id WHERE e.incident_id = ? ORDER BY e.work_date, e.id`, inc.ID)
	if err != nil {
		return nil, nil, errs.Internal(op, err)
	}
	defer rows.Close()
	list := []Effort{}
	var totals []Totals
	at := map[int64]int{}
	var all Totals
	for rows.Next() {
		var e Effort
		var tenths int64
		var order sql.NullInt64
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.OrgID, &e.OrgCode, &e.OrgName, &e.Date, &e.People, &tenths, &e.CostVND,
			&e.Description, &order, &e.RecordedBy, &e.CreatedAt); err != nil {
			return nil, nil, errs.Internal(op, err)
		}
		e.Hours, e.OrderID, e.CreatedAt = float64(tenths)/10, order.Int64, e.CreatedAt.UTC()
		list = append(list, e)
		i, ok := at[e.OrgID]
		if !ok {
			i = len(totals)
			at[e.OrgID] = i
			totals = append(totals, Totals{OrgID: e.OrgID, OrgName: e.OrgName})
		}
		for _, t := range []*Totals{&totals[i], &all} {
			t.Records++
			t.People += e.People
			t.Hours = math.Round((t.Hours+e.Hours)*10) / 10
			t.CostVND += e.CostVND
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, errs.Internal(op, err)
	}
	return list, append(totals, all), nil
}

// OrderEfforts lists the effort recorded on the order (oldest first) that
// the actor may see: anyone who reads the order sees the records of the
// targets whose part of it they may read — a target its own, the issuer
// every target's.
func (s *Service) OrderEfforts(ctx context.Context, a policy.Actor, orderID int64) ([]Effort, error) {
	const op = "effort: list for order"
	o, err := s.Order(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	all := policy.Allowed(a, policy.OrderRead, policy.Resource{OwnerOrg: o.IssuerOrgID, TLP: policy.TLPAmber})
	rows, err := s.DB.Query(ctx, `SELECT e.id, e.incident_id, e.org_id, g.code, g.name, e.work_date, e.people, e.hours_tenths,
		e.cost_vnd, e.description, e.recorded_name, e.created_at
		FROM coord_efforts e JOIN organisations g ON g.id = e.org_id WHERE e.order_id = ? ORDER BY e.work_date, e.id`, o.ID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	list := []Effort{}
	for rows.Next() {
		var e Effort
		var tenths int64
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.OrgID, &e.OrgCode, &e.OrgName, &e.Date, &e.People, &tenths, &e.CostVND,
			&e.Description, &e.RecordedBy, &e.CreatedAt); err != nil {
			return nil, errs.Internal(op, err)
		}
		if !all && !policy.Allowed(a, policy.OrderRead, policy.Resource{OwnerOrg: e.OrgID, TLP: policy.TLPAmber}) {
			continue
		}
		e.Hours, e.OrderID, e.CreatedAt = float64(tenths)/10, o.ID, e.CreatedAt.UTC()
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return list, nil
}
