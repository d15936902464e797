package readiness

import (
	"context"
	"slices"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// MaxShift is the longest shift accepted.
const MaxShift = 24 * time.Hour

// Night is the part of a local day that must be covered at night:
// from NightStart to NightEnd the next morning.
const (
	NightStart = 18 // hours, local
	NightEnd   = 6
)

// Shift is one person on duty for a team.
type Shift struct {
	ID       int64     `json:"id"`
	TeamID   int64     `json:"team_id"`
	PersonID int64     `json:"person_id"`
	Name     string    `json:"name"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// ShiftInput is a new shift.
type ShiftInput struct {
	PersonID int64
	StartsAt time.Time
	EndsAt   time.Time
}

// AddShift puts a member of the team on duty.
func (s *Service) AddShift(ctx context.Context, a policy.Actor, teamID int64, in ShiftInput) (Shift, error) {
	const op = "readiness: add shift"
	in.StartsAt, in.EndsAt = in.StartsAt.UTC().Truncate(time.Minute), in.EndsAt.UTC().Truncate(time.Minute)
	var out Shift
	err := s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		t, err := loadTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		if err := check(a, policy.ReadinessWrite, t.OrgID); err != nil {
			return err
		}
		v := errs.Invalid(op)
		var name string
		err = tx.QueryRow(ctx, `SELECT p.full_name FROM readiness_members m JOIN readiness_people p ON p.id = m.person_id
			WHERE m.team_id = ? AND m.person_id = ?`, teamID, in.PersonID).Scan(&name)
		if store.IsNoRows(err) {
			v.Field("person_id", "readiness.err.not_member")
		} else if err != nil {
			return err
		}
		date(v, "starts_at", in.StartsAt, now, true, 2)
		if in.EndsAt.IsZero() {
			v.Field("ends_at", "readiness.err.required")
		} else if !in.StartsAt.IsZero() && !in.EndsAt.After(in.StartsAt) {
			v.Field("ends_at", "readiness.err.before_start")
		} else if !in.StartsAt.IsZero() && in.EndsAt.Sub(in.StartsAt) > MaxShift {
			v.Field("ends_at", "readiness.err.shift_long")
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		out = Shift{TeamID: teamID, PersonID: in.PersonID, Name: name, StartsAt: in.StartsAt, EndsAt: in.EndsAt}
		if err := tx.QueryRow(ctx, `INSERT INTO readiness_shifts (team_id, person_id, starts_at, ends_at, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, teamID, in.PersonID, in.StartsAt, in.EndsAt, now).Scan(&out.ID); err != nil {
			return err
		}
		return record(ctx, tx, now, a, t.OrgID, "readiness.shift.add", "readiness_shift", out.ID, nil, out)
	})
	return out, err
}

// DeleteShift removes a shift of the team.
func (s *Service) DeleteShift(ctx context.Context, a policy.Actor, teamID, id int64) error {
	const op = "readiness: delete shift"
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		t, err := loadTeam(ctx, tx, teamID)
		if err != nil {
			return err
		}
		if err := check(a, policy.ReadinessWrite, t.OrgID); err != nil {
			return err
		}
		var sh Shift
		if err := tx.QueryRow(ctx, "SELECT id, team_id, person_id, starts_at, ends_at FROM readiness_shifts WHERE id = ? AND team_id = ?",
			id, teamID).Scan(&sh.ID, &sh.TeamID, &sh.PersonID, &sh.StartsAt, &sh.EndsAt); err != nil {
			return err
		}
		sh.StartsAt, sh.EndsAt = sh.StartsAt.UTC(), sh.EndsAt.UTC()
		if _, err := tx.Exec(ctx, "DELETE FROM readiness_shifts WHERE id = ?", id); err != nil {
			return err
		}
		return record(ctx, tx, now, a, t.OrgID, "readiness.shift.delete", "readiness_shift", id, sh, nil)
	})
}

// MaxShiftsRange is the longest period Shifts lists at once.
const MaxShiftsRange = 92 * 24 * time.Hour

// Shifts lists the team's shifts that overlap [from, to), by start.
func (s *Service) Shifts(ctx context.Context, a policy.Actor, teamID int64, from, to time.Time) ([]Shift, error) {
	const op = "readiness: shifts"
	t, err := loadTeam(ctx, s.DB, teamID)
	if err != nil {
		return nil, store.Wrap(op, err)
	}
	if err := check(a, policy.ReadinessRead, t.OrgID); err != nil {
		return nil, err
	}
	v := errs.Invalid(op)
	if from.IsZero() {
		v.Field("from", "readiness.err.required")
	}
	if to.IsZero() {
		v.Field("to", "readiness.err.required")
	} else if !from.IsZero() && !to.After(from) {
		v.Field("to", "readiness.err.before_start")
	} else if !from.IsZero() && to.Sub(from) > MaxShiftsRange {
		v.Field("to", "readiness.err.range_long", int(MaxShiftsRange/(24*time.Hour)))
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	return s.shifts(ctx, op, teamID, from.UTC(), to.UTC())
}

func (s *Service) shifts(ctx context.Context, op string, teamID int64, from, to time.Time) ([]Shift, error) {
	rows, err := s.DB.Query(ctx, `SELECT sh.id, sh.team_id, sh.person_id, p.full_name, sh.starts_at, sh.ends_at
		FROM readiness_shifts sh JOIN readiness_people p ON p.id = sh.person_id
		WHERE sh.team_id = ? AND sh.ends_at > ? AND sh.starts_at < ? ORDER BY sh.starts_at, sh.id`, teamID, from, to)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	shifts := []Shift{}
	for rows.Next() {
		var sh Shift
		if err := rows.Scan(&sh.ID, &sh.TeamID, &sh.PersonID, &sh.Name, &sh.StartsAt, &sh.EndsAt); err != nil {
			return nil, errs.Internal(op, err)
		}
		sh.StartsAt, sh.EndsAt = sh.StartsAt.UTC(), sh.EndsAt.UTC()
		shifts = append(shifts, sh)
	}
	return shifts, store.Wrap(op, rows.Err())
}

// Gap is a time nobody is on duty.
type Gap struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Night bool      `json:"night"` // overlaps the night window: a finding
}

