package org

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// BulkRange is one address range of a bulk load.
type BulkRange struct {
	OrgID int64
	CIDR  string
	Note  string
}

// BulkOptions tune BulkAddRanges: Batch ranges per transaction (10 000
// when 0) and Progress, told after each commit how many are stored.
type BulkOptions struct {
	Batch    int
	Progress func(done, total int)
}

// bulkRowsPerInsert is how many ranges one INSERT statement carries (7
// values each: under SQLite's 32 766 and PostgreSQL's 65 535 parameters).
const bulkRowsPerInsert = 500

// BulkAddRanges registers many address ranges at once — a provider's whole
// allocation, a national registry export, certnet bench ingest's 100 000
// member ranges — far faster than AddRange one by one. Everything is
// checked before anything is written: the actor may write the ranges of
// each organisation named, each CIDR parses, and no range overlaps another
// of the load or one already registered (an overlap is refused here even
// when it is a delegation down the hierarchy: add those with AddRange,
// which checks the hierarchy). Then the ranges are inserted in multi-row
// statements, one transaction per opt.Batch ranges, each with one audit
// entry listing its count and first and last range; the registry
// generation moves once per transaction, so the whois and matching indexes
// are rebuilt once, on their next use, not once per range. It returns how
// many ranges were stored; after a database failure the transactions
// already committed stay.
func (s *Service) BulkAddRanges(ctx context.Context, a policy.Actor, in []BulkRange, opt BulkOptions) (int, error) {
	const op = "org: bulk add ranges"
	if opt.Batch <= 0 {
		opt.Batch = 10000
	}
	type row struct {
		orgID      int64
		cidr       string
		fam        int
		start, end string
		note       string
		line       int
	}
	rows := make([]row, 0, len(in))
	v := errs.Invalid(op)
	allowed := map[int64]error{}
	for i, r := range in {
		field := fmt.Sprintf("ranges[%d]", i)
		err, seen := allowed[r.OrgID]
		if !seen {
			_, err = orgFor(ctx, s.DB, a, policy.RangeWrite, r.OrgID)
			allowed[r.OrgID] = err
		}
		if err != nil {
			return 0, errs.Wrap(op, err)
		}
		p, key := parsePrefix(r.CIDR, true)
		note := strings.TrimSpace(r.Note)
		if key != "" {
			v.Field(field, key)
			continue
		}
		checkText(v, field+".note", note, maxNote, false)
		start, end := rangeKeys(p)
		rows = append(rows, row{orgID: r.OrgID, cidr: p.String(), fam: family(p), start: start, end: end, note: note, line: i})
	}
	if err := v.OrNil(); err != nil {
		return 0, err
	}
	// Overlaps, in memory: the load and the registered ranges sorted by
	// their first address; a range overlaps when it starts before the end
	// of one before it.
	type span struct {
		start, end, cidr string
		orgID            int64
		line             int // -1: already registered
	}
	spans := make([]span, 0, len(rows))
	for _, r := range rows {
		spans = append(spans, span{r.start, r.end, r.cidr, r.orgID, r.line})
	}
	q, err := s.DB.Query(ctx, "SELECT start_key, end_key, cidr, org_id FROM org_ranges")
	if err != nil {
		return 0, errs.Internal(op, err)
	}
	for q.Next() {
		sp := span{line: -1}
		if err := q.Scan(&sp.start, &sp.end, &sp.cidr, &sp.orgID); err != nil {
			q.Close()
			return 0, errs.Internal(op, err)
		}
		spans = append(spans, sp)
	}
	q.Close()
	if err := q.Err(); err != nil {
		return 0, errs.Internal(op, err)
	}
	slices.SortFunc(spans, func(x, y span) int { return strings.Compare(x.start, y.start) })
	var reach span // the span reaching furthest so far
	for i, sp := range spans {
		if i > 0 && sp.start <= reach.end {
			cur, other := sp, reach
			if cur.line < 0 {
				cur, other = reach, sp
			}
			if cur.line >= 0 {
				field := fmt.Sprintf("ranges[%d]", cur.line)
				if other.orgID == cur.orgID {
					v.Field(field, "org.err.range_overlaps_own", cur.cidr, other.cidr)
				} else {
					v.Field(field, "org.err.range_overlaps_hidden", cur.cidr)
				}
				if len(v.Fields) >= 100 {
					break
				}
			}
		}
		if i == 0 || sp.end > reach.end {
			reach = sp
		}
	}
	if err := v.OrNil(); err != nil {
		return 0, err
	}
	done := 0
	for lo := 0; lo < len(rows); lo += opt.Batch {
		part := rows[lo:min(lo+opt.Batch, len(rows))]
		var w *write
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			w = s.newWrite(tx, a)
			if err := w.bump(ctx); err != nil {
				return err
			}
			args := make([]any, 0, bulkRowsPerInsert*7)
			for i := 0; i < len(part); i += bulkRowsPerInsert {
				chunk := part[i:min(i+bulkRowsPerInsert, len(part))]
				args = args[:0]
				for _, r := range chunk {
					args = append(args, r.orgID, r.cidr, r.fam, r.start, r.end, r.note, w.now)
				}
				stmt := "INSERT INTO org_ranges (org_id, cidr, family, start_key, end_key, note, created_at) VALUES " +
					strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ")
				if _, err := tx.Exec(ctx, stmt, args...); err != nil {
					if store.IsUniqueViolation(err) {
						return conflict(op, "cidr", "org.err.range_overlaps_hidden", chunk[0].cidr)
					}
					return errs.Internal(op, err)
				}
			}
			type summary struct {
				Count int    `json:"count"`
				First string `json:"first"`
				Last  string `json:"last"`
			}
			return audit.Record(ctx, tx, w.now, w.a, audit.Change{Action: "range.bulk_add", Entity: "org_range",
				EntityID: part[0].cidr, After: summary{len(part), part[0].cidr, part[len(part)-1].cidr}})
		})
		if err != nil {
			return done, errs.Ensure(op, err)
		}
		s.committed(w)
		done += len(part)
		if opt.Progress != nil {
			opt.Progress(done, len(rows))
		}
	}
	return done, nil
}
