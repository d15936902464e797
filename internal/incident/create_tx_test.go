package incident

import (
	"context"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestCreateThenUndoes: work chained to a creation (converting a public
// report) that fails undoes the creation — no incident, report, timeline,
// audit entry or notification is left behind, and the reference is not
// used up.
func TestCreateThenUndoes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hn := f.actor(f.hnm, policy.RoleReporter)
		first := f.mustCreate(hn) // the reference SC-YYYY-000001
		tables := []string{"incidents", "incident_reports", "incident_events", "audit_log", "notifications"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = countRows(t, db, "SELECT COUNT(*) FROM "+tb)
		}
		_, err := f.s.create(ctx, hn, input(), func(context.Context, *store.Tx, Incident) error {
			return errs.Conflict("test", "public.err.triaged")
		})
		if !errs.Is(err, errs.KindConflict) {
			t.Fatalf("create with a failing step: %v", err)
		}
		for _, tb := range tables {
			if n := countRows(t, db, "SELECT COUNT(*) FROM "+tb); n != before[tb] {
				t.Errorf("%s: %d rows after the undone creation, %d before", tb, n, before[tb])
			}
		}
		next := f.mustCreate(hn)
		if next.Ref == first.Ref || next.Ref[len(next.Ref)-6:] != "000002" {
			t.Errorf("the undone creation used up a reference: %s after %s", next.Ref, first.Ref)
		}
		f.verifyAudit()
	})
}
