package readiness

import (
	"context"
	"testing"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestScenarios(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		hn := f.actor(f.hn, policy.RoleAdmin)

		// Only the national level keeps the catalogue.
		in := ScenarioInput{Title: "Mã độc tống tiền mã hóa hệ thống", Category: CategoryAttack, Likelihood: 4, Impact: 5}
		if _, err := f.s.CreateScenario(ctx, hn, in); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("province writes the catalogue: %v", err)
		}
		_, err := f.s.CreateScenario(ctx, nat, ScenarioInput{Title: "", Category: "war", Likelihood: 0, Impact: 6})
		fieldErr(t, err, "title")
		fieldErr(t, err, "category")
		fieldErr(t, err, "likelihood")
		fieldErr(t, err, "impact")
		ransom, err := f.s.CreateScenario(ctx, nat, in)
		if err != nil || ransom.Score() != 20 || ransom.Priority() != PriorityHigh {
			t.Fatalf("catalogue: %+v %v", ransom, err)
		}
		flood, err := f.s.CreateScenario(ctx, nat, ScenarioInput{Title: "Lũ lụt làm ngập trung tâm dữ liệu", Category: CategoryDisaster, Likelihood: 2, Impact: 4})
		if err != nil || flood.Priority() != PriorityMedium {
			t.Fatalf("flood: %+v %v", flood, err)
		}
		// A province copies both, adapts one of its own; ranked highest first.
		if _, err := f.s.CopyScenario(ctx, hn, flood.ID, f.hn.ID); err != nil {
			t.Fatal(err)
		}
		c, err := f.s.CopyScenario(ctx, hn, ransom.ID, f.hn.ID)
		if err != nil || c.SourceID != ransom.ID || c.OrgID != f.hn.ID {
			t.Fatalf("copy: %+v %v", c, err)
		}
		if _, err := f.s.CreateScenario(ctx, hn, ScenarioInput{OrgID: f.hn.ID, Title: "Mất điện kéo dài", Category: CategoryFailure, Likelihood: 1, Impact: 2}); err != nil {
			t.Fatal(err)
		}
		xs, err := f.s.Scenarios(ctx, f.actor(f.hn, policy.RoleViewer), f.hn.ID)
		if err != nil || len(xs) != 3 || xs[0].SourceID != ransom.ID || xs[2].Priority() != PriorityLow {
			t.Fatalf("ranked: %+v %v", xs, err)
		}
		if _, err := f.s.Scenarios(ctx, f.actor(f.dn, policy.RoleAdmin), f.hn.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province reads: %v", err)
		}
		if _, err := f.s.CopyScenario(ctx, f.actor(f.dn, policy.RoleAdmin), ransom.ID, f.hn.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another province copies into Hà Nội: %v", err)
		}
		if _, err := f.s.CopyScenario(ctx, hn, c.ID, f.hn.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("copy of a non-catalogue scenario: %v", err)
		}
		if cat, _ := f.s.Scenarios(ctx, f.actor(f.dn, policy.RoleViewer), 0); len(cat) != 2 {
			t.Fatalf("catalogue: %d", len(cat))
		}
		f.verifyAudit()
	})
}
