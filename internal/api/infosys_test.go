package api_test

import (
	"fmt"
	"strings"
	"testing"

	"certnet/internal/infosys"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(infosysMatrix) }

// decideInfosys: a system owned by the target, read first, then the actions.
func decideInfosys(acts ...policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		res := policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}
		if err := policy.Check(c.a.actor, policy.InfosysRead, res); err != nil {
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

func mxSystem(t *testing.T, c *mCase) infosys.System {
	x, err := c.m.e.App.Infosys.CreateSystem(c.m.ctx, c.m.e.Sys, infosys.SystemInput{OwnerOrgID: c.t.org.ID, Name: fmt.Sprintf("Hệ thống %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

var mxAnswers = infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 50_000, Harm: infosys.HarmOrg}

func mxDossier(t *testing.T, c *mCase) infosys.Dossier {
	sys := mxSystem(t, c)
	plan := map[string]string{}
	for _, k := range infosys.PlanSections {
		plan[k] = "Phương án"
	}
	d, err := c.m.e.App.Infosys.SaveDossier(c.m.ctx, c.m.e.Sys, sys.ID, 0, infosys.DossierInput{Answers: mxAnswers, Overview: "o", Design: "d", Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func systemBody(c *mCase) string {
	return jsonBody(map[string]any{"owner_org_id": c.t.org.ID, "name": fmt.Sprintf("Cổng thông tin %d", c.n), "data_kind": "public"})
}

const mxScan = `[{"host":"203.0.113.10","port":443,"name":"OpenSSL","cve":"CVE-2022-3602","severity":"high"}]`

func mxFinding(t *testing.T, c *mCase) int64 {
	t.Helper()
	sys := mxSystem(t, c)
	if _, err := c.m.e.App.Infosys.ImportFindings(c.m.ctx, c.m.e.Sys, sys.ID, infosys.FormatJSON, strings.NewReader(mxScan)); err != nil {
		t.Fatal(err)
	}
	xs, err := c.m.e.App.Infosys.Findings(c.m.ctx, c.m.e.Sys, sys.ID, "")
	if err != nil || len(xs) != 1 {
		t.Fatalf("findings %v %v", xs, err)
	}
	return xs[0].ID
}

var infosysMatrix = map[string]mRoute{
	"GET /api/v1/infosys/systems/{sid}/findings": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/findings", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"POST /api/v1/infosys/systems/{sid}/findings/import": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/findings/import?format=json", mxSystem(t, c).ID), mxScan
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"POST /api/v1/infosys/findings/{fid}/status": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/findings/%d/status", mxFinding(t, c)), jsonBody(map[string]any{"status": "in_progress"})
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/systems": {
		req:    static("/api/v1/infosys/systems", ""),
		decide: func(*mCase) error { return nil },
	},
	"POST /api/v1/infosys/systems": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return "/api/v1/infosys/systems", systemBody(c) },
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/systems/{sid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"PUT /api/v1/infosys/systems/{sid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d", mxSystem(t, c).ID), systemBody(c)
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"POST /api/v1/infosys/systems/{sid}/activities": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/activities", mxSystem(t, c).ID),
				jsonBody(map[string]any{"kind": "scan", "done_on": "2026-01-15"})
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"POST /api/v1/infosys/systems/{sid}/dossiers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/dossiers", mxSystem(t, c).ID), jsonBody(map[string]any{"answers": mxAnswers})
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/dossiers/{did}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/dossiers/%d", mxDossier(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"PUT /api/v1/infosys/dossiers/{did}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/dossiers/%d", mxDossier(t, c).ID), jsonBody(map[string]any{"answers": mxAnswers, "overview": "Tổng quan"})
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"POST /api/v1/infosys/dossiers/{did}/move": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/dossiers/%d/move", mxDossier(t, c).ID), jsonBody(map[string]any{"step": "submit"})
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"POST /api/v1/infosys/propose": {
		req:    static("/api/v1/infosys/propose", jsonBody(mxAnswers)),
		decide: func(*mCase) error { return nil },
	},
	"GET /api/v1/infosys/schedule": {
		req:    static("/api/v1/infosys/schedule", ""),
		decide: func(*mCase) error { return nil },
	},
	"GET /api/v1/infosys/calendar.ics": {
		req:    static("/api/v1/infosys/calendar.ics", ""),
		decide: func(*mCase) error { return nil },
	},
	"GET /api/v1/infosys/kpis": {
		req:    static("/api/v1/infosys/kpis?by=sector", ""),
		decide: func(*mCase) error { return nil },
	},
}
