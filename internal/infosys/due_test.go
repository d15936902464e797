package infosys

import (
	"context"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestKPIsOnTime: the stored earliest due date follows every change that
// moves it — an activity, a level set by hand in SQL, the approval date —
// and the KPI's "on time" agrees with the schedule computed system by
// system at any clock.
func TestKPIsOnTime(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		nat := f.actor(f.national, policy.RoleViewer)
		var ids []int64
		for i := range 3 {
			sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HT " + itoa(int64(i))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sys.ID)
		}
		// agree compares the KPI with the systems' own schedules.
		agree := func(step string, want int) {
			t.Helper()
			ks, err := f.s.KPIs(ctx, nat, ByNation)
			if err != nil || len(ks) != 1 {
				t.Fatalf("%s: %+v %v", step, ks, err)
			}
			onTime := 0
			for _, id := range ids {
				_, _, due, err := f.s.Detail(ctx, owner, id)
				if err != nil {
					t.Fatal(err)
				}
				ok := true
				for _, d := range due {
					ok = ok && d.State != DueOverdue
				}
				if ok {
					onTime++
				}
			}
			if ks[0].OnTime != onTime || onTime != want {
				t.Fatalf("%s: KPI on time %d, schedules %d, want %d", step, ks[0].OnTime, onTime, want)
			}
		}
		// Registered now: scans and hunts are due at once.
		agree("registered", 0)
		rec := func(id int64, kind string, at time.Time) {
			t.Helper()
			if _, err := f.s.RecordActivity(ctx, owner, Activity{SystemID: id, Kind: kind, DoneOn: at, Performer: "Công ty A"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids[:2] {
			rec(id, KindScan, t0.AddDate(0, -1, 0))
			rec(id, KindHunt, t0.AddDate(0, -2, 0))
		}
		agree("scanned and hunted", 2)
		// Level 5 set by hand: a yearly drill and a six-monthly assessment
		// are now due since the approval a year ago.
		if _, err := db.Exec(ctx, "UPDATE infosys_systems SET level = 5, level_approved_on = ? WHERE id = ?", t0.AddDate(-1, 0, 0), ids[0]); err != nil {
			t.Fatal(err)
		}
		agree("level 5", 1)
		rec(ids[0], KindAssessment, t0.AddDate(0, 0, -3))
		rec(ids[0], KindDrill, t0.AddDate(0, 0, -3))
		agree("assessed and drilled", 2)
		// Four months on, the hunts of two months ago are overdue.
		f.clock.Advance(125 * 24 * time.Hour)
		agree("four months later", 0)
		// Nothing is left to recompute.
		var stale int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM infosys_systems WHERE due_at_gen <> due_gen").Scan(&stale); err != nil || stale != 0 {
			t.Fatalf("stale rows %d (%v)", stale, err)
		}
	})
}
