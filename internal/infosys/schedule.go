package infosys

import (
	"context"
	"fmt"
	"slices"
	"time"

	"certnet/internal/errs"
	"certnet/internal/notify"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Activity kinds recorded on a system.
const (
	KindAssessment = "assessment"
	KindScan       = "scan"
	KindHunt       = "hunt"
	KindDrill      = "drill"
)

// Kinds lists the activity kinds.
var Kinds = []string{KindAssessment, KindScan, KindHunt, KindDrill}

// DueSoon is how long before a due date it counts as due soon.
const DueSoon = 30 * 24 * time.Hour

// Period returns how often an activity of the kind is due for the system, in
// months (0: not required). Assessment: level 5 every 6 months, levels 3–4
// yearly, a provincial IOC every 6 months, a city IOC every 12 months, the
// shortest that applies; scans and hunts every 6 months for every system;
// a live-fire drill yearly from level 3.
func Period(sys System, kind string) int {
	switch kind {
	case KindAssessment:
		m := 0
		pick := func(x int) {
			if m == 0 || x < m {
				m = x
			}
		}
		switch {
		case sys.Level >= 5:
			pick(6)
		case sys.Level >= 3:
			pick(12)
		}
		switch sys.IOC {
		case IOCProvincial:
			pick(6)
		case IOCCity:
			pick(12)
		}
		return m
	case KindScan, KindHunt:
		return 6
	case KindDrill:
		if sys.Level >= 3 {
			return 12
		}
	}
	return 0
}

// Due states.
const (
	DueOK      = "ok"
	DueSoonS   = "due_soon"
	DueOverdue = "overdue"
)

// Due is one obligation of a system: when it was last done, when next.
type Due struct {
	SystemID   int64     `json:"system_id"`
	SystemName string    `json:"system_name"`
	OwnerOrgID int64     `json:"owner_org_id"`
	Kind       string    `json:"kind"`
	Months     int       `json:"months"`
	Last       time.Time `json:"last,omitzero"`
	Next       time.Time `json:"next"`
	State      string    `json:"state"`
}

// Schedule computes a system's obligations at now from its last
// activities; never done means due now (since the level was approved, or
// the system registered).
func Schedule(sys System, last map[string]time.Time, now time.Time) []Due {
	var out []Due
	for _, k := range Kinds {
		m := Period(sys, k)
		if m == 0 {
			continue
		}
		d := Due{SystemID: sys.ID, SystemName: sys.Name, OwnerOrgID: sys.OwnerOrgID, Kind: k, Months: m, Last: last[k]}
		if d.Last.IsZero() {
			d.Next = sys.CreatedAt
			if !sys.LevelApprovedOn.IsZero() {
				d.Next = sys.LevelApprovedOn
			}
		} else {
			d.Next = d.Last.AddDate(0, m, 0)
		}
		switch {
		case !now.Before(d.Next):
			d.State = DueOverdue
		case d.Next.Sub(now) <= DueSoon:
			d.State = DueSoonS
		default:
			d.State = DueOK
		}
		out = append(out, d)
	}
	return out
}

// Activity is an assessment, scan, hunt or drill done on a system.
type Activity struct {
	ID        int64     `json:"id"`
	SystemID  int64     `json:"system_id"`
	Kind      string    `json:"kind"`
	DoneOn    time.Time `json:"done_on"`
	Performer string    `json:"performer"`
	Note      string    `json:"note"`
}

// RecordActivity records an activity on a system.
func (s *Service) RecordActivity(ctx context.Context, a policy.Actor, x Activity) (Activity, error) {
	const op = "infosys: activity"
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		sys, err := getSystem(ctx, tx, x.SystemID)
		if err != nil {
			return err
		}
		if err := check(a, policy.InfosysWrite, sys.OwnerOrgID, sys.OperatorOrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		if !slices.Contains(Kinds, x.Kind) {
			v.Field("kind", "field.invalid_choice")
		}
		if x.DoneOn.IsZero() {
			v.Field("done_on", "infosys.err.required")
		} else if x.DoneOn.After(now) || x.DoneOn.Year() < 2000 {
			v.Field("done_on", "infosys.err.date")
		}
		text(v, "performer", x.Performer, maxName, x.Kind == KindAssessment && sys.Level >= 3)
		text(v, "note", x.Note, maxText, false)
		if err := v.OrNil(); err != nil {
			return err
		}
		x.DoneOn = x.DoneOn.UTC()
		if err := tx.QueryRow(ctx, "INSERT INTO infosys_activities (system_id, kind, done_on, performer, note, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			x.SystemID, x.Kind, x.DoneOn, x.Performer, x.Note, now).Scan(&x.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, sys.OwnerOrgID, "infosys.activity.record", "infosys_activity", x.ID, nil, x)
	})
	return x, err
}

func lastActivities(ctx context.Context, q store.Q, where string, args ...any) (map[int64]map[string]time.Time, error) {
	rows, err := q.Query(ctx, "SELECT a.system_id, a.kind, a.done_on FROM infosys_activities a JOIN infosys_systems s ON s.id = a.system_id WHERE "+
		where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]map[string]time.Time{}
	for rows.Next() {
		var id int64
		var k string
		var t time.Time
		if err := rows.Scan(&id, &k, &t); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[string]time.Time{}
		}
		if t = t.UTC(); t.After(out[id][k]) {
			out[id][k] = t
		}
	}
	return out, rows.Err()
}

