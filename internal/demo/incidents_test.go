package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/audit"
	"certnet/internal/auth"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestSeedIncidents(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		incs := incident.NewService(db, orgs, nil, nil)
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		n, err := SeedIncidents(ctx, db, orgs, users, incs, now)
		if err != nil || n != 5 {
			t.Fatalf("seeded %d incidents, %v", n, err)
		}
		if n, err := SeedIncidents(ctx, db, orgs, users, incs, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		sys := policy.SystemActor("test")
		list, total, err := incs.List(ctx, sys, incident.Filter{Limit: 50})
		if err != nil || total != 5 {
			t.Fatalf("list: %d, %v", total, err)
		}
		byStatus := map[incident.Status]int{}
		for _, inc := range list {
			byStatus[inc.Status]++
		}
		if byStatus[incident.StatusContainment] != 2 || byStatus[incident.StatusReview] != 1 || byStatus[incident.StatusReceived] != 1 {
			t.Errorf("statuses: %v", byStatus)
		}
		late := false
		for _, inc := range list {
			for _, c := range incs.Clocks(inc) {
				if c.Kind == incident.ClockNotice && c.Overdue {
					late = true
				}
			}
		}
		if !late {
			t.Error("one notice should have been filed past its 5-day deadline")
		}
		if res, err := audit.Verify(ctx, db, nil); err != nil || res.Break != nil {
			t.Fatalf("audit: %+v %v", res, err)
		}
	})
}
