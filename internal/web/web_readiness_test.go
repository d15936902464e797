package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/org"
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

// onDrillOrg decides a drill organised by the target (readiness, scoped).
func onDrillOrg(acts ...policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
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

func wmDrill(t *testing.T, c *wmCase) readiness.Drill {
	start := time.Now().AddDate(0, 0, 7)
	d, err := c.m.e.App.Readiness.SaveDrill(c.m.ctx, c.m.e.Sys, 0, readiness.DrillInput{OrgID: c.t.org.ID, Title: fmt.Sprintf("Diễn tập %d", c.n),
		Kind: readiness.DrillOrganisation, StartsOn: start, EndsOn: start})
	if err != nil {
		t.Fatal(err)
	}
	return d
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
	"POST /orgs/{id}/readiness/teams/{tid}/shifts/{sid}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			var sid int64 = 1
			r := wmTeamReq(http.MethodPost, "", func(c *wmCase, tm readiness.Team, p readiness.Person) url.Values {
				start := time.Now().Truncate(time.Hour)
				sh, err := c.m.e.App.Readiness.AddShift(c.m.ctx, c.m.e.Sys, tm.ID, readiness.ShiftInput{PersonID: p.ID, StartsAt: start,
					EndsAt: start.Add(8 * time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				sid = sh.ID
				return url.Values{}
			})(t, c)
			r.path += fmt.Sprintf("/shifts/%d/delete", sid)
			return r
		},
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
	"GET /readiness/scenarios": {
		req:    wmGet(wmPath("/readiness/scenarios")),
		decide: func(c *wmCase) error { return nil },
	},
	"POST /readiness/scenarios": {
		req: wmPost(wmPath("/readiness/scenarios"), func(c *wmCase) url.Values {
			return url.Values{"title": {fmt.Sprintf("Kịch bản %d", c.n)}, "category": {"attack"}, "likelihood": {"3"}, "impact": {"4"}}
		}),
		decide: func(c *wmCase) error {
			return c.check(policy.ReadinessCatalogue, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPAmber})
		},
	},
	"GET /orgs/{id}/readiness/scenarios": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/scenarios") }),
		decide: onReadiness(),
	},
	"POST /orgs/{id}/readiness/scenarios": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/readiness/scenarios") }, func(c *wmCase) url.Values {
			return url.Values{"title": {"Mất điện"}, "category": {"failure"}, "likelihood": {"2"}, "impact": {"2"}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/scenarios/copy": {
		req: func(t *testing.T, c *wmCase) wmReq {
			x, err := c.m.e.App.Readiness.CreateScenario(c.m.ctx, c.m.e.Sys, readiness.ScenarioInput{Title: fmt.Sprintf("Mẫu %d", c.n),
				Category: readiness.CategoryAttack, Likelihood: 3, Impact: 3})
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: c.orgPath("/readiness/scenarios/copy"), form: url.Values{"scenario_id": {fmt.Sprint(x.ID)}}}
		},
		decide: onReadiness(policy.ReadinessWrite),
	},
	"GET /readiness/drills": {
		req:    wmGet(wmPath("/readiness/drills")),
		decide: func(c *wmCase) error { return nil },
	},
	"POST /readiness/drills": {
		req: wmPost(wmPath("/readiness/drills"), func(c *wmCase) url.Values {
			d := time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
			return url.Values{"org_id": {fmt.Sprint(c.t.org.ID)}, "title": {"Diễn tập"}, "kind": {"organisation"},
				"starts_on": {d}, "ends_on": {d}, "status": {"planned"}}
		}),
		decide: onDrillOrg(policy.ReadinessWrite),
	},
	"GET /readiness/drills/{did}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodGet, path: "/readiness/drills/1"}
			}
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/readiness/drills/%d", wmDrill(t, c).ID)}
		},
		decide: onDrillOrg(),
	},
	"POST /readiness/drills/{did}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/readiness/drills/1", form: url.Values{}}
			}
			d := wmDrill(t, c)
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/readiness/drills/%d", d.ID), form: url.Values{
				"title": {d.Title + " (sửa)"}, "kind": {d.Kind}, "starts_on": {d.StartsOn.Format(time.DateOnly)},
				"ends_on": {d.EndsOn.Format(time.DateOnly)}, "status": {"planned"}}}
		},
		decide: onDrillOrg(policy.ReadinessWrite),
	},
	"GET /readiness/maturity": {
		req:    wmGet(wmPath("/readiness/maturity")),
		decide: func(c *wmCase) error { return nil },
	},
}

