package incident

import (
	"context"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// ClockKind names a legal deadline.
type ClockKind string

// Clock kinds.
const (
	// ClockNotice: the operator notifies within 5 calendar days of
	// detection. The notice is the incident's first report, so it is done
	// when the incident was reported (late if after the deadline).
	ClockNotice ClockKind = "notice"
	// ClockInitial: when the incident exceeds the operator, the initial
	// report is due immediately; certnet reads "immediately" as acknowledged
	// by the receiving side within the ack window (24 h by default) of
	// being reported. Done when that report is acknowledged.
	ClockInitial ClockKind = "initial"
	// ClockClosure: the closure report within 5 calendar days after the
	// response ended (when the incident entered review). Done when filed.
	ClockClosure ClockKind = "closure"
	// ClockAck: every other report is acknowledged within the ack window.
	ClockAck ClockKind = "ack"
)

// Clock is one legal deadline of an incident.
type Clock struct {
	Kind ClockKind `json:"kind"`
	// ReportID is the report the clock is about (initial, ack).
	ReportID int64     `json:"report_id,omitempty"`
	Due      time.Time `json:"due"`
	// DoneAt is when the obligation was met; zero while open.
	DoneAt time.Time `json:"done_at,omitzero"`
	// Overdue: open past its deadline, or met late.
	Overdue bool `json:"overdue"`
	// Remaining until the deadline (negative past it); 0 once done.
	Remaining time.Duration `json:"remaining"`
}

// Open reports whether the obligation is still to be met.
func (c Clock) Open() bool { return c.DoneAt.IsZero() }

// Clocks computes the incident's legal clocks at the service's current
// time. It reads the reports Get filled in; an incident from a list (no
// reports) shows only the notice and closure clocks. Open clocks of a
// rejected, duplicate or closed incident are dropped: nothing is owed.
func (s *Service) Clocks(inc Incident) []Clock {
	cs := computeClocks(inc, inc.Reports, s.now(), s.ackWindow())
	if !inc.Status.Terminal() {
		return cs
	}
	out := cs[:0]
	for _, c := range cs {
		if !c.Open() {
			out = append(out, c)
		}
	}
	return out
}

// computeClocks: now zero means "do not compute Overdue/Remaining for open
// clocks".
func computeClocks(inc Incident, reports []Report, now time.Time, ackWindow time.Duration) []Clock {
	mk := func(k ClockKind, reportID int64, due, done time.Time) Clock {
		c := Clock{Kind: k, ReportID: reportID, Due: due, DoneAt: done}
		switch {
		case !done.IsZero():
			c.Overdue = done.After(due)
		case !now.IsZero():
			c.Remaining = due.Sub(now)
			c.Overdue = now.After(due)
		}
		return c
	}
	out := []Clock{mk(ClockNotice, 0, inc.DetectedAt.Add(NoticePeriod), inc.ReportedAt)}
	if !inc.ResponseEndedAt.IsZero() {
		var done time.Time
		for _, r := range reports {
			if r.Kind == ReportClosure && (done.IsZero() || r.SubmittedAt.Before(done)) {
				done = r.SubmittedAt
			}
		}
		out = append(out, mk(ClockClosure, 0, inc.ResponseEndedAt.Add(ClosurePeriod), done))
	}
	for _, r := range reports {
		kind := ClockAck
		if r.Kind == ReportInitial {
			kind = ClockInitial
		}
		out = append(out, mk(kind, r.ID, r.SubmittedAt.Add(ackWindow), r.AckAt))
	}
	return out
}

// DueFilter selects what Due lists.
type DueFilter struct {
	// Within: deadlines up to now + Within (0: only overdue ones).
	Within time.Duration
	Limit  int
}

// DueItem is an incident with its open clocks.
type DueItem struct {
	Incident Incident `json:"incident"`
	Clocks   []Clock  `json:"clocks"`
}

// Due lists the incidents the actor may see with an open deadline that has
// passed or falls within f.Within, the most urgent first: "what needs me
// now".
func (s *Service) Due(ctx context.Context, a policy.Actor, f DueFilter) ([]DueItem, error) {
	const op = "incident: due"
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	now := s.now()
	cond, args := visibleWhere(a)
	q := "SELECT " + incCols + " FROM incidents i WHERE " + cond +
		" AND +i.exercise_id IS NULL AND i.next_due_at IS NOT NULL AND i.next_due_at <= ? ORDER BY i.next_due_at, i.id LIMIT ?"
	rows, err := s.DB.Query(ctx, q, append(args, now.Add(f.Within), f.Limit)...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var incs []Incident
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			rows.Close()
			return nil, errs.Internal(op, err)
		}
		if checkVisible(a, policy.IncidentRead, inc) == nil {
			incs = append(incs, inc)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		ids[i] = inc.ID
	}
	reports, err := reportsOf(ctx, s.DB, ids) // one query for the whole list
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	var out []DueItem
	for _, inc := range incs {
		inc.Reports = reports[inc.ID]
		item := DueItem{Incident: inc}
		for _, c := range s.Clocks(inc) {
			if c.Open() && !c.Due.After(now.Add(f.Within)) {
				item.Clocks = append(item.Clocks, c)
			}
		}
		if len(item.Clocks) > 0 {
			out = append(out, item)
		}
	}
	return out, nil
}

// LabelKey is the i18n key of the clock's name.
func (k ClockKind) LabelKey() string { return "incident.clock." + string(k) }
