package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/auth"
	"certnet/internal/ingest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
	"certnet/internal/warning"
)

// TestSeedWarnings: the demo's SOC sources and counters raise the
// signature's spread warning and Hà Nội SOC's rate warning, and the 24/7
// figures show them; a second run adds nothing.
func TestSeedWarnings(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 3, 40, 0, 123456789, time.UTC)
		clock := func() time.Time { return now }
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		ing := ingest.NewService(db, nil, orgs, clock, nil)
		w := warning.NewService(db, orgs, nil, nil, ing, clock, nil)
		if n, err := SeedWarnings(ctx, db, ing, w, now); err != nil || n != 0 {
			t.Fatalf("before the network: %d, %v", n, err)
		}
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		if n, err := SeedWarnings(ctx, db, ing, w, now); err != nil || n != 5 {
			t.Fatalf("seeded %d, %v", n, err)
		}
		if n, err := SeedWarnings(ctx, db, ing, w, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		sys := policy.SystemActor("test")
		l, err := w.List(ctx, sys, warning.Filter{State: warning.StateActive})
		if err != nil || len(l) != 2 {
			t.Fatalf("warnings %+v %v", l, err)
		}
		kinds := map[string]bool{}
		for _, x := range l {
			kinds[x.Kind+"/"+x.Subject] = true
		}
		if !kinds["spread/signature"] || !kinds["rate/source"] {
			t.Fatalf("warnings %v", kinds)
		}
		fig, err := w.Watch(ctx, sys)
		if err != nil || fig.EventsHour == 0 || len(fig.TopSignatures) != 1 || len(fig.Members) != 4 || len(fig.Sources) != 5 {
			t.Fatalf("24/7 figures %+v %v", fig, err)
		}
	})
}
