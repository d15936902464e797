package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"certnet/internal/exercise"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

func init() { addWMRoutes(wmExerciseRoutes) }

// wmExerciseDrill makes (as the system) a drill of the target with one
// participant under it (apptest.Env.ExerciseDrill).
func wmExerciseDrill(t *testing.T, c *wmCase) readiness.Drill {
	t.Helper()
	return c.m.e.ExerciseDrill(t, c.m.ctx, c.t.org.ID, fmt.Sprintf("XP%d", c.n), c.n)
}

// wmExercise makes an exercise of such a drill with one inject; started
// when running.
func wmExercise(t *testing.T, c *wmCase, running bool) exercise.Exercise {
	t.Helper()
	return c.m.e.Exercise(t, c.m.ctx, c.t.org.ID, fmt.Sprintf("XP%d", c.n), c.n, running)
}

func wmExerciseReq(method, rest string, running bool, form func(c *wmCase) url.Values) func(t *testing.T, c *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		var f url.Values
		if method == http.MethodPost {
			f = url.Values{}
			if form != nil {
				f = form(c)
			}
		}
		if c.anon {
			return wmReq{method: method, path: "/exercises/1" + rest, form: f}
		}
		return wmReq{method: method, path: fmt.Sprintf("/exercises/%d%s", wmExercise(t, c, running).ID, rest), form: f}
	}
}

var wmExerciseRoutes = map[string]wmRoute{
	"GET /readiness/drills/{did}/exercises": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodGet, path: "/readiness/drills/1/exercises"}
			}
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/readiness/drills/%d/exercises", wmExerciseDrill(t, c).ID)}
		},
		decide: onDrillOrg(policy.ExerciseRead),
	},
	"POST /readiness/drills/{did}/exercises": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/readiness/drills/1/exercises", form: url.Values{}}
			}
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/readiness/drills/%d/exercises", wmExerciseDrill(t, c).ID),
				form: url.Values{"title": {"Diễn tập trên certnet"}}}
		},
		decide: onDrillOrg(policy.ExerciseRun),
	},
	"GET /exercises/{xid}": {
		req:    wmExerciseReq(http.MethodGet, "", false, nil),
		decide: onDrillOrg(policy.ExerciseRead),
	},
	"GET /exercises/{xid}/report": {
		req:    wmExerciseReq(http.MethodGet, "/report", true, nil),
		decide: onDrillOrg(policy.ExerciseRead),
	},
	"POST /exercises/{xid}/injects": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/exercises/1/injects", form: url.Values{}}
			}
			x := wmExercise(t, c, false)
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/exercises/%d/injects", x.ID), form: url.Values{
				"offset_minutes": {"30"}, "target_org_id": {fmt.Sprint(x.Participants[0])}, "title": {"Tình huống 2"},
				"description": {"Lan rộng"}, "type": {"ransomware"}, "severity": {"high"}}}
		},
		decide: onDrillOrg(policy.ExerciseRun),
	},
	"POST /exercises/{xid}/start": {
		req:    wmExerciseReq(http.MethodPost, "/start", false, nil),
		decide: onDrillOrg(policy.ExerciseRun),
	},
	"POST /exercises/{xid}/stop": {
		req:    wmExerciseReq(http.MethodPost, "/stop", true, nil),
		decide: onDrillOrg(policy.ExerciseRun),
	},
	"POST /exercises/{xid}/notes": {
		req: wmExerciseReq(http.MethodPost, "/notes", true, func(c *wmCase) url.Values {
			return url.Values{"kind": {"action"}, "body": {"Bổ sung người trực đêm"}, "owner": {"Đội tham gia"}, "due_on": {"2030-01-31"}}
		}),
		decide: onDrillOrg(policy.ExerciseRun),
	},
}
