package intel

import (
	"context"
	"fmt"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// The advisory list pages by keyset: a Đà Nẵng member walks its seven
// readable advisories three at a time, older then newer again, without a
// gap or a repeat, over the Hà Nội AMBER ones it may not read; the filter
// holds on every page.
func TestAdvisoriesPage(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newAdvFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		var mine []int64
		for i := range 7 {
			v := f.draft(nat, AdvisoryInput{Title: fmt.Sprintf("Cho Đà Nẵng %d", i), Severity: SeverityHigh,
				Targeting: Targeting{Orgs: []int64{f.dnb.ID}}})
			if _, err := f.s.Publish(ctx, nat, v.ID); err != nil {
				t.Fatal(err)
			}
			mine = append(mine, v.ID)
			o := f.draft(nat, AdvisoryInput{Title: fmt.Sprintf("Cho Hà Nội %d", i), Severity: SeverityHigh,
				Targeting: Targeting{Orgs: []int64{f.hnm.ID}}})
			if _, err := f.s.Publish(ctx, nat, o.ID); err != nil {
				t.Fatal(err)
			}
			low := f.draft(nat, AdvisoryInput{Title: fmt.Sprintf("Thấp %d", i), Severity: SeverityLow,
				Targeting: Targeting{Orgs: []int64{f.dnb.ID}}})
			if _, err := f.s.Publish(ctx, nat, low.ID); err != nil {
				t.Fatal(err)
			}
		}
		dnb := f.actor(f.dnb, policy.RoleReporter)
		flt := AdvisoryFilter{Severity: SeverityHigh, Limit: 3}
		ids := func(p AdvisoryPage) []int64 {
			var out []int64
			for _, r := range p.Rows {
				if r.Severity != SeverityHigh || r.Mine == nil {
					t.Fatalf("row outside the filter or not received: %+v", r)
				}
				out = append(out, r.ID)
			}
			return out
		}
		want := func(p AdvisoryPage, rows []int64, newer, older int64) {
			t.Helper()
			if got := ids(p); fmt.Sprint(got) != fmt.Sprint(rows) || p.Newer != newer || p.Older != older {
				t.Fatalf("page %v newer %d older %d, want %v newer %d older %d", got, p.Newer, p.Older, rows, newer, older)
			}
		}
		p1, err := f.s.AdvisoriesPage(ctx, dnb, flt, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want(p1, []int64{mine[6], mine[5], mine[4]}, 0, mine[4])
		p2, err := f.s.AdvisoriesPage(ctx, dnb, flt, p1.Older, 0)
		if err != nil {
			t.Fatal(err)
		}
		want(p2, []int64{mine[3], mine[2], mine[1]}, mine[3], mine[1])
		p3, err := f.s.AdvisoriesPage(ctx, dnb, flt, p2.Older, 0)
		if err != nil {
			t.Fatal(err)
		}
		want(p3, []int64{mine[0]}, mine[0], 0)
		back, err := f.s.AdvisoriesPage(ctx, dnb, flt, 0, p3.Newer)
		if err != nil {
			t.Fatal(err)
		}
		want(back, []int64{mine[3], mine[2], mine[1]}, mine[3], mine[1])
		back, err = f.s.AdvisoriesPage(ctx, dnb, flt, 0, back.Newer)
		if err != nil {
			t.Fatal(err)
		}
		want(back, []int64{mine[6], mine[5], mine[4]}, 0, mine[4])
		if _, err := f.s.AdvisoriesPage(ctx, dnb, flt, 5, 3); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("both cursors: %v", err)
		}
		if _, err := f.s.AdvisoriesPage(ctx, policy.Actor{}, flt, 0, 0); !errs.Is(err, errs.KindUnauthenticated) {
			t.Fatalf("nobody: %v", err)
		}
	})
}
