package api_test

import (
	"fmt"
	"testing"
	"time"

	"certnet/internal/exercise"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

func init() { addMatrixRoutes(exerciseMatrix) }

// mxExerciseDrill makes (as the system) a drill of the target with one
// participant under it; the target gets an intake address (the injects'
// contact).
func mxExerciseDrill(t *testing.T, c *mCase) readiness.Drill {
	t.Helper()
	e := c.m.e
	part, err := e.App.Orgs.Create(c.m.ctx, e.Sys, org.Input{Code: fmt.Sprintf("AXP%d", c.n), Name: fmt.Sprintf("Đội tham gia %d", c.n),
		ParentID: c.t.org.ID, Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.Exec(c.m.ctx, "UPDATE organisations SET intake_email = ? WHERE id = ? AND intake_email = ''",
		"ucsc@example.vn", c.t.org.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, 7)
	d, err := e.App.Readiness.SaveDrill(c.m.ctx, e.Sys, 0, readiness.DrillInput{OrgID: c.t.org.ID, Title: fmt.Sprintf("Diễn tập %d", c.n),
		Kind: readiness.DrillOrganisation, StartsOn: start, EndsOn: start, Scenario: "Mã độc tống tiền", Participants: []int64{part.ID}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mxExercise(t *testing.T, c *mCase, running bool) exercise.Exercise {
	t.Helper()
	e := c.m.e
	d := mxExerciseDrill(t, c)
	x, err := e.App.Exercise.Create(c.m.ctx, e.Sys, d.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Exercise.AddInject(c.m.ctx, e.Sys, x.ID, exercise.InjectInput{Offset: 5, TargetOrgID: d.Participants[0],
		Title: "Máy chủ bị mã hoá", Description: "Mã độc tống tiền", Type: "ransomware", Severity: "high"}); err != nil {
		t.Fatal(err)
	}
	if running {
		if x, err = e.App.Exercise.Start(c.m.ctx, e.Sys, x.ID); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func mxExerciseReq(rest string, running bool, body string) func(t *testing.T, c *mCase) (string, string) {
	return func(t *testing.T, c *mCase) (string, string) {
		return fmt.Sprintf("/api/v1/exercises/%d%s", mxExercise(t, c, running).ID, rest), body
	}
}

var exerciseMatrix = map[string]mRoute{
	"GET /api/v1/readiness/drills/{did}/exercises": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/drills/%d/exercises", mxExerciseDrill(t, c).ID), ""
		},
		decide: decideReadiness(policy.ExerciseRead),
	},
	"POST /api/v1/readiness/drills/{did}/exercises": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/drills/%d/exercises", mxExerciseDrill(t, c).ID), jsonBody(map[string]any{"title": "Diễn tập"})
		},
		decide: decideReadiness(policy.ExerciseRun),
	},
	"GET /api/v1/exercises/{xid}": {
		req:    mxExerciseReq("", false, ""),
		decide: decideReadiness(policy.ExerciseRead),
	},
	"GET /api/v1/exercises/{xid}/report": {
		req:    mxExerciseReq("/report", true, ""),
		decide: decideReadiness(policy.ExerciseRead),
	},
	"POST /api/v1/exercises/{xid}/injects": {
		req: func(t *testing.T, c *mCase) (string, string) {
			x := mxExercise(t, c, false)
			return fmt.Sprintf("/api/v1/exercises/%d/injects", x.ID), jsonBody(map[string]any{"offset_minutes": 30,
				"target_org_id": x.Participants[0], "title": "Tình huống 2", "description": "Lan rộng", "type": "ransomware", "severity": "high"})
		},
		decide: decideReadiness(policy.ExerciseRun),
	},
	"POST /api/v1/exercises/{xid}/start": {
		req:    mxExerciseReq("/start", false, ""),
		decide: decideReadiness(policy.ExerciseRun),
	},
	"POST /api/v1/exercises/{xid}/stop": {
		req:    mxExerciseReq("/stop", true, ""),
		decide: decideReadiness(policy.ExerciseRun),
	},
	"POST /api/v1/exercises/{xid}/notes": {
		req: mxExerciseReq("/notes", true, jsonBody(map[string]any{"kind": "action", "body": "Bổ sung người trực đêm",
			"owner": "Đội tham gia", "due_on": "2030-01-31"})),
		decide: decideReadiness(policy.ExerciseRun),
	},
}
