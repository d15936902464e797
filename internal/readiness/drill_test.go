package readiness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestDrillsAndWhoHasNotDrilled(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		hnAdmin := f.actor(f.hn, policy.RoleAdmin)

		names := func(r YearReport) map[int64]bool {
			m := map[int64]bool{}
			for _, n := range r.NotDrilled {
				m[n.OrgID] = true
			}
			return m
		}
		r, err := f.s.Year(ctx, nat)
		if err != nil || len(r.NotDrilled) != 2 {
			t.Fatalf("nobody drilled yet: %+v %v", r, err)
		}

		// Bad input changes nothing.
		_, err = f.s.SaveDrill(ctx, hnAdmin, 0, DrillInput{OrgID: f.hn.ID, Title: "", Kind: "war", StartsOn: t0,
			EndsOn: t0.AddDate(0, 0, -1), Status: DrillDone, Participants: []int64{999999}})
		fieldErr(t, err, "title")
		fieldErr(t, err, "kind")
		fieldErr(t, err, "ends_on")
		fieldErr(t, err, "participants")
		_, err = f.s.SaveDrill(ctx, hnAdmin, 0, DrillInput{OrgID: f.hn.ID, Title: "Diễn tập", Kind: DrillOrganisation,
			StartsOn: t0.AddDate(0, 1, 0), EndsOn: t0.AddDate(0, 1, 1), Status: DrillDone})
		fieldErr(t, err, "status")
		if _, err := f.s.SaveDrill(ctx, f.actor(f.dn, policy.RoleAdmin), 0, DrillInput{OrgID: f.hn.ID, Title: "x", Kind: DrillOrganisation,
			StartsOn: t0, EndsOn: t0}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province organises for Hà Nội: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM readiness_drills"); n != 0 {
			t.Fatalf("drills after bad input: %d", n)
		}

		// Hà Nội plans a drill: still listed, as planned.
		d, err := f.s.SaveDrill(ctx, hnAdmin, 0, DrillInput{OrgID: f.hn.ID, Title: "Diễn tập ứng phó mã độc tống tiền",
			Kind: DrillOrganisation, StartsOn: t0.AddDate(0, 0, 3), EndsOn: t0.AddDate(0, 0, 4), Scenario: "Mã độc tống tiền tại bệnh viện",
			Participants: []int64{f.hnm.ID}})
		if err != nil {
			t.Fatal(err)
		}
		r, _ = f.s.Year(ctx, nat)
		if !names(r)[f.hn.ID] || !r.NotDrilled[slicesIndex(r.NotDrilled, f.hn.ID)].Planned {
			t.Fatalf("planned drill: %+v", r)
		}
		// Five days later it took place.
		f.clock.Advance(5 * 24 * time.Hour)
		in := DrillInput{Title: d.Title, Kind: d.Kind, StartsOn: d.StartsOn, EndsOn: d.EndsOn, Status: DrillDone, Participants: d.Participants}
		if _, err := f.s.SaveDrill(ctx, hnAdmin, d.ID, in); err != nil {
			t.Fatal(err)
		}
		r, _ = f.s.Year(ctx, nat)
		if names(r)[f.hn.ID] || !names(r)[f.dn.ID] {
			t.Fatalf("after the drill: %+v", r.NotDrilled)
		}
		// The national drill and the national counts.
		if _, err := f.s.SaveDrill(ctx, nat, 0, DrillInput{OrgID: f.national.ID, Title: "Diễn tập quốc gia", Kind: DrillNational,
			StartsOn: f.clock.Now().AddDate(0, 0, -1), EndsOn: f.clock.Now(), Status: DrillDone, Participants: []int64{f.dn.ID}}); err != nil {
			t.Fatal(err)
		}
		r, _ = f.s.Year(ctx, nat)
		if r.National != 1 || len(r.NotDrilled) != 0 {
			t.Fatalf("national drill: %+v", r)
		}
		// Đà Nẵng sees the national drill it took part in, not Hà Nội's.
		ds, _ := f.s.Drills(ctx, f.actor(f.dn, policy.RoleViewer), r.Year)
		if len(ds) != 1 || ds[0].Kind != DrillNational {
			t.Fatalf("drills seen by Đà Nẵng: %+v", ds)
		}
		// A new year: everyone owes a drill again.
		f.clock.Set(time.Date(r.Year+1, 1, 2, 2, 0, 0, 0, time.UTC))
		r, _ = f.s.Year(ctx, nat)
		if len(r.NotDrilled) != 2 || r.National != 0 {
			t.Fatalf("new year: %+v", r)
		}
		f.verifyAudit()
	})
}

func slicesIndex(xs []NotDrilled, id int64) int {
	for i, x := range xs {
		if x.OrgID == id {
			return i
		}
	}
	return 0
}

// TestNoDrillReminder: from October a province with no drill done or
// planned this year is told once; one with a planned drill is not.
func TestNoDrillReminder(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.clock.Set(time.Date(2026, 9, 30, 3, 0, 0, 0, time.UTC))
		if n, err := f.s.Remind(ctx); err != nil || n != 0 {
			t.Fatalf("September: %d %v", n, err)
		}
		hnAdmin := f.actor(f.hn, policy.RoleAdmin)
		start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		if _, err := f.s.SaveDrill(ctx, hnAdmin, 0, DrillInput{OrgID: f.hn.ID, Title: "Diễn tập", Kind: DrillOrganisation,
			StartsOn: start, EndsOn: start}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC))
		if n, err := f.s.Remind(ctx); err != nil || n != 1 {
			t.Fatalf("October: %d %v", n, err)
		}
		f.s.Remind(ctx)
		var orgs string
		if err := db.QueryRow(ctx, "SELECT org_ids FROM notifications WHERE kind = ?", NotifyNoDrill).Scan(&orgs); err != nil {
			t.Fatal(err)
		}
		if c := count(t, db, "SELECT COUNT(*) FROM notifications WHERE kind = ?", NotifyNoDrill); c != 1 || orgs != fmt.Sprintf("[%d]", f.dn.ID) {
			t.Fatalf("reminders: %d to %s", c, orgs)
		}
	})
}