// DayCoverage is one local day of the week.
type DayCoverage struct {
	Date    time.Time `json:"date"` // local midnight
	Shifts  []Shift   `json:"shifts"`
	Gaps    []Gap     `json:"gaps"`
	Covered bool      `json:"covered"`
	// NightUncovered: someone is missing in the night that starts this
	// day (NightStart today to NightEnd tomorrow).
	NightUncovered bool `json:"night_uncovered"`
}

// Coverage is the rota of a week with its gaps.
type Coverage struct {
	TeamID         int64         `json:"team_id"`
	WeekStart      time.Time     `json:"week_start"`
	Days           []DayCoverage `json:"days"`
	CoveredMinutes int           `json:"covered_minutes"`
	TotalMinutes   int           `json:"total_minutes"`
	UncoveredNight int           `json:"uncovered_nights"`
}

// Full reports 24/7 coverage for the whole week.
func (c Coverage) Full() bool { return c.CoveredMinutes == c.TotalMinutes }

// Pct is the share of the week covered.
func (c Coverage) Pct() int { return Pct(c.CoveredMinutes, c.TotalMinutes) }

// WeekStart returns the local Monday 00:00 of the week holding t.
func WeekStart(t time.Time) time.Time {
	l := t.In(Local)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, Local)
	off := (int(d.Weekday()) + 6) % 7
	return d.AddDate(0, 0, -off)
}

// Coverage computes the 24/7 coverage of the team for the week starting at
// the local Monday of week.
func (s *Service) Coverage(ctx context.Context, a policy.Actor, teamID int64, week time.Time) (Coverage, error) {
	const op = "readiness: coverage"
	t, err := loadTeam(ctx, s.DB, teamID)
	if err != nil {
		return Coverage{}, store.Wrap(op, err)
	}
	if err := check(a, policy.ReadinessRead, t.OrgID); err != nil {
		return Coverage{}, err
	}
	start := WeekStart(week)
	// One more night: Sunday's night ends on Monday morning.
	end := start.AddDate(0, 0, 7).Add(NightEnd * time.Hour)
	shifts, err := s.shifts(ctx, op, teamID, start.UTC(), end.UTC())
	if err != nil {
		return Coverage{}, err
	}
	return ComputeCoverage(teamID, start, shifts), nil
}

type span struct{ from, to time.Time }

// gaps returns the parts of [from, to) no shift covers.
func gaps(shifts []Shift, from, to time.Time) []span {
	var iv []span
	for _, sh := range shifts {
		if sh.EndsAt.After(from) && sh.StartsAt.Before(to) {
			iv = append(iv, span{maxT(sh.StartsAt, from), minT(sh.EndsAt, to)})
		}
	}
	slices.SortFunc(iv, func(a, b span) int { return a.from.Compare(b.from) })
	var out []span
	cur := from
	for _, x := range iv {
		if x.from.After(cur) {
			out = append(out, span{cur, x.from})
		}
		if x.to.After(cur) {
			cur = x.to
		}
	}
	if cur.Before(to) {
		out = append(out, span{cur, to})
	}
	return out
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ComputeCoverage computes the week's coverage from its shifts; start is
// the local Monday 00:00.
func ComputeCoverage(teamID int64, start time.Time, shifts []Shift) Coverage {
	c := Coverage{TeamID: teamID, WeekStart: start}
	for i := range 7 {
		d0 := start.AddDate(0, 0, i)
		d1 := start.AddDate(0, 0, i+1)
		dc := DayCoverage{Date: d0}
		for _, sh := range shifts {
			if sh.EndsAt.After(d0) && sh.StartsAt.Before(d1) {
				dc.Shifts = append(dc.Shifts, sh)
			}
		}
		n0 := d0.Add(NightStart * time.Hour)
		n1 := d1.Add(NightEnd * time.Hour)
		for _, g := range gaps(shifts, d0, d1) {
			night := g.to.After(n0) || g.from.Before(d0.Add(NightEnd*time.Hour))
			dc.Gaps = append(dc.Gaps, Gap{From: g.from, To: g.to, Night: night})
			c.CoveredMinutes -= int(g.to.Sub(g.from) / time.Minute)
		}
		dc.Covered = len(dc.Gaps) == 0
		dc.NightUncovered = len(gaps(shifts, n0, n1)) > 0
		if dc.NightUncovered {
			c.UncoveredNight++
		}
		mins := int(d1.Sub(d0) / time.Minute)
		c.TotalMinutes += mins
		c.CoveredMinutes += mins
		c.Days = append(c.Days, dc)
	}
	return c
}
