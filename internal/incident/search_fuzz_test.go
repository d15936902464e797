package incident

import (
	"testing"

	"certnet/internal/policy"
	"certnet/internal/testkit"
)

// FuzzSearch: whatever is typed in the search box, the list answers (no
// FTS syntax error, no panic) and sees no more than without a search.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"ha noi", "SC-2026-000001", "203.0.113.10", `"*(`, "NEAR(a b)", "a OR b", "-x", "ở đâu?", "%_\\", "a:* & !b"} {
		f.Add(s)
	}
	fx := newFixture(f, testkit.NewSQLite(f))
	rep := fx.actor(fx.hnm, policy.RoleReporter)
	fx.mustCreate(rep)
	nc := fx.actor(fx.national, policy.RoleAnalyst)
	f.Fuzz(func(t *testing.T, q string) {
		list, total, err := fx.s.List(ctx, nc, Filter{Q: q})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if len(list) > 1 || total > 1 {
			t.Fatalf("%q: %d rows, total %d", q, len(list), total)
		}
	})
}
