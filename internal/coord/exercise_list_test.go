package coord

import (
	"context"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// An exercise order is left out of the real order lists (in, out, both,
// overdue: the dashboard's counts) and shown when exercise orders are
// asked for, and on its incident's own list.
func TestExerciseOrdersLeftOutOfRealLists(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		nat := f.actor(f.national, policy.RoleCoordinator)
		realInc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		drillInc := f.incident(f.actor(f.hnm, policy.RoleReporter))
		var drill, ex int64
		if err := db.QueryRow(ctx, `INSERT INTO readiness_drills (org_id, title, kind, starts_on, ends_on, scenario, objectives, status,
			created_at, updated_at) VALUES (?, 'Diễn tập', 'organisation', ?, ?, '', '', 'planned', ?, ?) RETURNING id`,
			f.national.ID, t0, t0, t0, t0).Scan(&drill); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, `INSERT INTO exercises (drill_id, org_id, title, status, started_at, created_at, updated_at)
			VALUES (?, ?, 'Diễn tập', 'running', ?, ?, ?) RETURNING id`, drill, f.national.ID, t0, t0, t0).Scan(&ex); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "UPDATE incidents SET exercise_id = ? WHERE id = ?", ex, drillInc.ID); err != nil {
			t.Fatal(err)
		}
		issue := func(key string) Order {
			o, err := f.s.Issue(ctx, nat, key, IssueInput{Title: "Cô lập máy chủ", Actions: "Ngắt kết nối mạng",
				DeadlineAt: t0.Add(time.Hour), Targets: []int64{f.dnm.ID}})
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		realOrder, drillOrder := issue(realInc.Ref), issue(drillInc.Ref)
		f.clock.Advance(2 * time.Hour) // both overdue
		dnm := f.actor(f.dnm, policy.RoleCoordinator)
		for _, c := range []struct {
			who policy.Actor
			f   Filter
		}{{nat, Filter{}}, {nat, Filter{Direction: DirOut}}, {nat, Filter{Overdue: true}}, {dnm, Filter{Direction: DirIn}},
			{dnm, Filter{Status: StatusSent}}, {dnm, Filter{}}} {
			list, err := f.s.Orders(ctx, c.who, c.f)
			if err != nil || len(list) != 1 || list[0].ID != realOrder.ID {
				t.Fatalf("real list %+v of %s: %d orders %v", c.f, c.who.Username, len(list), err)
			}
			c.f.Exercise = true
			list, err = f.s.Orders(ctx, c.who, c.f)
			if err != nil || len(list) != 1 || list[0].ID != drillOrder.ID || list[0].ExerciseID != ex {
				t.Fatalf("exercise list %+v of %s: %d orders %v", c.f, c.who.Username, len(list), err)
			}
		}
		list, err := f.s.Orders(ctx, nat, Filter{Incident: drillInc.ID})
		if err != nil || len(list) != 1 || list[0].ID != drillOrder.ID {
			t.Fatalf("the drill incident's orders: %d %v", len(list), err)
		}
	})
}
