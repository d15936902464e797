package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/policy"
	"certnet/internal/readiness"
)

func init() { addWMRoutes(wmReadinessRoutes) }

// onReadiness decides the readiness pages of the target organisation: the
// organisation must be readable, then its readiness (AMBER, scoped), then
// the actions in turn.
func onReadiness(acts ...policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		if err := c.check(policy.OrgRead, c.t.org.Resource()); err != nil {
			return err
		}
		res := policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}
		if err := c.check(policy.ReadinessRead, res); err != nil {
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

// wmTeam makes (as the system) a team of the target with one member.
func wmTeam(t *testing.T, c *wmCase) (readiness.Team, readiness.Person) {
	s := c.m.e.App.Readiness
	tm, err := s.CreateTeam(c.m.ctx, c.m.e.Sys, readiness.TeamInput{OrgID: c.t.org.ID, Name: fmt.Sprintf("Đội %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	p := wmPerson(t, c)
	if _, err := s.AddMember(c.m.ctx, c.m.e.Sys, tm.ID, p.ID, readiness.RoleMember); err != nil {
		t.Fatal(err)
	}
	return tm, p
}

func wmPerson(t *testing.T, c *wmCase) readiness.Person {
	p, err := c.m.e.App.Readiness.CreatePerson(c.m.ctx, c.m.e.Sys, readiness.PersonInput{OrgID: c.t.org.ID, FullName: fmt.Sprintf("Người %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// wmTeamReq builds a request on a fresh team of the target.
func wmTeamReq(method, rest string, form func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values) func(*testing.T, *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		if c.anon {
			return wmReq{method: method, path: c.orgPath("/readiness/teams/1" + strings.ReplaceAll(rest, "{pid}", "1")), form: url.Values{}}
		}
		tm, p := wmTeam(t, c)
		f := url.Values{}
		if form != nil {
			f = form(c, tm, p)
		}
		path := c.orgPath(fmt.Sprintf("/readiness/teams/%d", tm.ID) + strings.ReplaceAll(rest, "{pid}", fmt.Sprint(p.ID)))
		return wmReq{method: method, path: path, form: f}
	}
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

var wmReadinessRoutes = map[string]wmRoute{
	"GET /orgs/{id}/readiness": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness") }),
		decide: onReadiness(),
	},
	"POST /orgs/{id}/readiness/teams": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/readiness/teams") }, func(c *wmCase) url.Values {
			return url.Values{"name": {fmt.Sprintf("Đội ứng cứu %d", c.n)}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/people": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/readiness/people") }, func(c *wmCase) url.Values {
			return url.Values{"full_name": {"Lê Văn Cường"}, "ioc_role": {"operator"}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/agreements": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/readiness/agreements") }, func(c *wmCase) url.Values {
			return url.Values{"partner_org_id": {fmt.Sprint(c.a.user.OrgID)}, "doc_ref": {"01/TT"},
				"signed_on": {time.Now().AddDate(0, -1, 0).Format(time.DateOnly)}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"GET /orgs/{id}/readiness/people.csv": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/people.csv") }),
		decide: onReadiness(),
		ctype:  "text/csv",
	},
	"GET /orgs/{id}/readiness/people.xlsx": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/people.xlsx") }),
		decide: onReadiness(),
		ctype:  xlsxType,
	},
	"GET /orgs/{id}/readiness/teams/{tid}": {
		req:    wmTeamReq(http.MethodGet, "", nil),
		decide: onReadiness(),
	},
	"POST /orgs/{id}/readiness/teams/{tid}": {
		req: wmTeamReq(http.MethodPost, "", func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values {
			return url.Values{"name": {tm.Name + " (sửa)"}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/teams/{tid}/members": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r := wmTeamReq(http.MethodPost, "/members", nil)(t, c)
			if !c.anon {
				r.form = url.Values{"person_id": {fmt.Sprint(wmPerson(t, c).ID)}, "role": {"expert"}}
			}
			return r
		},
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/teams/{tid}/members/{pid}/remove": {
		req:    wmTeamReq(http.MethodPost, "/members/{pid}/remove", nil),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/teams/{tid}/members/{pid}/certificates": {
		req: wmTeamReq(http.MethodPost, "/members/{pid}/certificates", func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values {
			return url.Values{"name": {"CEH"}, "obtained_on": {time.Now().AddDate(-1, 0, 0).Format(time.DateOnly)}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/teams/{tid}/members/{pid}/trainings": {
		req: wmTeamReq(http.MethodPost, "/members/{pid}/trainings", func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values {
			return url.Values{"course": {"Ứng cứu sự cố cơ bản"}, "level": {"basic"}, "finished_on": {time.Now().AddDate(0, -2, 0).Format(time.DateOnly)}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/teams/{tid}/shifts": {
		req: wmTeamReq(http.MethodPost, "/shifts", func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values {
			start := time.Now().In(readiness.Local).Truncate(time.Hour)
			return url.Values{"person_id": {fmt.Sprint(p.ID)}, "starts_at": {start.Format("2006-01-02T15:04")},
				"ends_at": {start.Add(8 * time.Hour).Format("2006-01-02T15:04")}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"GET /orgs/{id}/readiness/teams/{tid}/sim3": {
		req:    wmTeamReq(http.MethodGet, "/sim3", nil),
		decide: onReadiness(),
	},
	"POST /orgs/{id}/readiness/teams/{tid}/sim3": {
		req: wmTeamReq(http.MethodPost, "/sim3", func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values {
			f := url.Values{"assessed_on": {time.Now().Format(time.DateOnly)}}
			for _, x := range readiness.Sim3Params {
				f.Set("level_"+x.ID, "2")
			}
			return f
		}),
		decide: onReadiness(policy.ReadinessAssess),
	},
	"GET /orgs/{id}/readiness/teams/{tid}/sim3.csv": {
		req:    wmTeamReq(http.MethodGet, "/sim3.csv", nil),
		decide: onReadiness(),
		ctype:  "text/csv",
	},
	"GET /orgs/{id}/readiness/teams/{tid}/sim3.xlsx": {
		req:    wmTeamReq(http.MethodGet, "/sim3.xlsx", nil),
		decide: onReadiness(),
		ctype:  xlsxType,
	},
	"GET /readiness/maturity": {
		req:    wmGet(wmPath("/readiness/maturity")),
		decide: func(c *wmCase) error { return nil },
	},
}
