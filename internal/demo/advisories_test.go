package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/auth"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestSeedAdvisories(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		if n, err := SeedAdvisories(ctx, db, users, orgs.WhoisIndex, now); err != nil || n != 0 {
			t.Fatalf("before the network: %d, %v", n, err)
		}
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		n, err := SeedAdvisories(ctx, db, users, orgs.WhoisIndex, now)
		if err != nil || n != 12 {
			t.Fatalf("seeded %d, %v", n, err)
		}
		if n, err := SeedAdvisories(ctx, db, users, orgs.WhoisIndex, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		s := intel.NewService(db, func() time.Time { return now }, nil)
		sys := policy.SystemActor("test")
		list, err := s.Advisories(ctx, sys, intel.AdvisoryFilter{Status: intel.AdvisoryPublished})
		if err != nil || len(list) != 2 {
			t.Fatalf("published %v %v", list, err)
		}
		var vpn, clear intel.Advisory
		for _, r := range list {
			switch r.TLP {
			case policy.TLPAmber:
				vpn = r.Advisory
			case policy.TLPClear:
				clear = r.Advisory
			}
		}
		if vpn.ID == 0 || clear.ID == 0 {
			t.Fatalf("published %+v", list)
		}
		pub, err := s.PublicAdvisories(ctx, intel.PublicCursor{}, 20)
		if err != nil || len(pub.Advisories) != 1 || pub.Advisories[0].ID != clear.ID {
			t.Fatalf("public page %+v %v", pub, err)
		}
		rates, err := s.Rates(ctx, sys, vpn.ID)
		if err != nil || rates.Overall.Total < 8 || rates.Overall.Acknowledged != 4 || rates.Overall.Remediated != 1 || rates.Overall.NotAffected != 1 {
			t.Fatalf("rates %+v %v", rates.Overall, err)
		}
		// The recipients that have not acknowledged in 30 hours are
		// reminded on the job's first run.
		steps, err := s.EscalateAdvisories(ctx)
		if err != nil || steps != rates.Overall.Total-4 {
			t.Fatalf("reminders %d %v", steps, err)
		}
	})
}
