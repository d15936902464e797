package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/readiness"
)

func init() { addMatrixRoutes(readinessMatrix) }

// decideReadinessOrg: the organisation must be readable, then its
// readiness (AMBER, scoped), then the actions.
func decideReadinessOrg(acts ...policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		if err := c.check(policy.OrgRead); err != nil {
			return err
		}
		return decideReadiness(acts...)(c)
	}
}

// decideReadiness: a team of the target, read first.
func decideReadiness(acts ...policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		res := policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}
		if err := policy.Check(c.a.actor, policy.ReadinessRead, res); err != nil {
			return err
		}
		for _, act := range acts {
			if err := policy.Check(c.a.actor, act, res); err != nil {
				return err
			}
		}
		return nil
	}
}

func mxTeam(t *testing.T, c *mCase) int64 {
	tm, err := c.m.e.App.Readiness.CreateTeam(c.m.ctx, c.m.e.Sys, readiness.TeamInput{OrgID: c.t.org.ID, Name: fmt.Sprintf("Đội %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return tm.ID
}

func sim3Body() string {
	var scores []map[string]any
	for _, p := range readiness.Sim3Params {
		scores = append(scores, map[string]any{"param": p.ID, "level": 2, "evidence": "Quy chế"})
	}
	return jsonBody(map[string]any{"assessed_on": time.Now().Format(time.DateOnly), "scores": scores})
}

var readinessMatrix = map[string]mRoute{
	"GET /api/v1/orgs/{id}/readiness/teams": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/readiness/teams"), "" },
		decide: decideReadinessOrg(),
	},
	"POST /api/v1/orgs/{id}/readiness/teams": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/readiness/teams"), jsonBody(map[string]any{"name": fmt.Sprintf("Đội ứng cứu %d", c.n)})
		},
		decide: decideReadinessOrg(policy.ReadinessWrite),
	},
	"GET /api/v1/orgs/{id}/readiness/people": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/readiness/people"), "" },
		decide: decideReadinessOrg(),
	},
	"POST /api/v1/orgs/{id}/readiness/people": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/readiness/people"), jsonBody(map[string]any{"full_name": "Hoàng Văn Em", "ioc_role": "operator"})
		},
		decide: decideReadinessOrg(policy.ReadinessWrite),
	},
	"GET /api/v1/readiness/teams/{tid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/teams/%d", mxTeam(t, c)), ""
		},
		decide: decideReadiness(),
	},
	"GET /api/v1/readiness/teams/{tid}/coverage": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/teams/%d/coverage?week=2026-11-26", mxTeam(t, c)), ""
		},
		decide: decideReadiness(),
	},
	"GET /api/v1/readiness/teams/{tid}/sim3": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/teams/%d/sim3", mxTeam(t, c)), ""
		},
		decide: decideReadiness(),
	},
	"POST /api/v1/readiness/teams/{tid}/sim3": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/teams/%d/sim3", mxTeam(t, c)), sim3Body()
		},
		decide: decideReadiness(policy.ReadinessAssess),
	},
	"GET /api/v1/readiness/drills": {
		req:    static("/api/v1/readiness/drills", ""),
		decide: func(*mCase) error { return nil },
	},
	"POST /api/v1/readiness/drills": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			d := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
			return "/api/v1/readiness/drills", jsonBody(map[string]any{"org_id": c.t.org.ID, "title": "Diễn tập", "kind": "organisation",
				"starts_on": d, "ends_on": d})
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"GET /api/v1/readiness/drills/{did}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			start := time.Now().AddDate(0, 0, 7)
			d, err := c.m.e.App.Readiness.SaveDrill(c.m.ctx, c.m.e.Sys, 0, readiness.DrillInput{OrgID: c.t.org.ID, Title: "Diễn tập",
				Kind: readiness.DrillOrganisation, StartsOn: start, EndsOn: start})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/readiness/drills/%d", d.ID), ""
		},
		decide: decideReadiness(),
	},
	"GET /api/v1/readiness/maturity": {
		req:    static("/api/v1/readiness/maturity", ""),
		decide: func(*mCase) error { return nil },
	},
}

// TestReadinessAPI: a team and a SIM3 assessment through the API, a level
// out of range refused with the field named.
func TestReadinessAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nc := e.Org("NC", "Trung tâm điều phối", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Sở KH&CN Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	tok := e.Token(e.User(hn.ID, "admin.hn", policy.RoleAdmin), "read", "write")
	r := call(t, e, http.MethodPost, fmt.Sprintf("/api/v1/orgs/%d/readiness/teams", hn.ID), tok, `{"name":"Đội ƯCSC"}`, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create team: %d %s", r.Status, r.Body)
	}
	teams, _ := e.App.Readiness.Teams(t.Context(), e.Sys, hn.ID)
	path := fmt.Sprintf("/api/v1/readiness/teams/%d/sim3", teams[0].ID)
	bad := `{"assessed_on":"2026-11-26","scores":[{"param":"O-1","level":9}]}`
	r = call(t, e, http.MethodPost, path, tok, bad, nil)
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad sim3: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(string(r.Body), "level_O-1") || !strings.Contains(string(r.Body), "level_P-17") {
		t.Fatalf("bad sim3 fields: %s", r.Body)
	}
	if r = call(t, e, http.MethodPost, path, tok, sim3Body(), nil); r.Status != http.StatusCreated {
		t.Fatalf("sim3: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodGet, "/api/v1/readiness/maturity", tok, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"by_province"`) {
		t.Fatalf("maturity: %d %s", r.Status, r.Body)
	}
	// An unreadable date is named; nothing is planned.
	r = call(t, e, http.MethodPost, "/api/v1/readiness/drills", tok, fmt.Sprintf(`{"org_id":%d,"title":"Diễn tập","kind":"organisation",
		"starts_on":"31/12/2026","ends_on":"2026-12-31"}`, hn.ID), nil)
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "starts_on") ||
		strings.Contains(string(r.Body), "ends_on") {
		t.Fatalf("drill with a bad date: %d %s", r.Status, r.Body)
	}
	if ds, err := e.App.Readiness.Drills(t.Context(), e.Sys, 2026); err != nil || len(ds) != 0 {
		t.Fatalf("drills after a bad date: %v %v", ds, err)
	}
}
