package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"certnet/internal/infosys"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmInfosysRoutes) }

// onInfosys decides a system owned by the target (AMBER, scoped read first).
func onInfosys(acts ...policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		res := policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}
		if err := c.check(policy.InfosysRead, res); err != nil {
			return err
		}
		for _, act := range acts {
			if err := c.check(act, res); err != nil {
				return err
			}
		}
		return nil
	}
}

func wmSystem(t *testing.T, c *wmCase) infosys.System {
	x, err := c.m.e.App.Infosys.CreateSystem(c.m.ctx, c.m.e.Sys, infosys.SystemInput{OwnerOrgID: c.t.org.ID, Name: fmt.Sprintf("Hệ thống %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func wmDossier(t *testing.T, c *wmCase) infosys.Dossier {
	sys := wmSystem(t, c)
	plan := map[string]string{}
	for _, k := range infosys.PlanSections {
		plan[k] = "Phương án"
	}
	d, err := c.m.e.App.Infosys.SaveDossier(c.m.ctx, c.m.e.Sys, sys.ID, 0, infosys.DossierInput{
		Answers: infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 50_000, Harm: infosys.HarmOrg},
		Overview: "o", Design: "d", Plan: plan})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wmInfosysReq(method, pattern string, mk func(*testing.T, *wmCase) int64, form func(c *wmCase) url.Values) func(*testing.T, *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		f := url.Values{}
		if c.anon {
			return wmReq{method: method, path: fmt.Sprintf(pattern, 1), form: f}
		}
		id := mk(t, c)
		if form != nil {
			f = form(c)
		}
		return wmReq{method: method, path: fmt.Sprintf(pattern, id), form: f}
	}
}

func wmSysID(t *testing.T, c *wmCase) int64     { return wmSystem(t, c).ID }
func wmDossierID(t *testing.T, c *wmCase) int64 { return wmDossier(t, c).ID }

var wmInfosysRoutes = map[string]wmRoute{
	"GET /infosys": {
		req:    wmGet(wmPath("/infosys")),
		decide: func(c *wmCase) error { return nil },
	},
	"POST /infosys/systems": {
		req: wmPost(wmPath("/infosys/systems"), func(c *wmCase) url.Values {
			return url.Values{"owner_org_id": {fmt.Sprint(c.t.org.ID)}, "name": {fmt.Sprintf("Cổng thông tin %d", c.n)}, "data_kind": {"public"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"GET /infosys/systems/{sid}": {
		req:    wmInfosysReq(http.MethodGet, "/infosys/systems/%d", wmSysID, nil),
		decide: onInfosys(),
	},
	"POST /infosys/systems/{sid}/dossiers": {
		req: wmInfosysReq(http.MethodPost, "/infosys/systems/%d/dossiers", wmSysID, func(c *wmCase) url.Values {
			return url.Values{"scope": {"organisation"}, "data_kind": {"personal"}, "personal_count": {"50000"}, "harm": {"org"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"POST /infosys/systems/{sid}/activities": {
		req: wmInfosysReq(http.MethodPost, "/infosys/systems/%d/activities", wmSysID, func(c *wmCase) url.Values {
			return url.Values{"kind": {"scan"}, "done_on": {"2026-01-15"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"GET /infosys/dossiers/{did}": {
		req:    wmInfosysReq(http.MethodGet, "/infosys/dossiers/%d", wmDossierID, nil),
		decide: onInfosys(),
	},
	"POST /infosys/dossiers/{did}": {
		req: wmInfosysReq(http.MethodPost, "/infosys/dossiers/%d", wmDossierID, func(c *wmCase) url.Values {
			return url.Values{"proposed_level": {"3"}, "overview": {"Tổng quan"}, "design": {"Thiết kế"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"POST /infosys/dossiers/{did}/move": {
		req: wmInfosysReq(http.MethodPost, "/infosys/dossiers/%d/move", wmDossierID, func(c *wmCase) url.Values {
			return url.Values{"step": {"submit"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"GET /infosys/calendar.ics": {
		req:    wmGet(wmPath("/infosys/calendar.ics")),
		decide: func(c *wmCase) error { return nil },
		ctype:  "text/calendar",
	},
}