// TestReadinessPages walks the pages as a provincial administrator: a team,
// people, a member from another organisation refused without an agreement,
// a certificate, a rota with a night gap, a SIM3 assessment with a level
// out of range refused and then saved, the maturity page and the exports.
func TestReadinessPages(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	b := newOrgBrowser(t, e)
	b.login(n.hanoiAdmin)
	base := fmt.Sprintf("/orgs/%d/readiness", n.hanoi.ID)
	if p := b.get(base); p.Status != http.StatusOK || !strings.Contains(p.Body, "Đội ứng cứu sự cố") {
		t.Fatalf("org page: %d", p.Status)
	}
	// Bad input shows the form again, nothing saved.
	p := b.post(base+"/teams", url.Values{"name": {""}, "email": {"x@"}})
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Fatalf("bad team: %d", p.Status)
	}
	if !strings.Contains(p.Body, "Trường này là bắt buộc.") || !strings.Contains(p.Body, "Địa chỉ thư điện tử không hợp lệ.") {
		t.Fatal("bad team: field errors not shown")
	}
	p = b.post(base+"/teams", url.Values{"name": {"Đội ƯCSC Hà Nội"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create team: %d %s", p.Status, p.Body)
	}
	teamPath := p.Location
	ctx := t.Context()
	teams, _ := e.App.Readiness.Teams(ctx, e.Sys, n.hanoi.ID)
	if len(teams) != 1 {
		t.Fatalf("teams: %v", teams)
	}
	tm := teams[0]
	b.get(base)
	if p := b.post(base+"/people", url.Values{"full_name": {"Phạm Thị Dung"}, "ioc_role": {"security"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("person: %d", p.Status)
	}
	people, _ := e.App.Readiness.People(ctx, e.Sys, n.hanoi.ID)
	hospital := e.Org("HN-BV", "Bệnh viện tỉnh", n.hanoi.ID, org.RoleSystemOwner)
	other, err := e.App.Readiness.CreatePerson(ctx, e.Sys, readiness.PersonInput{OrgID: hospital.ID, FullName: "Kỹ sư bệnh viện"})
	if err != nil {
		t.Fatal(err)
	}
	b.get(teamPath)
	if p := b.post(teamPath+"/members", url.Values{"person_id": {fmt.Sprint(people[0].ID)}, "role": {"lead"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("member: %d", p.Status)
	}
	b.get(teamPath)
	p = b.post(teamPath+"/members", url.Values{"person_id": {fmt.Sprint(other.ID)}, "role": {"expert"}})
	if p.Status == http.StatusSeeOther || !strings.Contains(p.Body, "thỏa thuận phối hợp") {
		t.Fatalf("member of another organisation without agreement: %d", p.Status)
	}
	pid := people[0].ID
	if p := b.post(fmt.Sprintf("%s/members/%d/certificates", teamPath, pid), url.Values{"name": {"GCIH"},
		"obtained_on": {time.Now().AddDate(-1, 0, 0).Format(time.DateOnly)}, "expires_on": {"31/12/2027"}}); p.Status == http.StatusSeeOther {
		t.Fatal("unreadable date accepted")
	}
	b.get(teamPath)
	if p := b.post(fmt.Sprintf("%s/members/%d/certificates", teamPath, pid), url.Values{"name": {"GCIH"},
		"obtained_on": {time.Now().AddDate(-1, 0, 0).Format(time.DateOnly)}, "expires_on": {time.Now().AddDate(0, 0, 10).Format(time.DateOnly)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("certificate: %d", p.Status)
	}
	// One day shift only: the night is uncovered.
	start := readiness.WeekStart(e.Clock.Now()).Add(8 * time.Hour)
	b.get(teamPath)
	if p := b.post(teamPath+"/shifts", url.Values{"person_id": {fmt.Sprint(pid)}, "starts_at": {start.Format("2006-01-02T15:04")},
		"ends_at": {start.Add(9 * time.Hour).Format("2006-01-02T15:04")}}); p.Status != http.StatusSeeOther {
		t.Fatalf("shift: %d", p.Status)
	}
	p = b.get(teamPath + "?week=" + start.Format(time.DateOnly))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "7 đêm không có người trực") || !strings.Contains(p.Body, "GCIH") {
		t.Fatalf("team page: %d", p.Status)
	}
	// A shift entered by mistake is deleted: the week has no shift left.
	cov, err := e.App.Readiness.Coverage(ctx, e.Sys, tm.ID, start)
	if err != nil || len(cov.Days[0].Shifts) != 1 {
		t.Fatalf("coverage before delete: %+v %v", cov.Days[0].Shifts, err)
	}
	sh := cov.Days[0].Shifts[0]
	if p := b.post(fmt.Sprintf("%s/shifts/%d/delete", teamPath, sh.ID), url.Values{"week": {start.Format(time.DateOnly)}}); p.Status != http.StatusSeeOther ||
		!strings.Contains(p.Location, "week="+start.Format(time.DateOnly)) {
		t.Fatalf("delete shift: %d %s", p.Status, p.Location)
	}
	if cov, _ := e.App.Readiness.Coverage(ctx, e.Sys, tm.ID, start); len(cov.Days[0].Shifts) != 0 || cov.CoveredMinutes != 0 {
		t.Fatalf("coverage after delete: %+v", cov.Days[0].Shifts)
	}
	b.get(teamPath)
	if p := b.post(fmt.Sprintf("%s/shifts/%d/delete", teamPath, sh.ID), url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("delete a deleted shift: %d", p.Status)
	}
	// SIM3: a level out of range is refused.
	f := url.Values{"assessed_on": {time.Now().Format(time.DateOnly)}}
	for _, x := range readiness.Sim3Params {
		f.Set("level_"+x.ID, "3")
	}
	f.Set("level_O-1", "7")
	b.get(teamPath + "/sim3")
	p = b.post(teamPath+"/sim3", f)
	if p.Status == http.StatusSeeOther || !strings.Contains(p.Body, "Mức SIM3 phải từ 0 đến 4.") {
		t.Fatalf("sim3 level 7: %d", p.Status)
	}
	f.Set("level_O-1", "4")
	if p := b.post(teamPath+"/sim3", f); p.Status != http.StatusSeeOther {
		t.Fatalf("sim3: %d %s", p.Status, p.Body)
	}
	if xs, _ := e.App.Readiness.Assessments(ctx, e.Sys, tm.ID); len(xs) != 1 || xs[0].Total != 3*43+4 {
		t.Fatalf("assessments: %+v", xs)
	}
	if p := b.get("/readiness/maturity"); p.Status != http.StatusOK || !strings.Contains(p.Body, "<svg") {
		t.Fatalf("maturity: %d", p.Status)
	}
	if p := b.get(base + "/people.csv"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Phạm Thị Dung") {
		t.Fatalf("people csv: %d", p.Status)
	}
	if p := b.get(teamPath + "/sim3.csv"); p.Status != http.StatusOK || !strings.Contains(p.Body, "O-1") {
		t.Fatalf("sim3 csv: %d", p.Status)
	}
	// What needs me now: the certificate and the team short of experts.
	if p := b.get("/"); !strings.Contains(p.Body, "Chứng chỉ GCIH của Phạm Thị Dung sắp hết hạn") || !strings.Contains(p.Body, "1/5 chuyên gia") {
		t.Fatalf("dashboard needs missing")
	}
}

// TestReadinessDrillPages: plan a drill, see the province listed as not
// drilled (planned), mark it done, see it gone from the list; bad dates
// shown on the form.
func TestReadinessDrillPages(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.hanoiAdmin)
	p := b.get("/readiness/drills")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "chưa diễn tập") {
		t.Fatalf("drills: %d", p.Status)
	}
	now := n.e.Clock.Now()
	p = b.post("/readiness/drills", url.Values{"org_id": {fmt.Sprint(n.hanoi.ID)}, "title": {"Diễn tập mã độc"}, "kind": {"organisation"},
		"starts_on": {now.Format(time.DateOnly)}, "ends_on": {now.AddDate(0, 0, -3).Format(time.DateOnly)}})
	if p.Status == http.StatusSeeOther || !strings.Contains(p.Body, "Thời điểm kết thúc phải sau thời điểm bắt đầu.") {
		t.Fatalf("bad drill: %d", p.Status)
	}
	p = b.post("/readiness/drills", url.Values{"org_id": {fmt.Sprint(n.hanoi.ID)}, "title": {"Diễn tập mã độc"}, "kind": {"organisation"},
		"starts_on": {now.Format(time.DateOnly)}, "ends_on": {now.Format(time.DateOnly)}, "status": {"done"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("drill: %d %s", p.Status, p.Body)
	}
	if p := b.get(p.Location); p.Status != http.StatusOK || !strings.Contains(p.Body, "Diễn tập mã độc") {
		t.Fatalf("drill page: %d", p.Status)
	}
	r, err := n.e.App.Readiness.Year(t.Context(), n.e.Sys)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range r.NotDrilled {
		if x.OrgID == n.hanoi.ID {
			t.Fatal("Hà Nội drilled and is still listed")
		}
	}
}

// TestReadinessScenarioPages: the national level adds a catalogue
// scenario, a province may not; the province copies it and sees it ranked.
func TestReadinessScenarioPages(t *testing.T) {
	n := newOrgNet(t)
	nat := newOrgBrowser(t, n.e)
	nat.login(n.adminName)
	nat.get("/readiness/scenarios")
	if p := nat.post("/readiness/scenarios", url.Values{"title": {"Mã độc tống tiền"}, "category": {"attack"}, "likelihood": {"4"}, "impact": {"5"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("catalogue: %d %s", p.Status, p.Body)
	}
	p := nat.post("/readiness/scenarios", url.Values{"title": {"x"}, "category": {"attack"}, "likelihood": {"9"}, "impact": {"5"}})
	if p.Status == http.StatusSeeOther || !strings.Contains(p.Body, "Giá trị phải từ 1 đến 5.") {
		t.Fatalf("likelihood 9: %d", p.Status)
	}
	hn := newOrgBrowser(t, n.e)
	hn.login(n.hanoiAdmin)
	hn.get("/readiness/scenarios")
	if p := hn.post("/readiness/scenarios", url.Values{"title": {"y"}, "category": {"attack"}, "likelihood": {"1"}, "impact": {"1"}}); p.Status != http.StatusForbidden {
		t.Fatalf("province writes the catalogue: %d", p.Status)
	}
	cat, _ := n.e.App.Readiness.Scenarios(t.Context(), n.e.Sys, 0)
	base := fmt.Sprintf("/orgs/%d/readiness/scenarios", n.hanoi.ID)
	hn.get(base)
	if p := hn.post(base+"/copy", url.Values{"scenario_id": {fmt.Sprint(cat[0].ID)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("copy: %d", p.Status)
	}
	if p := hn.get(base); p.Status != http.StatusOK || !strings.Contains(p.Body, "Mã độc tống tiền") || !strings.Contains(p.Body, "từ danh mục") {
		t.Fatalf("scenarios page: %d", p.Status)
	}
}
