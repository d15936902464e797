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

func init() {
	addWMRoutes(wmPlanRoutes)
	addWMRoutes(wmPersonRoutes)
}

// wmPersonReq builds a request on a fresh person of the target with a
// certificate ({cid} in rest).
func wmPersonReq(method, rest string, form url.Values) func(*testing.T, *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		if c.anon {
			return wmReq{method: method, path: c.orgPath("/readiness/people/1" + strings.ReplaceAll(rest, "{cid}", "1")), form: url.Values{}}
		}
		p := wmPerson(t, c)
		cert, err := c.m.e.App.Readiness.AddCertificate(c.m.ctx, c.m.e.Sys, p.ID, readiness.CertificateInput{Name: "CEH",
			ObtainedOn: time.Now().AddDate(-1, 0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		path := c.orgPath(fmt.Sprintf("/readiness/people/%d", p.ID) + strings.ReplaceAll(rest, "{cid}", fmt.Sprint(cert.ID)))
		return wmReq{method: method, path: path, form: f}
	}
}

var wmCertForm = url.Values{"name": {"CISSP"}, "obtained_on": {time.Now().AddDate(0, -1, 0).Format(time.DateOnly)}}

var wmPersonRoutes = map[string]wmRoute{
	"GET /orgs/{id}/readiness/people/{pid}": {
		req:    wmPersonReq(http.MethodGet, "", nil),
		decide: onReadiness(),
	},
	"POST /orgs/{id}/readiness/people/{pid}": {
		req:    wmPersonReq(http.MethodPost, "", url.Values{"full_name": {"Hoàng Văn Em"}, "ioc_role": {"operator"}}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/people/{pid}/delete": {
		req:    wmPersonReq(http.MethodPost, "/delete", nil),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/people/{pid}/certificates": {
		req:    wmPersonReq(http.MethodPost, "/certificates", wmCertForm),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/people/{pid}/certificates/{cid}": {
		req:    wmPersonReq(http.MethodPost, "/certificates/{cid}", wmCertForm),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/people/{pid}/certificates/{cid}/delete": {
		req:    wmPersonReq(http.MethodPost, "/certificates/{cid}/delete", nil),
		decide: onReadiness(policy.ReadinessWrite),
	},
}

// wmPlan makes (as the system) a plan of the target, ready to submit, and
// takes it to status (draft or submitted).
func wmPlan(t *testing.T, c *wmCase, status string) readiness.PlanDetail {
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
	p, err := s.CreatePlan(ctx, sys, c.t.org.ID, readiness.PlanInput{Title: fmt.Sprintf("Phương án %d", c.n), Scope: "Toàn bộ hệ thống",
		Options: []readiness.OptionInput{{ScenarioID: sc.ID, Steps: "Cô lập, khôi phục"}}, TeamIDs: []int64{tm.ID}})
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

// wmPlanReq builds a request on a fresh plan of the target in status.
func wmPlanReq(method, rest, status string, form url.Values) func(*testing.T, *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		if c.anon {
			return wmReq{method: method, path: c.orgPath("/readiness/plans/1" + rest), form: url.Values{}}
		}
		p := wmPlan(t, c, status)
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		return wmReq{method: method, path: c.orgPath(fmt.Sprintf("/readiness/plans/%d%s", p.ID, rest)), form: f}
	}
}

// wmDrainOutbox fans out the notifications the plan routes queue (a
// submission, a decision), so that they do not pile up ahead of the
// matrix's own inbox entries.
func wmDrainOutbox(t *testing.T, c *wmCase) {
	for {
		n, err := c.m.e.App.Notify.Fanout(c.m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

var wmPlanRoutes = map[string]wmRoute{
	"GET /readiness/plans": {
		req:    wmGet(wmPath("/readiness/plans")),
		decide: func(c *wmCase) error { return nil },
	},
	"GET /orgs/{id}/readiness/plans": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/plans") }),
		decide: onReadiness(),
	},
	"GET /readiness/plans.csv": {
		req:    wmGet(wmPath("/readiness/plans.csv")),
		decide: func(c *wmCase) error { return nil },
		ctype:  "text/csv",
	},
	"GET /readiness/plans.xlsx": {
		req:    wmGet(wmPath("/readiness/plans.xlsx")),
		decide: func(c *wmCase) error { return nil },
		ctype:  xlsxType,
	},
	"GET /orgs/{id}/readiness/plans.csv": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/plans.csv") }),
		decide: onReadiness(),
		ctype:  "text/csv",
	},
	"GET /orgs/{id}/readiness/plans.xlsx": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/plans.xlsx") }),
		decide: onReadiness(),
		ctype:  xlsxType,
	},
	"GET /orgs/{id}/readiness/plans/new": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/readiness/plans/new") }),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/plans": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/readiness/plans") }, func(c *wmCase) url.Values {
			return url.Values{"title": {fmt.Sprintf("Phương án %d", c.n)}, "scope": {"Toàn bộ"}}
		}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"GET /orgs/{id}/readiness/plans/{pid}": {
		req:    wmPlanReq(http.MethodGet, "", readiness.PlanDraft, nil),
		decide: onReadiness(),
	},
	"GET /orgs/{id}/readiness/plans/{pid}/edit": {
		req:    wmPlanReq(http.MethodGet, "/edit", readiness.PlanDraft, nil),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/plans/{pid}": {
		req:    wmPlanReq(http.MethodPost, "", readiness.PlanDraft, url.Values{"title": {"Phương án (sửa)"}}),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"POST /orgs/{id}/readiness/plans/{pid}/submit": {
		req:    wmPlanReq(http.MethodPost, "/submit", readiness.PlanDraft, nil),
		decide: onReadiness(policy.ReadinessWrite),
		after:  wmDrainOutbox,
	},
	"POST /orgs/{id}/readiness/plans/{pid}/approve": {
		req:    wmPlanReq(http.MethodPost, "/approve", readiness.PlanSubmitted, url.Values{"approver_title": {"GIÁM ĐỐC"}}),
		decide: onReadiness(policy.ReadinessPlanApprove),
		after:  wmDrainOutbox,
	},
	"POST /orgs/{id}/readiness/plans/{pid}/return": {
		req:    wmPlanReq(http.MethodPost, "/return", readiness.PlanSubmitted, url.Values{"reason": {"Bổ sung kinh phí"}}),
		decide: onReadiness(policy.ReadinessPlanApprove),
		after:  wmDrainOutbox,
	},
	"POST /orgs/{id}/readiness/plans/{pid}/delete": {
		req:    wmPlanReq(http.MethodPost, "/delete", readiness.PlanDraft, nil),
		decide: onReadiness(policy.ReadinessWrite),
	},
	"GET /orgs/{id}/readiness/plans/{pid}/print": {
		req:    wmPlanReq(http.MethodGet, "/print", readiness.PlanDraft, nil),
		decide: onReadiness(),
	},
}

// TestReadinessPlanPages walks a plan through the pages: a budget that is
// not a number refused with what was typed kept, a draft that cannot be
// submitted yet, the completed plan submitted, approved by the province's
// administrator, printed in the national layout, then changed into a new
// version whose changes are shown; another province does not see it.
func TestReadinessPlanPages(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := t.Context()
	s := e.App.Readiness
	sc, err := s.CreateScenario(ctx, e.Sys, readiness.ScenarioInput{OrgID: n.hanoi.ID, Title: "Tấn công mã hóa dữ liệu bệnh viện",
		Category: readiness.CategoryAttack, Likelihood: 4, Impact: 5})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := s.CreateTeam(ctx, e.Sys, readiness.TeamInput{OrgID: n.hanoi.ID, Name: "Đội ƯCSC Hà Nội"})
	if err != nil {
		t.Fatal(err)
	}
	person, err := s.CreatePerson(ctx, e.Sys, readiness.PersonInput{OrgID: n.hanoi.ID, FullName: "Vũ Thị Hạnh"})
	if err != nil {
		t.Fatal(err)
	}
	b := newOrgBrowser(t, e)
	b.login(n.hanoiAdmin)
	base := fmt.Sprintf("/orgs/%d/readiness/plans", n.hanoi.ID)
	if p := b.get(base + "/new"); p.Status != http.StatusOK || !strings.Contains(p.Body, sc.Title) || !strings.Contains(p.Body, person.FullName) {
		t.Fatalf("new plan form: %d %s", p.Status, p.Body)
	}
	sid := fmt.Sprint(sc.ID)
	form := url.Values{"title": {"Phương án ứng cứu sự cố TP Hà Nội"}, "cover": {sid}, "steps_" + sid: {"Cô lập máy chủ"},
		"budget_" + sid: {"một trăm triệu"}, "people_" + sid: {fmt.Sprint(person.ID)}}
	p := b.post(base, form)
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Fatalf("bad budget: %d", p.Status)
	}
	orgWant(t, "bad budget", p.Body, "Kinh phí phải là số tiền", "một trăm triệu", "Cô lập máy chủ")
	if ps, _ := s.Plans(ctx, e.Sys, n.hanoi.ID); len(ps) != 0 {
		t.Fatalf("plans after bad input: %v", ps)
	}
	form.Set("budget_"+sid, "150.000.000")
	p = b.post(base, form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	planPath := p.Location
	p = b.get(planPath)
	orgWant(t, "plan page", p.Body, "Dự thảo", "150.000.000 ₫", "Vũ Thị Hạnh", "2.1. Tấn công mã hóa dữ liệu bệnh viện")
	// Not ready: the page says what is missing.
	p = b.post(planPath+"/submit", url.Values{})
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Fatalf("submit incomplete: %d", p.Status)
	}
	orgWant(t, "submit incomplete", p.Body, "Cần ít nhất một đầu mối liên hệ hoặc một đội ứng cứu sự cố.")
	form.Set("scope", "Các hệ thống thông tin của Sở.")
	form["teams"] = []string{fmt.Sprint(tm.ID)}
	if p = b.post(planPath, form); p.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.Status, p.Body)
	}
	if p = b.post(planPath+"/submit", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", p.Status, p.Body)
	}
	// The province's administrator has it waiting on the dashboard.
	orgWant(t, "dashboard", b.get("/").Body, "Phương án ứng cứu sự cố TP Hà Nội (Sở Khoa học và Công nghệ Hà Nội) chờ phê duyệt")
	// So has the national coordinator's (the parent's) administrator.
	nat := newOrgBrowser(t, e)
	nat.login(n.adminName)
	orgWant(t, "national dashboard", nat.get("/").Body, "Phương án ứng cứu sự cố TP Hà Nội (Sở Khoa học và Công nghệ Hà Nội) chờ phê duyệt")
	if p = b.post(planPath+"/return", url.Values{"reason": {""}}); p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Fatalf("return without reason: %d", p.Status)
	}
	if p = b.post(planPath+"/approve", url.Values{"approver_title": {"KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", p.Status, p.Body)
	}
	p = b.get(planPath + "/print")
	orgWant(t, "print", p.Body, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", strings.ToUpper(n.hanoi.Name),
		"PHƯƠNG ÁN ỨNG CỨU SỰ CỐ AN TOÀN THÔNG TIN MẠNG", "KT. GIÁM ĐỐC", "1. Phạm vi và hệ thống được bảo vệ",
		"5. Báo cáo và leo thang", "quantri.hanoi")
	orgWantNot(t, "print", p.Body, "Chưa phê duyệt")
	orgWant(t, "export", b.get(base+".csv").Body, "Phương án ứng cứu sự cố TP Hà Nội", "Đã phê duyệt", "150000000", "AMBER")
	// The list filters by status and review, in the URL; the export follows.
	orgWant(t, "approved filter", b.get(base+"?status=approved&review=ok").Body, "Phương án ứng cứu sự cố TP Hà Nội",
		`href="/orgs/`+fmt.Sprint(n.hanoi.ID)+`/readiness/plans.csv?status=approved&amp;review=ok"`)
	orgWantNot(t, "draft filter", b.get(base+"?status=draft").Body, "Phương án ứng cứu sự cố TP Hà Nội</a>")
	orgWantNot(t, "overdue export", b.get(base+".csv?review=overdue").Body, "Phương án ứng cứu sự cố TP Hà Nội")
	// A change makes version 2; the page shows what changed.
	form.Set("steps_"+sid, "Cô lập máy chủ\nKhôi phục từ bản sao lưu")
	if p = b.post(planPath, form); p.Status != http.StatusSeeOther {
		t.Fatalf("new version: %d %s", p.Status, p.Body)
	}
	p = b.get(planPath)
	orgWant(t, "version 2", p.Body, "Phiên bản 2", "Thay đổi so với phiên bản 1", "<ins>     Khôi phục từ bản sao lưu</ins>", "Đang có hiệu lực: phiên bản 1")
	if p = b.get(planPath + "?v=1"); p.Status != http.StatusOK || strings.Contains(p.Body, "<ins>") {
		t.Fatalf("version 1: %d", p.Status)
	}
	if p = b.get(planPath + "?v=9"); p.Status != http.StatusNotFound {
		t.Fatalf("version 9: %d", p.Status)
	}
	// Another province's administrator does not see it.
	e.User(n.danang.ID, "quantri.danang", policy.RoleAdmin)
	other := newOrgBrowser(t, e)
	other.login("quantri.danang")
	if p = other.get(planPath); p.Status != http.StatusNotFound {
		t.Fatalf("another province: %d", p.Status)
	}
}

