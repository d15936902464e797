package infosys

import (
	"context"
	"time"

	"certnet/internal/store"
)

// dueBatch is how many systems refreshDue recomputes per transaction.
const dueBatch = 2000

// NextDue is the earliest due date of the system's obligations (zero when
// it has none), from Schedule: it does not depend on the clock.
func NextDue(sys System, last map[string]time.Time) time.Time {
	var next time.Time
	for _, d := range Schedule(sys, last, time.Time{}) {
		if next.IsZero() || d.Next.Before(next) {
			next = d.Next
		}
	}
	return next
}

// refreshDue recomputes next_due_at of the systems whose due_gen moved past
// due_at_gen — a trigger bumps due_gen when the level, the IOC kind, the
// approval or an activity changes (migration 00018) — so that counts can
// read the stored date. A row changed again while it was being computed
// keeps its newer generation and is computed next time.
func refreshDue(ctx context.Context, db *store.DB) error {
	for {
		n := 0
		err := db.InTx(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, "SELECT "+systemCols+", s.due_gen FROM infosys_systems s WHERE s.due_at_gen <> s.due_gen ORDER BY s.id LIMIT ?", dueBatch)
			if err != nil {
				return err
			}
			var systems []System
			var gens []int64
			for rows.Next() {
				var gen int64
				sys, err := scanSystem(extra{rows, []any{&gen}})
				if err != nil {
					rows.Close()
					return err
				}
				systems, gens = append(systems, sys), append(gens, gen)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(systems) == 0 {
				return err
			}
			ids := make([]int64, len(systems))
			for i, sys := range systems {
				ids[i] = sys.ID
			}
			in, args := store.InList(ids)
			last, err := lastActivities(ctx, tx, "s.id IN "+in, args...)
			if err != nil {
				return err
			}
			for i, sys := range systems {
				if _, err := tx.Exec(ctx, "UPDATE infosys_systems SET next_due_at = ?, due_at_gen = ? WHERE id = ? AND due_gen = ?",
					store.NullTime(NextDue(sys, last[sys.ID])), gens[i], sys.ID, gens[i]); err != nil {
					return err
				}
			}
			n = len(systems)
			return nil
		})
		if err != nil || n < dueBatch {
			return err
		}
	}
}
