package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"certnet/internal/exercise"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

func init() { addWMRoutes(wmExerciseRoutes) }

// wmExerciseDrill makes (as the system) a drill of the target with one
// participant, a new organisation under it; the target gets an intake
// address (the injects' contact).
func wmExerciseDrill(t *testing.T, c *wmCase) readiness.Drill {
	t.Helper()
	e := c.m.e
	part, err := e.App.Orgs.Create(c.m.ctx, e.Sys, org.Input{Code: fmt.Sprintf("XP%d", c.n), Name: fmt.Sprintf("Đội tham gia %d", c.n),
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

// wmExercise makes an exercise of such a drill with one inject; started
// when running.
func wmExercise(t *testing.T, c *wmCase, running bool) exercise.Exercise {
	t.Helper()
	e := c.m.e
	d := wmExerciseDrill(t, c)
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