// TestReadinessPersonPage: a person's details corrected (a bad address
// refused with what was typed kept), a certificate corrected and deleted, the
// person deleted; a viewer sees the page without the forms.
func TestReadinessPersonPage(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := t.Context()
	s := e.App.Readiness
	p, err := s.CreatePerson(ctx, e.Sys, readiness.PersonInput{OrgID: n.hanoi.ID, FullName: "Nguyễn Văn An"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddCertificate(ctx, e.Sys, p.ID, readiness.CertificateInput{Name: "CEH", ObtainedOn: time.Now().AddDate(-1, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	b := newOrgBrowser(t, e)
	b.login(n.hanoiAdmin)
	path := fmt.Sprintf("/orgs/%d/readiness/people/%d", n.hanoi.ID, p.ID)
	orgWant(t, "readiness page", b.get(fmt.Sprintf("/orgs/%d/readiness", n.hanoi.ID)).Body, path)
	pg := b.post(path, url.Values{"full_name": {"Nguyễn Văn Anh"}, "email": {"anh@"}, "ioc_role": {"security"}})
	if pg.Status != http.StatusUnprocessableEntity && pg.Status != http.StatusBadRequest {
		t.Fatalf("bad edit: %d", pg.Status)
	}
	orgWant(t, "bad edit", pg.Body, "Địa chỉ thư điện tử không hợp lệ.", `value="Nguyễn Văn Anh"`)
	if got, _ := s.Person(ctx, e.Sys, p.ID); got.FullName != "Nguyễn Văn An" {
		t.Fatalf("saved after bad input: %+v", got)
	}
	if pg = b.post(path, url.Values{"full_name": {"Nguyễn Văn Anh"}, "email": {"anh@hanoi.gov.vn"}, "ioc_role": {"security"}}); pg.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", pg.Status, pg.Body)
	}
	cp := fmt.Sprintf("%s/certificates/%d", path, c.ID)
	pg = b.post(cp, url.Values{"name": {"CEH v12"}, "obtained_on": {"2025-01-10"}, "expires_on": {"2024-01-10"}})
	if pg.Status != http.StatusUnprocessableEntity && pg.Status != http.StatusBadRequest {
		t.Fatalf("bad certificate: %d", pg.Status)
	}
	orgWant(t, "bad certificate", pg.Body, "Thời điểm kết thúc phải sau thời điểm bắt đầu.", `value="CEH v12"`)
	if pg = b.post(cp, url.Values{"name": {"CEH v12"}, "obtained_on": {"2025-01-10"}, "expires_on": {"2028-01-10"}}); pg.Status != http.StatusSeeOther {
		t.Fatalf("certificate: %d %s", pg.Status, pg.Body)
	}
	orgWant(t, "person page", b.get(path).Body, "Nguyễn Văn Anh", "CEH v12", "10/01/2028")
	viewer := newOrgBrowser(t, e)
	viewer.login(n.viewerHN)
	vp := viewer.get(path)
	orgWant(t, "viewer", vp.Body, "CEH v12")
	orgWantNot(t, "viewer", vp.Body, "/delete")
	if pg = viewer.post(cp+"/delete", url.Values{}); pg.Status != http.StatusForbidden {
		t.Fatalf("viewer deletes: %d", pg.Status)
	}
	if pg = b.post(cp+"/delete", url.Values{}); pg.Status != http.StatusSeeOther {
		t.Fatalf("delete certificate: %d", pg.Status)
	}
	if pg = b.post(path+"/delete", url.Values{}); pg.Status != http.StatusSeeOther {
		t.Fatalf("delete person: %d", pg.Status)
	}
	if pg = b.get(path); pg.Status != http.StatusNotFound {
		t.Fatalf("deleted person: %d", pg.Status)
	}
}
