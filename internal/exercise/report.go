package exercise

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Measures of a participant's response to an inject, from delivery.
const (
	MeasureAck    = "ack"    // the notice acknowledged
	MeasureAct    = "act"    // first status change by the participant
	MeasureReport = "report" // first report filed by the participant
	MeasureClose  = "close"  // the incident closed
)

// Measures lists them in order.
var Measures = []string{MeasureAck, MeasureAct, MeasureReport, MeasureClose}

// Times is one inject's response, computed from what the participant did
// on the incident, order or advisory the inject delivered (nothing is kept
// for the measurement); a measure is absent when not done.
type Times struct {
	InjectID    int64                    `json:"inject_id"`
	Kind        string                   `json:"kind"`
	IncidentID  int64                    `json:"incident_id,omitempty"`
	OrderID     int64                    `json:"order_id,omitempty"`
	AdvisoryID  int64                    `json:"advisory_id,omitempty"`
	OrgID       int64                    `json:"org_id"`
	DeliveredAt time.Time                `json:"delivered_at"`
	At          map[string]time.Time     `json:"at"`
	After       map[string]time.Duration `json:"after_ns"`
}

// MeasuresOf lists the measures that apply to an inject kind: an
// incident's and an order's are acknowledge, act, report and close (for an
// order: acknowledged, first in progress or finished, first answer with a
// result, finished); an advisory's are acknowledge, report (first answer)
// and close (a final outcome: remediated or not affected).
func MeasuresOf(kind string) []string {
	if kind == KindAdvisory {
		return []string{MeasureAck, MeasureReport, MeasureClose}
	}
	return Measures
}

// Team is a participant's result: per measure the total time over the
// injects it answered, how many it missed, its score (0–100: 100 for the
// fastest on every measure of every inject, 0 for a miss) and its rank.
type Team struct {
	OrgID  int64                    `json:"org_id"`
	Times  []Times                  `json:"times"`
	Total  map[string]time.Duration `json:"total_ns"`
	Missed map[string]int           `json:"missed"`
	Score  float64                  `json:"score"`
	Rank   int                      `json:"rank"`
}

// Step is one line of the exercise's timeline.
type Step struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"` // inject, or the incident event's kind
	OrgID      int64     `json:"org_id,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	InjectID   int64     `json:"inject_id,omitempty"`
	IncidentID int64     `json:"incident_id,omitempty"`
}

// Report is the after-action report.
type Report struct {
	Exercise Exercise `json:"exercise"`
	Injects  []Inject `json:"injects"`
	Timeline []Step   `json:"timeline"`
	Teams    []Team   `json:"teams"`
	Lessons  []Note   `json:"lessons"`
	Actions  []Note   `json:"actions"`
	// At is when the report was computed (the exercise may still run).
	At time.Time `json:"at"`

	times map[int64]*Times // by inject
}

// Report computes the after-action report of an exercise the actor may
// read.
func (s *Service) Report(ctx context.Context, a policy.Actor, id int64) (Report, error) {
	const op = "exercise: report"
	e, injs, err := s.Get(ctx, a, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{Exercise: e, Injects: injs, Timeline: []Step{}, Lessons: []Note{}, Actions: []Note{}, At: s.now()}
	if err := s.measure(ctx, injs, &r); err != nil {
		return r, errs.Internal(op, err)
	}
	slices.SortStableFunc(r.Timeline, func(x, y Step) int { return x.At.Compare(y.At) })
	r.Teams = score(e.Participants, injs, r.times)
	notes, err := s.notes(ctx, id)
	if err != nil {
		return r, errs.Internal(op, err)
	}
	for _, n := range notes {
		if n.Kind == NoteLesson {
			r.Lessons = append(r.Lessons, n)
		} else {
			r.Actions = append(r.Actions, n)
		}
	}
	return r, nil
}

// score ranks the participants that received injects: for each inject and
// measure that applies to its kind, the fastest on that measure among the
// injects of the same kind earns 100 and another 100 × fastest / its time;
// a miss earns 0. The score is the mean; the
// rank orders by score, then by total acknowledgement time.
func score(parts []int64, injs []Inject, times map[int64]*Times) []Team {
	byOrg := map[int64]*Team{}
	for _, in := range injs {
		if !slices.Contains(parts, in.TargetOrgID) || byOrg[in.TargetOrgID] != nil {
			continue
		}
		byOrg[in.TargetOrgID] = &Team{OrgID: in.TargetOrgID, Times: []Times{}, Total: map[string]time.Duration{}, Missed: map[string]int{}}
	}
	best := map[string]time.Duration{}
	var all []*Times
	for _, in := range injs {
		t := times[in.ID]
		if t == nil {
			if tm := byOrg[in.TargetOrgID]; tm != nil && !in.DeliveredAt.IsZero() {
				for _, m := range MeasuresOf(in.Kind) {
					tm.Missed[m]++
				}
			}
			continue
		}
		all = append(all, t)
		for m, d := range t.After {
			if b, ok := best[t.Kind+"/"+m]; !ok || d < b {
				best[t.Kind+"/"+m] = d
			}
		}
	}
	counts := map[int64]int{}
	sums := map[int64]float64{}
	for _, t := range all {
		tm := byOrg[t.OrgID]
		if tm == nil {
			continue
		}
		tm.Times = append(tm.Times, *t)
		for _, m := range MeasuresOf(t.Kind) {
			counts[t.OrgID]++
			d, ok := t.After[m]
			if !ok {
				tm.Missed[m]++
				continue
			}
			tm.Total[m] += d
			b := best[t.Kind+"/"+m] // the fastest on this measure of this kind of inject
			if d <= 0 || b <= 0 {
				sums[t.OrgID] += 100
			} else {
				sums[t.OrgID] += 100 * float64(b) / float64(d)
			}
		}
	}
	out := []Team{}
	for _, p := range parts {
		tm := byOrg[p]
		if tm == nil {
			continue
		}
		if counts[p] > 0 {
			tm.Score = float64(int(sums[p]/float64(counts[p])*10+0.5)) / 10
		}
		out = append(out, *tm)
	}
	slices.SortStableFunc(out, func(x, y Team) int {
		if x.Score != y.Score {
			if x.Score > y.Score {
				return -1
			}
			return 1
		}
		if x.Missed[MeasureAck] != y.Missed[MeasureAck] {
			return x.Missed[MeasureAck] - y.Missed[MeasureAck]
		}
		return cmp.Compare(x.Total[MeasureAck], y.Total[MeasureAck])
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

func (s *Service) notes(ctx context.Context, id int64) ([]Note, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, kind, body, owner, due_on, created_by, created_at FROM exercise_notes
		WHERE exercise_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var due sql.NullTime
		if err := rows.Scan(&n.ID, &n.Kind, &n.Body, &n.Owner, &due, &n.CreatedBy, &n.CreatedAt); err != nil {
			return nil, err
		}
		n.DueOn, n.CreatedAt = store.TimeOf(due).UTC(), n.CreatedAt.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}
