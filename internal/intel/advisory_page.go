package intel

import (
	"context"
	"slices"

	"certnet/internal/errs"
	"certnet/internal/policy"
)

// AdvisoryPage is a page of the advisory list, newest first, with the
// cursors of its neighbours (keyset paging on the id: a page never skips
// or repeats an advisory when others are published meanwhile).
type AdvisoryPage struct {
	Rows []AdvisoryRow
	// Newer is the cursor of the page before (pass it as After), Older of
	// the page after (pass it as Before); 0 when there is none.
	Newer, Older int64
}

// AdvisoriesPage lists the advisories the actor may read under the filter
// (its Limit, Offset ignored: f.Limit 1–500, 50 by default): those older
// than before, or those newer than after, or the newest.
func (s *Service) AdvisoriesPage(ctx context.Context, a policy.Actor, f AdvisoryFilter, before, after int64) (AdvisoryPage, error) {
	const op = "advisory: list page"
	if a.UserID == 0 && a.OrgID == 0 && !a.System {
		return AdvisoryPage{}, errs.Unauthenticated(op, "")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	if before < 0 || after < 0 || before > 0 && after > 0 {
		return AdvisoryPage{}, errs.Invalid(op).Field("before", "field.invalid")
	}
	newer := after > 0 // walking towards the newest
	rows, more, err := s.walk(ctx, a, f, before, after, newer, f.Limit)
	if err != nil {
		return AdvisoryPage{}, errs.Internal(op, err)
	}
	p := AdvisoryPage{Rows: rows}
	if newer {
		slices.Reverse(p.Rows)
	}
	if len(p.Rows) == 0 {
		return p, nil
	}
	first, last := p.Rows[0].ID, p.Rows[len(p.Rows)-1].ID
	// Whether a readable advisory lies beyond each end.
	olderMore, newerMore := more, more
	if newer {
		_, olderMore, err = s.walk(ctx, a, f, last, 0, false, 0)
	} else {
		_, newerMore, err = s.walk(ctx, a, f, 0, first, true, 0)
	}
	if err != nil {
		return AdvisoryPage{}, errs.Internal(op, err)
	}
	if olderMore {
		p.Older = last
	}
	if newerMore {
		p.Newer = first
	}
	return p, nil
}

// walk reads up to n readable advisories past the cursor (ids below
// before, or above after when newer) in that direction, in batches, and
// whether more readable ones follow.
func (s *Service) walk(ctx context.Context, a policy.Actor, f AdvisoryFilter, before, after int64, newer bool, n int) ([]AdvisoryRow, bool, error) {
	out := []AdvisoryRow{}
	batch := max(2*(n+1), 64)
	cur := before
	if newer {
		cur = after
	}
	for {
		q, args := advisoryQuery(a, f)
		switch {
		case newer:
			q += " AND v.id > ? ORDER BY v.id LIMIT ?"
			args = append(args, cur, batch)
		case cur > 0:
			q += " AND v.id < ? ORDER BY v.id DESC LIMIT ?"
			args = append(args, cur, batch)
		default:
			q += " ORDER BY v.id DESC LIMIT ?"
			args = append(args, batch)
		}
		rs, err := s.DB.Query(ctx, q, args...)
		if err != nil {
			return nil, false, err
		}
		var list []Advisory
		for rs.Next() {
			v, err := scanAdvisory(rs)
			if err != nil {
				rs.Close()
				return nil, false, err
			}
			list = append(list, v)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, false, err
		}
		rows, err := s.listRows(ctx, a, list)
		if err != nil {
			return nil, false, err
		}
		for _, row := range rows {
			if len(out) == n {
				return out, true, nil
			}
			out = append(out, row)
		}
		if len(list) < batch {
			return out, false, nil
		}
		cur = list[len(list)-1].ID
	}
}
