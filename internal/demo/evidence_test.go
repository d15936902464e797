package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/auth"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestSeedEvidence(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		incs := incident.NewService(db, orgs, nil, nil)
		evs := incident.NewEvidences(incs, incident.NewEvidenceStore(t.TempDir(), 0))
		pubs := incident.NewPublicReports(incs)
		if n, err := SeedEvidence(ctx, db, users, incs, evs, pubs, now); err != nil || n != 0 {
			t.Fatalf("before the incidents: %d, %v", n, err)
		}
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		if _, err := SeedIncidents(ctx, db, orgs, users, incs, now); err != nil {
			t.Fatal(err)
		}
		n, err := SeedEvidence(ctx, db, users, incs, evs, pubs, now)
		if err != nil || n != 4 {
			t.Fatalf("seeded %d, %v", n, err)
		}
		if n, err := SeedEvidence(ctx, db, users, incs, evs, pubs, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		sys := policy.SystemActor("test")
		reps, err := pubs.List(ctx, sys, incident.PublicFilter{})
		if err != nil || len(reps) != 1 {
			t.Fatalf("public reports: %d, %v", len(reps), err)
		}
	})
}
