package coord

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// An order on an exercise incident is an exercise order: its messages are
// marked exercise (kept inside certnet) and its escalation goes to the
// issuer only, never to the target's parent outside the drill.
func TestExerciseOrderStaysInsideTheExercise(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		inc := f.incident(f.actor(f.hnm, policy.RoleReporter))
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
		if _, err := db.Exec(ctx, "UPDATE incidents SET exercise_id = ? WHERE id = ?", ex, inc.ID); err != nil {
			t.Fatal(err)
		}
		o, err := f.s.Issue(ctx, f.actor(f.national, policy.RoleCoordinator), inc.Ref, IssueInput{Title: "Hỗ trợ xử lý",
			Actions: "Cử người hỗ trợ", Priority: PriorityUrgent, DeadlineAt: t0.Add(2 * time.Hour), Targets: []int64{f.dnm.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if o.ExerciseID != ex {
			t.Fatalf("order's exercise: %d, want %d", o.ExerciseID, ex)
		}
		f.clock.Advance(9 * time.Hour)
		if n, err := f.s.Escalate(ctx); err != nil || n != 3 {
			t.Fatalf("steps %d %v", n, err)
		}
		got := f.outbox(KindOrderEscalated)
		want2 := fmt.Sprintf("order:%d:target:%d:escalate:2 [%d]", o.ID, o.Targets[0].ID, f.national.ID)
		if len(got) != 2 || got[1] != want2 {
			t.Fatalf("escalations %v, want %s (the issuer only)", got, want2)
		}
		var unmarked int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE link = ? AND exercise = ?",
			fmt.Sprintf("/orders/%d", o.ID), false).Scan(&unmarked); err != nil || unmarked != 0 {
			t.Fatalf("order messages not marked exercise: %d %v", unmarked, err)
		}
	})
}
