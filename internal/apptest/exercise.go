package apptest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"certnet/internal/exercise"
	"certnet/internal/org"
	"certnet/internal/readiness"
)

// ExerciseDrill makes (as the system) a drill of organiser, a week ahead,
// with one participant: a new organisation under it whose code is code.
// The organiser gets an intake address (the injects' contact) if it has
// none. Failures end t (the calling test, not the Env's).
func (e *Env) ExerciseDrill(t testing.TB, ctx context.Context, organiser int64, code string, n int) readiness.Drill {
	t.Helper()
	part, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: code, Name: fmt.Sprintf("Đội tham gia %d", n),
		ParentID: organiser, Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(ctx, "UPDATE organisations SET intake_email = ? WHERE id = ? AND intake_email = ''",
		"ucsc@example.vn", organiser); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, 7)
	d, err := e.App.Readiness.SaveDrill(ctx, e.Sys, 0, readiness.DrillInput{OrgID: organiser, Title: fmt.Sprintf("Diễn tập %d", n),
		Kind: readiness.DrillOrganisation, StartsOn: start, EndsOn: start, Scenario: "Mã độc tống tiền", Participants: []int64{part.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Exercise makes an exercise of such a drill with one incident inject to
// the participant, started when running.
func (e *Env) Exercise(t testing.TB, ctx context.Context, organiser int64, code string, n int, running bool) exercise.Exercise {
	t.Helper()
	d := e.ExerciseDrill(t, ctx, organiser, code, n)
	x, err := e.App.Exercise.Create(ctx, e.Sys, d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Exercise.AddInject(ctx, e.Sys, x.ID, exercise.InjectInput{Offset: 5, TargetOrgID: d.Participants[0],
		Title: "Máy chủ bị mã hoá", Description: "Mã độc tống tiền", Type: "ransomware", Severity: "high"}); err != nil {
		t.Fatal(err)
	}
	if running {
		if x, err = e.App.Exercise.Start(ctx, e.Sys, x.ID); err != nil {
			t.Fatal(err)
		}
	}
	return x
}
