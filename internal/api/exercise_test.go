package api_test

import (
	"fmt"
	"testing"

	"certnet/internal/exercise"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

func init() { addMatrixRoutes(exerciseMatrix) }

// mxExerciseDrill makes (as the system) a drill of the target with one
// participant under it (apptest.Env.ExerciseDrill).
func mxExerciseDrill(t *testing.T, c *mCase) readiness.Drill {
	t.Helper()
	return c.m.e.ExerciseDrill(t, c.m.ctx, c.t.org.ID, fmt.Sprintf("AXP%d", c.n), c.n)
}

// mxExercise makes an exercise of such a drill with one inject; started
// when running.
func mxExercise(t *testing.T, c *mCase, running bool) exercise.Exercise {
	t.Helper()
	return c.m.e.Exercise(t, c.m.ctx, c.t.org.ID, fmt.Sprintf("AXP%d", c.n), c.n, running)
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
