package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/auth"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestSeedReadiness: the demo's team is short of five qualified experts,
// its rota leaves one night uncovered, SIM3 has history, last year's
// national drill is recorded; a second run adds nothing.
func TestSeedReadiness(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		rs := readiness.NewService(db, func() time.Time { return now }, nil)
		if n, err := SeedReadiness(ctx, db, rs, now); err != nil || n != 0 {
			t.Fatalf("before the network: %d, %v", n, err)
		}
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		n, err := SeedReadiness(ctx, db, rs, now)
		if err != nil || n == 0 {
			t.Fatalf("seeded %d, %v", n, err)
		}
		if n, err := SeedReadiness(ctx, db, rs, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		sys := policy.SystemActor("test")
		teams, err := rs.Teams(ctx, sys, 0)
		if err != nil || len(teams) != 1 || teams[0].MeetsExperts() || teams[0].Qualified != 4 {
			t.Fatalf("teams: %+v %v", teams, err)
		}
		cov, err := rs.Coverage(ctx, sys, teams[0].ID, now)
		if err != nil || cov.UncoveredNight != 1 || !cov.Days[2].NightUncovered {
			t.Fatalf("coverage: nights %d %v", cov.UncoveredNight, err)
		}
		if xs, _ := rs.Assessments(ctx, sys, teams[0].ID); len(xs) != 2 {
			t.Fatalf("sim3: %d", len(xs))
		}
		if ds, _ := rs.Drills(ctx, sys, now.Year()-1); len(ds) != 1 || ds[0].Kind != readiness.DrillNational {
			t.Fatalf("last year's drills: %+v", ds)
		}
		// Hà Nội's plan: approved, its yearly review due soon; a draft
		// that cannot be submitted yet (no contacts).
		plans, err := rs.Plans(ctx, sys, teams[0].OrgID)
		if err != nil || len(plans) != 2 {
			t.Fatalf("plans: %+v %v", plans, err)
		}
		var approved, draft int
		for _, p := range plans {
			switch {
			case p.InForce != nil && p.Latest.Status == readiness.PlanApproved:
				approved++
				if p.Review(now) != readiness.ReviewDueSoon || len(p.InForce.Content.Options) != 2 || len(p.InForce.Content.Contacts) == 0 {
					t.Errorf("approved plan: %s %+v", p.Review(now), p.InForce.Content)
				}
			case p.Latest.Status == readiness.PlanDraft:
				draft++
				if _, err := rs.SubmitPlan(ctx, sys, p.ID); err == nil {
					t.Error("the draft plan could be submitted without contacts")
				}
			}
		}
		if approved != 1 || draft != 1 {
			t.Fatalf("plans: %d approved, %d drafts", approved, draft)
		}
	})
}
