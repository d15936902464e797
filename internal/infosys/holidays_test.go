package infosys

import (
	"context"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestHolidayClock: the seeded holidays (Tết 2026) move the 7-working-day
// approval deadline and its late flag; the national administrator keeps
// the list.
func TestHolidayClock(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		national := f.actor(f.national, policy.RoleAdmin)
		hs, err := f.s.Holidays(ctx, f.actor(f.hosp, policy.RoleViewer), 2026)
		if err != nil || len(hs) != 11 || hs[1].Day != "2026-02-16" {
			t.Fatalf("2026 holidays %v %v", hs, err)
		}
		if all, err := f.s.Holidays(ctx, national, 0); err != nil || len(all) != 34 {
			t.Fatalf("all holidays %d %v", len(all), err)
		}
		// Appraised on Friday 13 February 2026 (before Tết): 7 working days
		// skip the week of Tết (16–20) and end on Tuesday 3 March.
		owner := f.actor(f.hosp, policy.RoleAdmin)
		unit := f.actor(f.hn, policy.RoleCoordinator)
		f.clock.Set(time.Date(2026, 2, 13, 2, 0, 0, 0, time.UTC))
		sys, err := f.s.CreateSystem(ctx, owner, SystemInput{OwnerOrgID: f.hosp.ID, Name: "HIS", DataKind: DataPersonal, PersonalCount: 50_000})
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.s.SaveDossier(ctx, owner, sys.ID, 0, DossierInput{Answers: level3, Overview: "o", Design: "d", Plan: fullPlan()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err = f.s.Move(ctx, owner, d.ID, StepSubmit, "", ""); err != nil {
			t.Fatal(err)
		}
		if d, err = f.s.Move(ctx, unit, d.ID, StepAppraise, "Đạt", ""); err != nil {
			t.Fatal(err)
		}
		if got := d.ApprovalDue.In(Local).Format(time.DateOnly); got != "2026-03-03" {
			t.Fatalf("approval due %s, want 2026-03-03", got)
		}
		// 25 February would be late without the holidays; it is not.
		if d.ApprovalLate(time.Date(2026, 2, 25, 9, 0, 0, 0, Local)) {
			t.Fatal("flagged late during the days Tết adds")
		}
		if !d.ApprovalLate(time.Date(2026, 3, 4, 9, 0, 0, 0, Local)) {
			t.Fatal("approval past 7 working days not flagged")
		}
		// Only the national administrator changes the list.
		wantKind(t, f.s.DeleteHoliday(ctx, owner, "2026-02-16"), errs.KindForbidden)
		wantKind(t, f.s.DeleteHoliday(ctx, national, "2026-03-10"), errs.KindNotFound)
		wantField(t, f.s.DeleteHoliday(ctx, national, "16/02/2026"), "day")
		if err := f.s.DeleteHoliday(ctx, national, "2026-02-16"); err != nil {
			t.Fatal(err)
		}
		due, err := AddWorkingDays(ctx, db, time.Date(2026, 2, 13, 2, 0, 0, 0, time.UTC), ApprovalWorkingDays)
		if err != nil || due.In(Local).Format(time.DateOnly) != "2026-03-02" {
			t.Fatalf("after deleting a day: %v %v", due, err)
		}
		if !MayEditHolidays(national) || MayEditHolidays(owner) {
			t.Fatal("MayEditHolidays")
		}
	})
}

// TestReclassification: a change of a classified system's level-bearing
// facts is kept with the level it held and asks for a new classification;
// other changes do not.
func TestReclassification(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		owner := f.actor(f.hosp, policy.RoleAdmin)
		unit := f.actor(f.hn, policy.RoleCoordinator)
		in := SystemInput{OwnerOrgID: f.hosp.ID, Name: "HIS", DataKind: DataPersonal, PersonalCount: 50_000}
		sys, err := f.s.CreateSystem(ctx, owner, in)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.s.SaveDossier(ctx, owner, sys.ID, 0, DossierInput{Answers: level3, Overview: "o", Design: "d", Plan: fullPlan()})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []struct {
			a    policy.Actor
			step Step
		}{{owner, StepSubmit}, {unit, StepAppraise}, {owner, StepApprove}} {
			if _, err := f.s.Move(ctx, st.a, d.ID, st.step, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Advance(24 * time.Hour)
		in.Purpose = "Khám chữa bệnh" // not level-bearing
		if _, err := f.s.UpdateSystem(ctx, owner, sys.ID, in); err != nil {
			t.Fatal(err)
		}
		hist, reclass, err := f.s.LevelHistory(ctx, owner, sys.ID)
		if err != nil || len(hist) != 1 || hist[0].Kind != HistoryApproved || hist[0].Level != 3 || reclass {
			t.Fatalf("history %+v %v %v", hist, reclass, err)
		}
		f.clock.Advance(24 * time.Hour)
		in.PersonalCount, in.PublicServiceLevel = 2_000_000, 3
		if _, err := f.s.UpdateSystem(ctx, owner, sys.ID, in); err != nil {
			t.Fatal(err)
		}
		hist, reclass, err = f.s.LevelHistory(ctx, owner, sys.ID)
		if err != nil || len(hist) != 2 || hist[0].Kind != HistoryChange || hist[0].Level != 3 || !reclass ||
			len(hist[0].Fields) != 2 || hist[0].Fields[0] != "personal_count" || hist[0].Actor == "" {
			t.Fatalf("history %+v %v %v", hist, reclass, err)
		}
		_, _, err = f.s.LevelHistory(ctx, f.actor(f.dn, policy.RoleAdmin), sys.ID)
		wantKind(t, err, errs.KindNotFound)
	})
}
