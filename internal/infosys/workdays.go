package infosys

import (
	"context"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Holidays are kept as data (work_holidays) an administrator of the
// national coordinator edits: Tết moves every year and the government
// shifts days.

// Holiday is one day off.
type Holiday struct {
	Day  string `json:"day"` // YYYY-MM-DD
	Name string `json:"name"`
}

// AddWorkingDays returns the end of the n-th working day (Vietnam time)
// after t: Saturdays, Sundays and the recorded holidays do not count.
func AddWorkingDays(ctx context.Context, q store.Q, t time.Time, n int) (time.Time, error) {
	local := t.In(Local)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, Local)
	days, err := strs(ctx, q, "SELECT day FROM work_holidays WHERE day > ? AND day <= ?",
		day.Format(time.DateOnly), day.AddDate(0, 0, 3*n+60).Format(time.DateOnly))
	if err != nil {
		return time.Time{}, err
	}
	off := map[string]bool{}
	for _, d := range days {
		off[d] = true
	}
	for counted := 0; counted < n; {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday || off[day.Format(time.DateOnly)] {
			continue
		}
		counted++
	}
	return day.AddDate(0, 0, 1).Add(-time.Microsecond).UTC(), nil
}

// SetHoliday records a day off (national administrators).
func (s *Service) SetHoliday(ctx context.Context, a policy.Actor, h Holiday) error {
	const op = "infosys: holiday"
	if err := policy.Check(a, policy.RegistryEdit, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return err
	}
	v := errs.Invalid(op)
	d, err := time.Parse(time.DateOnly, h.Day)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		v.Field("day", "infosys.err.date")
	}
	text(v, "name", h.Name, maxName, true)
	if err := v.OrNil(); err != nil {
		return err
	}
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		if _, err := tx.Exec(ctx, "DELETE FROM work_holidays WHERE day = ?", h.Day); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO work_holidays (day, name, created_at) VALUES (?, ?, ?)", h.Day, h.Name, now); err != nil {
			return err
		}
		return record(ctx, tx, now, a, a.OrgID, "infosys.holiday.set", "work_holiday", h.Day, nil, h)
	})
}
