package demo

import (
	"context"
	"testing"
	"time"

	"certnet/internal/auth"
	"certnet/internal/coord"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestSeedOrders(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		orgs := org.NewService(db, nil, nil)
		users := auth.NewService(db, orgs, nil, nil)
		users.HashParams.Memory, users.HashParams.Iterations, users.HashParams.Parallelism = 64, 1, 1
		incs := incident.NewService(db, orgs, nil, nil)
		if n, err := SeedOrders(ctx, db, users, incs, now); err != nil || n != 0 {
			t.Fatalf("before the incidents: %d, %v", n, err)
		}
		if _, err := Seed(ctx, db, orgs, users, now); err != nil {
			t.Fatal(err)
		}
		if _, err := SeedIncidents(ctx, db, orgs, users, incs, now); err != nil {
			t.Fatal(err)
		}
		n, err := SeedOrders(ctx, db, users, incs, now)
		if err != nil || n != 4 {
			t.Fatalf("seeded %d, %v", n, err)
		}
		if n, err := SeedOrders(ctx, db, users, incs, now); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		cs := coord.NewService(db, incs, func() time.Time { return now }, nil)
		orders, err := cs.Orders(ctx, policy.SystemActor("test"), coord.Filter{Incident: mustIncidentID(t, db, incident.TypePhishing)})
		if err != nil || len(orders) != 1 || len(orders[0].Targets) != 2 {
			t.Fatalf("orders %+v %v", orders, err)
		}
		// ISP-HONGLAM has not acknowledged: the first escalation run
		// reminds it and tells the issuer.
		if steps, err := cs.Escalate(ctx); err != nil || steps != 2 {
			t.Fatalf("escalation steps %d %v", steps, err)
		}
	})
}

func mustIncidentID(t *testing.T, db *store.DB, typ incident.Type) int64 {
	t.Helper()
	var id int64
	if err := db.QueryRow(context.Background(), "SELECT id FROM incidents WHERE type = ? ORDER BY id LIMIT 1", string(typ)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
