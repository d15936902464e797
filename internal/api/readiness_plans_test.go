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

func init() { addMatrixRoutes(readinessPlanMatrix) }

// mxPlan makes (as the system) a plan of the target ready to submit, in
// status draft or submitted.
func mxPlan(t *testing.T, c *mCase, status string) readiness.PlanDetail {
	s, ctx, sys := c.m.e.App.Readiness, c.m.ctx, c.m.e.Sys
	sc, err := s.CreateScenario(ctx, sys, readiness.ScenarioInput{OrgID: c.t.org.ID, Title: fmt.Sprintf("Ransomware %d", c.n),
		Category: readiness.CategoryAttack, Likelihood: 4, Impact: 5})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := s.CreateTeam(ctx, sys, readiness.TeamInput{OrgID: c.t.org.ID, Name: fmt.Sprintf("Đội PA %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreatePlan(ctx, sys, c.t.org.ID, readiness.PlanInput{Title: fmt.Sprintf("Phương án %d", c.n), Scope: "Toàn bộ",
		Options: []readiness.OptionInput{{ScenarioID: sc.ID, Steps: "Cô lập"}}, TeamIDs: []int64{tm.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if status == readiness.PlanSubmitted {
		if p, err = s.SubmitPlan(ctx, sys, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func mxPlanPath(status, rest string) func(t *testing.T, c *mCase) string {
	return func(t *testing.T, c *mCase) string {
		return fmt.Sprintf("/api/v1/readiness/plans/%d%s", mxPlan(t, c, status).ID, rest)
	}
}

func mxReq(path func(t *testing.T, c *mCase) string, body string) func(t *testing.T, c *mCase) (string, string) {
	return func(t *testing.T, c *mCase) (string, string) { return path(t, c), body }
}

// mxPersonCert makes (as the system) a person of the target with a certificate.
func mxPersonCert(t *testing.T, c *mCase) (readiness.Person, readiness.Certificate) {
	p, err := c.m.e.App.Readiness.CreatePerson(c.m.ctx, c.m.e.Sys, readiness.PersonInput{OrgID: c.t.org.ID, FullName: fmt.Sprintf("Người %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.m.e.App.Readiness.AddCertificate(c.m.ctx, c.m.e.Sys, p.ID, readiness.CertificateInput{Name: "CEH",
		ObtainedOn: time.Now().AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return p, cert
}

// mxTeamShift makes (as the system) a team of the target with a member on duty.
func mxTeamShift(t *testing.T, c *mCase) (int64, readiness.Person, readiness.Shift) {
	s := c.m.e.App.Readiness
	tid := mxTeam(t, c)
	p, _ := mxPersonCert(t, c)
	if _, err := s.AddMember(c.m.ctx, c.m.e.Sys, tid, p.ID, readiness.RoleMember); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Hour)
	sh, err := s.AddShift(c.m.ctx, c.m.e.Sys, tid, readiness.ShiftInput{PersonID: p.ID, StartsAt: start, EndsAt: start.Add(8 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tid, p, sh
}

const planBody = `{"title":"Phương án (sửa)","scope":"Toàn bộ"}`

var certBodyJSON = fmt.Sprintf(`{"name":"CISSP","obtained_on":"%s"}`, time.Now().AddDate(0, -1, 0).Format(time.DateOnly))

var readinessPlanMatrix = map[string]mRoute{
	"GET /api/v1/readiness/plans": {
		req:    static("/api/v1/readiness/plans", ""),
		decide: func(*mCase) error { return nil },
	},
	"GET /api/v1/orgs/{id}/readiness/plans": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/readiness/plans"), "" },
		decide: decideReadinessOrg(),
	},
	"POST /api/v1/orgs/{id}/readiness/plans": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/readiness/plans"), jsonBody(map[string]any{"title": fmt.Sprintf("Phương án %d", c.n)})
		},
		decide: decideReadinessOrg(policy.ReadinessWrite),
	},
	"GET /api/v1/readiness/plans/{pid}": {
		req:    mxReq(mxPlanPath(readiness.PlanDraft, ""), ""),
		decide: decideReadiness(),
	},
	"PUT /api/v1/readiness/plans/{pid}": {
		req:    mxReq(mxPlanPath(readiness.PlanDraft, ""), planBody),
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"DELETE /api/v1/readiness/plans/{pid}": {
		req:    mxReq(mxPlanPath(readiness.PlanDraft, ""), ""),
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"POST /api/v1/readiness/plans/{pid}/submit": {
		req:    mxReq(mxPlanPath(readiness.PlanDraft, "/submit"), ""),
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"POST /api/v1/readiness/plans/{pid}/approve": {
		req:    mxReq(mxPlanPath(readiness.PlanSubmitted, "/approve"), `{"approver_title":"GIÁM ĐỐC"}`),
		decide: decideReadiness(policy.ReadinessPlanApprove),
	},
	"POST /api/v1/readiness/plans/{pid}/return": {
		req:    mxReq(mxPlanPath(readiness.PlanSubmitted, "/return"), `{"reason":"Bổ sung kinh phí"}`),
		decide: decideReadiness(policy.ReadinessPlanApprove),
	},
	"GET /api/v1/readiness/plans/{pid}/versions": {
		req:    mxReq(mxPlanPath(readiness.PlanDraft, "/versions"), ""),
		decide: decideReadiness(),
	},
	"GET /api/v1/readiness/plans/{pid}/versions/{n}": {
		req:    mxReq(mxPlanPath(readiness.PlanDraft, "/versions/1"), ""),
		decide: decideReadiness(),
	},
	"GET /api/v1/readiness/people/{pid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			p, _ := mxPersonCert(t, c)
			return fmt.Sprintf("/api/v1/readiness/people/%d", p.ID), ""
		},
		decide: decideReadiness(),
	},
	"PUT /api/v1/readiness/people/{pid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			p, _ := mxPersonCert(t, c)
			return fmt.Sprintf("/api/v1/readiness/people/%d", p.ID), `{"full_name":"Hoàng Văn Em","ioc_role":"security"}`
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"DELETE /api/v1/readiness/people/{pid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			p, _ := mxPersonCert(t, c)
			return fmt.Sprintf("/api/v1/readiness/people/%d", p.ID), ""
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"POST /api/v1/readiness/people/{pid}/certificates": {
		req: func(t *testing.T, c *mCase) (string, string) {
			p, _ := mxPersonCert(t, c)
			return fmt.Sprintf("/api/v1/readiness/people/%d/certificates", p.ID), certBodyJSON
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"PUT /api/v1/readiness/people/{pid}/certificates/{cid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			p, cert := mxPersonCert(t, c)
			return fmt.Sprintf("/api/v1/readiness/people/%d/certificates/%d", p.ID, cert.ID), certBodyJSON
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"DELETE /api/v1/readiness/people/{pid}/certificates/{cid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			p, cert := mxPersonCert(t, c)
			return fmt.Sprintf("/api/v1/readiness/people/%d/certificates/%d", p.ID, cert.ID), ""
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"GET /api/v1/readiness/teams/{tid}/shifts": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/readiness/teams/%d/shifts?from=2026-11-23&to=2026-11-30", mxTeam(t, c)), ""
		},
		decide: decideReadiness(),
	},
	"POST /api/v1/readiness/teams/{tid}/shifts": {
		req: func(t *testing.T, c *mCase) (string, string) {
			tid, p, sh := mxTeamShift(t, c)
			start := sh.EndsAt
			return fmt.Sprintf("/api/v1/readiness/teams/%d/shifts", tid), jsonBody(map[string]any{"person_id": p.ID,
				"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(8 * time.Hour).Format(time.RFC3339)})
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
	"DELETE /api/v1/readiness/teams/{tid}/shifts/{sid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			tid, _, sh := mxTeamShift(t, c)
			return fmt.Sprintf("/api/v1/readiness/teams/%d/shifts/%d", tid, sh.ID), ""
		},
		decide: decideReadiness(policy.ReadinessWrite),
	},
}

// TestReadinessPlanAPI: a plan through the API — refused input named,
// submitted, approved by the province, changed into version 2 whose
// changes are listed; a person and a certificate corrected and deleted; the
// rota listed, a shift added and removed.
func TestReadinessPlanAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nc := e.Org("NC", "Trung tâm điều phối", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Sở KH&CN Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	dn := e.Org("DN", "Sở KH&CN Đà Nẵng", nc.ID, org.RoleProvincialResponseUnit)
	tok := e.Token(e.User(hn.ID, "admin.hn", policy.RoleAdmin), "read", "write")
	coordTok := e.Token(e.User(hn.ID, "coord.hn", policy.RoleCoordinator), "read", "write")
	dnTok := e.Token(e.User(dn.ID, "admin.dn", policy.RoleAdmin), "read", "write")
	ctx := t.Context()
	s := e.App.Readiness
	sc, err := s.CreateScenario(ctx, e.Sys, readiness.ScenarioInput{OrgID: hn.ID, Title: "Ransomware", Category: readiness.CategoryAttack,
		Likelihood: 4, Impact: 5})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := s.CreateTeam(ctx, e.Sys, readiness.TeamInput{OrgID: hn.ID, Name: "Đội ƯCSC"})
	if err != nil {
		t.Fatal(err)
	}
	plans := fmt.Sprintf("/api/v1/orgs/%d/readiness/plans", hn.ID)
	r := call(t, e, http.MethodPost, plans, coordTok, fmt.Sprintf(`{"title":"Phương án","scenarios":[{"scenario_id":%d,"budget_vnd":-5}],
		"team_ids":[999]}`, sc.ID), nil)
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), fmt.Sprintf("budget_%d", sc.ID)) ||
		!strings.Contains(string(r.Body), "teams") {
		t.Fatalf("bad plan: %d %s", r.Status, r.Body)
	}
	body := fmt.Sprintf(`{"title":"Phương án ứng cứu Hà Nội","scope":"Toàn bộ hệ thống","scenarios":[{"scenario_id":%d,"steps":"Cô lập",
		"budget_vnd":150000000}],"team_ids":[%d]}`, sc.ID, tm.ID)
	r = call(t, e, http.MethodPost, plans, coordTok, body, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create plan: %d %s", r.Status, r.Body)
	}
	var p struct {
		ID     int64 `json:"id"`
		Latest struct {
			Version int    `json:"version"`
			Status  string `json:"status"`
		} `json:"latest"`
		Review string `json:"review"`
	}
	r.into(t, &p)
	path := fmt.Sprintf("/api/v1/readiness/plans/%d", p.ID)
	if r = call(t, e, http.MethodGet, path, dnTok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("another province reads: %d", r.Status)
	}
	if r = call(t, e, http.MethodPost, path+"/submit", coordTok, "", nil); r.Status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodPost, path+"/approve", coordTok, "", nil); r.Status != http.StatusForbidden {
		t.Fatalf("coordinator approves: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodPut, path, coordTok, body, nil); r.Status != http.StatusConflict {
		t.Fatalf("edit submitted: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodPost, path+"/approve", tok, `{"approver_title":"GIÁM ĐỐC"}`, nil); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	r.into(t, &p)
	if p.Latest.Status != readiness.PlanApproved || p.Review != readiness.ReviewOK {
		t.Fatalf("approved: %+v", p)
	}
	if r = call(t, e, http.MethodDelete, path, tok, "", nil); r.Status != http.StatusConflict {
		t.Fatalf("delete approved: %d %s", r.Status, r.Body)
	}
	body = strings.Replace(body, `"steps":"Cô lập"`, `"steps":"Cô lập\nKhôi phục"`, 1)
	if r = call(t, e, http.MethodPut, path, coordTok, body, nil); r.Status != http.StatusOK {
		t.Fatalf("new version: %d %s", r.Status, r.Body)
	}
	r = call(t, e, http.MethodGet, path+"/versions/2", tok, "", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `{"op":"+","text":"     Khôi phục"}`) {
		t.Fatalf("version 2: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodGet, path+"/versions/3", tok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("version 3: %d", r.Status)
	}
	var vs struct {
		Items []struct {
			Version int    `json:"version"`
			Status  string `json:"status"`
		} `json:"items"`
	}
	call(t, e, http.MethodGet, path+"/versions", tok, "", nil).into(t, &vs)
	if len(vs.Items) != 2 || vs.Items[0].Status != readiness.PlanDraft || vs.Items[1].Status != readiness.PlanApproved {
		t.Fatalf("versions: %+v", vs)
	}

	// People and certificates.
	person, err := s.CreatePerson(ctx, e.Sys, readiness.PersonInput{OrgID: hn.ID, FullName: "Nguyễn Văn An"})
	if err != nil {
		t.Fatal(err)
	}
	pp := fmt.Sprintf("/api/v1/readiness/people/%d", person.ID)
	if r = call(t, e, http.MethodPut, pp, tok, `{"full_name":"","email":"x@"}`, nil); r.Status != http.StatusBadRequest &&
		r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "full_name") {
		t.Fatalf("bad person: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodPut, pp, tok, `{"full_name":"Nguyễn Văn Anh","title":"Kỹ sư"}`, nil); r.Status != http.StatusOK ||
		!strings.Contains(string(r.Body), "Nguyễn Văn Anh") {
		t.Fatalf("edit person: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodPost, pp+"/certificates", tok, `{"name":"CEH","obtained_on":"26/11/2025"}`, nil); r.Status != http.StatusBadRequest &&
		r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "obtained_on") {
		t.Fatalf("bad certificate: %d %s", r.Status, r.Body)
	}
	r = call(t, e, http.MethodPost, pp+"/certificates", tok, certBodyJSON, nil)
	var cert struct {
		ID int64 `json:"id"`
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("certificate: %d %s", r.Status, r.Body)
	}
	r.into(t, &cert)
	cp := fmt.Sprintf("%s/certificates/%d", pp, cert.ID)
	if r = call(t, e, http.MethodPut, cp, tok, `{"name":"CISSP","obtained_on":"2025-01-10","expires_on":"2028-01-10"}`, nil); r.Status != http.StatusOK {
		t.Fatalf("edit certificate: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodDelete, cp, dnTok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("another province deletes a certificate: %d", r.Status)
	}
	if r = call(t, e, http.MethodDelete, cp, tok, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete certificate: %d %s", r.Status, r.Body)
	}

	// The rota.
	if _, err := s.AddMember(ctx, e.Sys, tm.ID, person.ID, readiness.RoleLead); err != nil {
		t.Fatal(err)
	}
	sp := fmt.Sprintf("/api/v1/readiness/teams/%d/shifts", tm.ID)
	start := time.Now().Truncate(time.Hour)
	if r = call(t, e, http.MethodPost, sp, tok, jsonBody(map[string]any{"person_id": person.ID, "starts_at": start.Format(time.RFC3339),
		"ends_at": start.Add(30 * time.Hour).Format(time.RFC3339)}), nil); r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), "ends_at") {
		t.Fatalf("long shift: %d %s", r.Status, r.Body)
	}
	r = call(t, e, http.MethodPost, sp, tok, jsonBody(map[string]any{"person_id": person.ID, "starts_at": start.Format(time.RFC3339),
		"ends_at": start.Add(8 * time.Hour).Format(time.RFC3339)}), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("shift: %d %s", r.Status, r.Body)
	}
	var sh struct {
		ID int64 `json:"id"`
	}
	r.into(t, &sh)
	q := fmt.Sprintf("?from=%s&to=%s", start.Add(-time.Hour).Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
	var list struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	call(t, e, http.MethodGet, sp+strings.ReplaceAll(q, "+", "%2B"), tok, "", nil).into(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != sh.ID {
		t.Fatalf("shifts: %+v", list)
	}
	if r = call(t, e, http.MethodGet, sp+"?from=tomorrow", tok, "", nil); r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad from: %d", r.Status)
	}
	if r = call(t, e, http.MethodDelete, fmt.Sprintf("%s/%d", sp, sh.ID), tok, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete shift: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodDelete, fmt.Sprintf("%s/%d", sp, sh.ID), tok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("delete shift twice: %d", r.Status)
	}
	// Deleting the person takes them off the team.
	if r = call(t, e, http.MethodDelete, pp, tok, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete person: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, http.MethodGet, pp, tok, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("deleted person: %d", r.Status)
	}
}