// Schedules returns the obligations of the systems in scope, overdue first
// (one system's are in Detail).
func (s *Service) Schedules(ctx context.Context, a policy.Actor) ([]Due, error) {
	where, args := scopeWhere(a)
	return s.schedules(ctx, a, "infosys: schedules", where, args...)
}

func (s *Service) schedules(ctx context.Context, a policy.Actor, op, where string, args ...any) ([]Due, error) {
	now := s.now()
	last, err := lastActivities(ctx, s.DB, where, args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	rows, err := s.DB.Query(ctx, "SELECT "+systemCols+" FROM infosys_systems s WHERE "+where+" ORDER BY s.id", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	var out []Due
	for rows.Next() {
		sys, err := scanSystem(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		if check(a, policy.InfosysRead, sys.OwnerOrgID, sys.OperatorOrgID) != nil {
			continue
		}
		out = append(out, Schedule(sys, last[sys.ID], now)...)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	rank := map[string]int{DueOverdue: 0, DueSoonS: 1, DueOK: 2}
	slices.SortStableFunc(out, func(x, y Due) int {
		if rank[x.State] != rank[y.State] {
			return rank[x.State] - rank[y.State]
		}
		return x.Next.Compare(y.Next)
	})
	return out, nil
}

// JobReminders is the name of the reminder sweep on the jobs runner.
const JobReminders = "infosys.reminders"

// Notification kinds.
const (
	NotifyDue     = "infosys.due"
	NotifyOverdue = "infosys.overdue"
)

func init() {
	notify.RegisterKind(NotifyDue, "infosys.notify.kind.due")
	notify.RegisterKind(NotifyOverdue, "infosys.notify.kind.overdue")
}

// Remind tells the owner (and the operator) of each system about
// obligations due soon and overdue, once per obligation, due date and
// state (the dedupe key). Run by the jobs runner.
func (s *Service) Remind(ctx context.Context) (int, error) {
	const op = "infosys: remind"
	now := s.now()
	// Only the systems with an obligation due within DueSoon: the stored
	// earliest due date says which, brought up to date first.
	if err := refreshDue(ctx, s.DB); err != nil {
		return 0, errs.Internal(op, err)
	}
	xs, err := s.schedules(ctx, policy.SystemActor(JobReminders), op, "s.next_due_at <= ?", now.Add(DueSoon))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range xs {
		if d.State == DueOK {
			continue
		}
		kind := NotifyDue
		if d.State == DueOverdue {
			kind = NotifyOverdue
		}
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			return notify.Enqueue(ctx, tx, now, notify.Message{
				Kind:    kind,
				Key:     fmt.Sprintf("infosys:%d:%s:%s:%s", d.SystemID, d.Kind, d.Next.Format(time.DateOnly), d.State),
				Orgs:    []int64{d.OwnerOrgID},
				Roles:   []policy.Role{policy.RoleAdmin, policy.RoleCoordinator},
				Subject: errs.Msg{Key: "infosys.notify." + d.State, Args: []any{d.SystemName}},
				Body:    errs.Msg{Key: "infosys.notify.body." + d.Kind, Args: []any{d.SystemName, d.Next.In(Local).Format("02/01/2006")}},
				Link:    fmt.Sprintf("/infosys/systems/%d", d.SystemID),
				TLP:     policy.TLPAmber,
			})
		})
		if err != nil {
			return n, errs.Internal(op, err)
		}
		n++
	}
	return n, nil
}
