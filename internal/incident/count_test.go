package incident

import (
	"testing"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestListCountCap: the count stops CountCap past the page's start, so
// every page still links to a next one while more match, and a search page
// counts through the full-text index the same way.
func TestListCountCap(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		hn := f.actor(f.hnm, policy.RoleReporter)
		nc := f.actor(f.national, policy.RoleAnalyst)
		seed := f.mustCreate(hn, func(in *Input) { in.Title = "Mã độc tống tiền" })
		const extra = CountCap + 100
		if _, err := db.Exec(ctx, `WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM n WHERE k < ?)
			INSERT INTO incidents (ref, year, seq, title, description, type, severity, class, status, tlp,
				reporter_org_id, affected_org_id, reported_by, reported_by_name, detected_at, reported_at,
				exceeds_capacity, details, search_text, version, created_at, updated_at)
			SELECT 'SC-1999-' || k, 1999, k, title, description, type, severity, class, status, tlp,
				reporter_org_id, affected_org_id, reported_by, reported_by_name, detected_at, reported_at,
				exceeds_capacity, details, search_text, version, created_at, updated_at
			FROM incidents, n WHERE incidents.id = ?`, extra, seed.ID); err != nil {
			t.Fatal(err)
		}
		all := extra + 1
		for _, q := range []string{"", "tong tien"} {
			list, total, err := f.s.List(ctx, nc, Filter{Q: q, Limit: 50})
			if err != nil || len(list) != 50 || total != CountCap+1 || !CountMore(total, 0) {
				t.Fatalf("%q first page: %d rows, total %d, more %v (%v)", q, len(list), total, CountMore(total, 0), err)
			}
			list, total, err = f.s.List(ctx, nc, Filter{Q: q, Limit: 50, Offset: CountCap})
			if err != nil || len(list) != 50 || total != all || CountMore(total, CountCap) {
				t.Fatalf("%q page at %d: %d rows, total %d (%v)", q, CountCap, len(list), total, err)
			}
			if list, total, err = f.s.List(ctx, nc, Filter{Q: q, Limit: 50, Offset: all - 10}); err != nil || len(list) != 10 || total != all {
				t.Fatalf("%q last page: %d rows, total %d (%v)", q, len(list), total, err)
			}
		}
		// A search lists the newest first: the incident made last.
		last := f.mustCreate(hn, func(in *Input) { in.Title = "Mã độc tống tiền mới" })
		if list, _, err := f.s.List(ctx, nc, Filter{Q: "ma doc tong tien", Limit: 1}); err != nil || len(list) != 1 || list[0].ID != last.ID {
			t.Fatalf("newest first: %v (%v)", refsOf(list), err)
		}
	})
}
