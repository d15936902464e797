package coord

import (
	"context"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestOrderEffort: an order's target records its own effort on the order
// even when it may not read the incident; others may not, and a refusal
// writes nothing.
func TestOrderEffort(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		natc := f.actor(f.national, policy.RoleCoordinator)
		o, err := f.s.Issue(ctx, natc, inc.Ref, IssueInput{Title: "Chặn địa chỉ", Actions: "Chặn 198.51.100.7.",
			Priority: PriorityUrgent, DeadlineAt: t0.Add(48 * time.Hour), Targets: []int64{f.isp.ID}})
		if err != nil {
			t.Fatal(err)
		}
		isp := f.actor(f.isp, policy.RoleAnalyst)
		work := EffortInput{Date: "2026-11-25", People: 2, Hours: 6, CostVND: 2_000_000, Description: "Chặn địa chỉ trên biên"}
		// Through the incident the target is refused when it cannot see it;
		// through the order it is not.
		if _, err := f.inc.Get(ctx, isp, inc.Ref); err == nil {
			t.Log("the target may read the incident in this fixture")
		} else if _, err := f.s.AddEffort(ctx, isp, inc.Ref, work); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("effort through the unseen incident: %v", err)
		}
		for _, c := range []struct {
			a    policy.Actor
			kind errs.Kind
		}{
			{f.actor(f.dnm, policy.RoleAnalyst), errs.KindNotFound},       // neither side of the order
			{f.actor(f.isp, policy.RoleViewer), errs.KindForbidden},       // a viewer records nothing
			{f.actor(f.national, policy.RoleAnalyst), errs.KindForbidden}, // the issuer is no target
		} {
			if _, err := f.s.AddOrderEffort(ctx, c.a, o.ID, work); !errs.Is(err, c.kind) {
				t.Errorf("%s %v: %v, want %s", c.a.Username, c.a.Roles, err, c.kind)
			}
		}
		if _, err := f.s.AddOrderEffort(ctx, isp, o.ID+1000, work); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("unknown order: %v", err)
		}
		bad := work
		bad.People = 0
		if e, ok := errs.As(mustErr(f.s.AddOrderEffort(ctx, isp, o.ID, bad))); !ok || !e.Has("people") {
			t.Errorf("bad effort accepted")
		}
		if f.count("coord_efforts") != 0 {
			t.Fatal("a refused effort was saved")
		}
		e, err := f.s.AddOrderEffort(ctx, isp, o.ID, work)
		if err != nil {
			t.Fatal(err)
		}
		if e.OrgID != f.isp.ID || e.OrderID != o.ID || e.IncidentID != inc.ID || e.Hours != 6 {
			t.Fatalf("effort %+v", e)
		}
		list, totals, err := f.s.Efforts(ctx, natc, inc.Ref)
		if err != nil || len(list) != 1 || list[0].OrgID != f.isp.ID || totals[len(totals)-1].CostVND != 2_000_000 {
			t.Fatalf("the incident's effort: %+v %+v (%v)", list, totals, err)
		}
		for _, c := range []struct {
			a    policy.Actor
			want int
		}{{isp, 1}, {natc, 1}, {f.actor(f.isp, policy.RoleViewer), 1}} {
			if got, err := f.s.OrderEfforts(ctx, c.a, o.ID); err != nil || len(got) != c.want {
				t.Errorf("%s %v sees %d of the order's effort (%v)", c.a.Username, c.a.Roles, len(got), err)
			}
		}
		if _, err := f.s.OrderEfforts(ctx, f.actor(f.dnm, policy.RoleAnalyst), o.ID); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("an outsider reads the order's effort: %v", err)
		}
		f.verifyAudit()
	})
}
