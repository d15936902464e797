package infosys

import (
	"context"
	"strconv"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// The holidays page: the public holidays the working-day clock skips (the
// 7-working-day approval deadline), seeded with Vietnam's for 2025–2027 by
// migration 00025 and kept by the national coordinator's administrators
// (SetHoliday in workdays.go, DeleteHoliday here).

// MayEditHolidays reports whether the actor may change the holidays.
func MayEditHolidays(a policy.Actor) bool {
	return policy.Allowed(a, policy.RegistryEdit, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen})
}

// Holidays lists the holidays of a year (every year when year is 0),
// oldest first; anyone signed in who may see information systems may read
// them, as they move the deadlines shown.
func (s *Service) Holidays(ctx context.Context, a policy.Actor, year int) ([]Holiday, error) {
	const op = "infosys: holidays"
	if err := policy.Check(a, policy.InfosysRead, resource(a.OrgID, 0)); err != nil && !a.System {
		return nil, err
	}
	q, args := "SELECT day, name FROM work_holidays", []any{}
	if year != 0 {
		if year < 2000 || year > 2100 {
			return nil, errs.Invalid(op).Field("year", "infosys.err.date")
		}
		q += " WHERE day >= ? AND day < ?"
		args = append(args, strconv.Itoa(year)+"-01-01", strconv.Itoa(year+1)+"-01-01")
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY day", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Holiday{}
	for rows.Next() {
		var h Holiday
		if err := rows.Scan(&h.Day, &h.Name); err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// DeleteHoliday removes a day off (national administrators); NotFound when
// the day is not a recorded holiday.
func (s *Service) DeleteHoliday(ctx context.Context, a policy.Actor, day string) error {
	const op = "infosys: delete holiday"
	if err := policy.Check(a, policy.RegistryEdit, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPGreen}); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return errs.Invalid(op).Field("day", "infosys.err.date")
	}
	return s.tx(ctx, op, func(tx *store.Tx, now time.Time) error {
		var name string
		err := tx.QueryRow(ctx, "SELECT name FROM work_holidays WHERE day = ?", day).Scan(&name)
		if store.IsNoRows(err) {
			return errs.NotFound(op)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM work_holidays WHERE day = ?", day); err != nil {
			return err
		}
		return record(ctx, tx, now, a, a.OrgID, "infosys.holiday.delete", "work_holiday", day, Holiday{Day: day, Name: name}, nil)
	})
}
