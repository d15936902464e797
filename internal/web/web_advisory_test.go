package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmAdvisoryRoutes) }

// --- scenario: the national coordinator publishes an advisory to the
// banking sector, a bank acknowledges and reports remediation, the rates
// follow ---

func TestWebAdvisory(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	bank, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: "NH-HN", Name: "Ngân hàng Thủ đô", ParentID: n.hanoi.ID, Sector: org.SectorBanking,
		Roles: []org.Role{org.RoleSystemOwner}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	e.User(n.nat.ID, "canhbao", policy.RoleCoordinator)
	e.User(bank.ID, "nganhang.it", policy.RoleReporter)
	e.User(n.isp.ID, "isp.viewer", policy.RoleViewer)

	nb := newOrgBrowser(t, e)
	nb.login("canhbao")
	p := nb.get("/advisories/new")
	orgWant(t, "form", p.Body, `name="sector"`, `name="deadline_at"`, `value="banking"`)
	deadline := e.Clock.Now().In(time.FixedZone("ICT", 7*3600)).Add(72 * time.Hour).Format("2006-01-02T15:04")
	form := url.Values{"title": {"Lỗ hổng nghiêm trọng trên cổng VPN"}, "summary": {"Khai thác từ xa, không cần xác thực."},
		"actions": {"Cập nhật bản vá, rà soát nhật ký."}, "severity": {"critical"}, "tlp": {"AMBER"}, "deadline_at": {deadline},
		"cves": {"CVE-2023-0001, cve-2024-3400"}, "products": {"Palo Alto | PAN-OS | 10.2"}, "sector": {"banking"}}
	// A bad CVE and an unknown organisation code: the form again, with
	// what was typed, nothing saved.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("cves", "CVE-2023")
	bad.Set("orgs", "KHONG-CO")
	p = nb.post("/advisories", bad)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="targeting-err"`) || !strings.Contains(p.Body, "Lỗ hổng nghiêm trọng trên cổng VPN") {
		t.Fatalf("bad form: %d", p.Status)
	}
	p = nb.post("/advisories", form)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/advisories/") {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	path := p.Location
	// The draft is edited: the form shows what was saved, a change is kept.
	p = nb.get(path + "/edit")
	orgWant(t, "edit form", p.Body, "CVE-2023-0001, CVE-2024-3400", "Palo Alto | PAN-OS | 10.2")
	edit := url.Values{}
	for k, v := range form {
		edit[k] = v
	}
	edit.Set("summary", "Khai thác từ xa, không cần xác thực; đã có mã khai thác công khai.")
	if p := nb.post(path+"/edit", edit); p.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.Status, p.Body)
	}
	p = nb.get(path)
	orgWant(t, "draft", p.Body, "CVE-2024-3400", "/publish", "1 đơn vị", "mã khai thác công khai")
	if p := nb.post(path+"/publish", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", p.Status, p.Body)
	}

	nb.get(path + "/edit")
	if p := nb.post(path+"/edit", edit); p.Status != http.StatusConflict {
		t.Fatalf("edit after publish: %d", p.Status)
	}

	// The ISP, outside the sector, does not see it.
	ib := newOrgBrowser(t, e)
	ib.login("isp.viewer")
	if p := ib.get(path); p.Status != http.StatusNotFound {
		t.Fatalf("ISP sees the advisory: %d", p.Status)
	}

	// The bank sees it on its dashboard, acknowledges, reports.
	bb := newOrgBrowser(t, e)
	bb.login("nganhang.it")
	p = bb.get("/")
	orgWant(t, "dashboard", p.Body, path)
	p = bb.get("/advisories?mine=1")
	orgWant(t, "my advisories", p.Body, path)
	p = bb.get(path)
	orgWant(t, "advisory", p.Body, "/acknowledge", "Cập nhật bản vá")
	if p := bb.post(path+"/report", url.Values{"outcome": {"remediated"}, "note": {"x"}}); p.Status != http.StatusConflict {
		t.Fatalf("report before acknowledging: %d", p.Status)
	}
	bb.get(path)
	if p := bb.post(path+"/acknowledge", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d %s", p.Status, p.Body)
	}
	bb.get(path)
	if p := bb.post(path+"/report", url.Values{"outcome": {"remediated"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="note-err"`) {
		t.Fatalf("report without note: %d", p.Status)
	}
	if p := bb.post(path+"/report", url.Values{"outcome": {"remediated"}, "note": {"Đã cập nhật bản vá 10.2.9"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("report: %d %s", p.Status, p.Body)
	}

	// The coordinator's view: 100 % acknowledged and remediated, by sector
	// and province, with the chart and the export.
	p = nb.get(path)
	orgWant(t, "rates", p.Body, "100.0 %", "Ngân hàng Thủ đô", "Đã cập nhật bản vá 10.2.9", `<svg class="chart"`)
	p = nb.get(path + "/recipients/export?format=csv&sector=banking")
	if p.Status != 200 || !strings.Contains(p.Body, "Ngân hàng Thủ đô") || !strings.Contains(p.Body, "Đã khắc phục") {
		t.Fatalf("csv: %d %s", p.Status, p.Body)
	}
	p = nb.get(path + "/stix.json")
	if p.Status != 200 || !strings.Contains(p.Body, `"type":"report"`) {
		t.Fatalf("stix: %d", p.Status)
	}
	// Past the deadline nothing is left open: no need on the coordinator's
	// home page; a second advisory left unanswered is one.
	form2 := url.Values{}
	for k, v := range form {
		form2[k] = v
	}
	form2.Set("title", "Mã độc tống tiền nhắm vào ngân hàng")
	if p := nb.post("/advisories", form2); p.Status != http.StatusSeeOther {
		t.Fatalf("second draft: %d %s", p.Status, p.Body)
	} else if p2 := nb.post(p.Location+"/publish", url.Values{}); p2.Status != http.StatusSeeOther {
		t.Fatalf("second publish: %d %s", p2.Status, p2.Body)
	}
	e.Clock.Advance(73 * time.Hour)
	nb = newOrgBrowser(t, e) // the session ended meanwhile
	nb.login("canhbao")
	p = nb.get("/")
	if strings.Contains(p.Body, "Lỗ hổng nghiêm trọng trên cổng VPN") || !strings.Contains(p.Body, "Mã độc tống tiền nhắm vào ngân hàng") {
		t.Fatalf("coordinator's needs: %s", p.Body)
	}
	list, err := e.App.Intel.Advisories(ctx, e.Sys, intel.AdvisoryFilter{Status: intel.AdvisoryPublished})
	if err != nil || len(list) != 2 {
		t.Fatalf("advisories saved: %v %v", list, err)
	}
}

// --- the matrix ---

// wmAdvIssuer is the national coordinator of the matrix.
func wmAdvIssuer(c *wmCase) int64 { return wmIssuer(c) }

// advisory publishes (as certnet) an AMBER advisory of the national
// coordinator to the target organisation.
func (c *wmCase) advisory(t *testing.T) intel.Advisory {
	t.Helper()
	sys := c.m.e.Sys
	v, err := c.m.e.App.Intel.CreateAdvisory(c.m.ctx, sys, intel.AdvisoryInput{OwnerOrgID: wmAdvIssuer(c), Title: fmt.Sprintf("Cảnh báo %d", c.n),
		Summary: "Tóm tắt", Actions: "Vá", TLP: policy.TLPAmber, DeadlineAt: c.m.e.Clock.Now().Add(72 * time.Hour),
		Targeting: intel.Targeting{Orgs: []int64{c.t.org.ID}}})
	if err != nil {
		t.Fatalf("matrix advisory: %v", err)
	}
	if v, err = c.m.e.App.Intel.Publish(c.m.ctx, sys, v.ID); err != nil {
		t.Fatalf("matrix publish: %v", err)
	}
	return v
}

// ownAdvisory is a draft (or published) advisory of the actor's own
// organisation to the target.
func (c *wmCase) ownAdvisory(t *testing.T, publish bool) intel.Advisory {
	t.Helper()
	sys := c.m.e.Sys
	v, err := c.m.e.App.Intel.CreateAdvisory(c.m.ctx, sys, intel.AdvisoryInput{OwnerOrgID: c.a.user.OrgID, Title: fmt.Sprintf("Cảnh báo riêng %d", c.n),
		Summary: "Tóm tắt", Actions: "Vá", TLP: policy.TLPAmber, DeadlineAt: c.m.e.Clock.Now().Add(72 * time.Hour),
		Targeting: intel.Targeting{Orgs: []int64{c.t.org.ID}}})
	if err != nil {
		t.Fatalf("matrix own advisory: %v", err)
	}
	if publish {
		if v, err = c.m.e.App.Intel.Publish(c.m.ctx, sys, v.ID); err != nil {
			t.Fatalf("matrix own publish: %v", err)
		}
	}
	return v
}

// wmAdvRead decides the read of the national coordinator's AMBER advisory
// to the target.
func wmAdvRead(c *wmCase) error {
	for _, r := range policy.AdvisoryResources(wmAdvIssuer(c), policy.TLPAmber, 0, []int64{c.t.org.ID}, true) {
		if c.check(policy.AdvisoryRead, r) == nil {
			return nil
		}
	}
	return errs.NotFound("matrix: advisory")
}

// wmAdvOwn decides an action of the publisher's side on an advisory of the
// actor's own organisation.
func wmAdvOwn(published bool) func(c *wmCase) error {
	return func(c *wmCase) error {
		for _, r := range policy.AdvisoryResources(c.a.user.OrgID, policy.TLPAmber, 0, []int64{c.t.org.ID}, published) {
			if c.check(policy.AdvisoryRead, r) == nil {
				return c.check(policy.AdvisoryPublish, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: policy.TLPGreen})
			}
		}
		return errs.NotFound("matrix: advisory")
	}
}

// wmAdvRespond decides an answer of the actor's organisation.
func wmAdvRespond(c *wmCase) error {
	if err := wmAdvRead(c); err != nil {
		return err
	}
	if c.t.org.ID != c.a.user.OrgID {
		return errs.Forbidden("matrix: not a recipient")
	}
	return c.check(policy.AdvisoryRespond, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPGreen})
}

func wmAdvWrite(c *wmCase) error {
	return c.check(policy.AdvisoryWrite, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: policy.TLPGreen})
}

func advPath(v intel.Advisory, rest string) string {
	return fmt.Sprintf("/advisories/%d%s", v.ID, rest)
}

// wmReport imports, as certnet for the target, a bundle holding a report
// under the target's label and returns the report's id.
func (c *wmCase) wmReport(t *testing.T) string {
	t.Helper()
	rid := fmt.Sprintf("report--00000000-0000-4000-8000-%012d", c.n)
	iid := fmt.Sprintf("indicator--00000000-0000-4000-9000-%012d", c.n)
	bundle := fmt.Sprintf(`{"type":"bundle","id":"bundle--00000000-0000-4000-a000-%012d","objects":[
	{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "pattern":"[domain-name:value = 'r%d.matrix.vn']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
	{"type":"report","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "name":"Báo cáo %d","published":"2026-01-01T00:00:00.000Z","object_refs":[%q]}]}`, c.n, iid, c.n, rid, c.n, iid)
	if _, err := c.m.e.App.Intel.ImportSTIX(c.m.ctx, c.intelActor(), strings.NewReader(bundle),
		intel.ImportOptions{Name: "r.json", DefaultTLP: c.t.org.TLP}); err != nil {
		t.Fatalf("matrix report: %v", err)
	}
	return rid
}

// wmAdvDraftWrite decides the editor of a draft of the actor's own
// organisation.
func wmAdvDraftWrite(c *wmCase) error {
	for _, r := range policy.AdvisoryResources(c.a.user.OrgID, policy.TLPAmber, 0, []int64{c.t.org.ID}, false) {
		if c.check(policy.AdvisoryRead, r) == nil {
			return wmAdvWrite(c)
		}
	}
	return errs.NotFound("matrix: advisory")
}

var wmAdvisoryRoutes = map[string]wmRoute{
	"GET /advisories/{id}/edit": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: advPath(c.ownAdvisory(t, false), "/edit")}
		},
		decide: wmAdvDraftWrite,
	},
	"POST /advisories/{id}/edit": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: advPath(c.ownAdvisory(t, false), "/edit"), form: url.Values{
				"title": {fmt.Sprintf("Sửa %d", c.n)}, "summary": {"Tóm tắt"}, "actions": {"Vá"}, "tlp": {"AMBER"}, "orgs": {c.t.org.Code}}}
		},
		decide: wmAdvDraftWrite,
	},
	"POST /advisories/from-report": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: "/advisories/from-report", form: url.Values{"stix_id": {c.wmReport(t)}}}
		},
		decide: func(c *wmCase) error {
			if err := c.check(policy.IntelRead, policy.Resource{OwnerOrg: c.t.org.ID, TLP: c.t.org.TLP}); err != nil {
				return errs.NotFound("matrix: report")
			}
			return wmAdvWrite(c)
		},
	},
	"GET /advisories": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.advisory(t)
			return wmReq{method: http.MethodGet, path: "/advisories"}
		},
		decide: onOwn(policy.AdvisoryRead, policy.TLPClear),
		shows:  wmAdvRead,
		seen:   contains(func(c *wmCase) string { return fmt.Sprintf(">Cảnh báo %d</a>", c.n) }),
	},
	"GET /advisories/new": {
		req:    wmGet(wmPath("/advisories/new")),
		decide: wmAdvWrite,
	},
	"POST /advisories": {
		req: wmPost(wmPath("/advisories"), func(c *wmCase) url.Values {
			return url.Values{"title": {fmt.Sprintf("Nháp %d", c.n)}, "summary": {"Tóm tắt"}, "actions": {"Vá"}, "tlp": {"AMBER"},
				"severity": {"high"}, "orgs": {c.t.org.Code}}
		}),
		decide: wmAdvWrite,
	},
	"GET /advisories/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: advPath(c.advisory(t), "")}
		},
		decide: wmAdvRead,
	},
	"GET /advisories/{id}/recipients/export": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: advPath(c.advisory(t), "/recipients/export?format=csv")}
		},
		decide: wmAdvRead,
		ctype:  "text/csv",
	},
	"GET /advisories/{id}/stix.json": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: advPath(c.advisory(t), "/stix.json")}
		},
		decide: wmAdvRead,
		ctype:  "application/stix+json",
	},
	"POST /advisories/{id}/publish": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: advPath(c.ownAdvisory(t, false), "/publish"), form: url.Values{}}
		},
		decide: wmAdvOwn(false),
	},
	"POST /advisories/{id}/close": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: advPath(c.ownAdvisory(t, true), "/close"), form: url.Values{}}
		},
		decide: wmAdvOwn(true),
	},
	"POST /advisories/{id}/acknowledge": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: advPath(c.advisory(t), "/acknowledge"), form: url.Values{}}
		},
		decide: wmAdvRespond,
	},
	"POST /advisories/{id}/report": {
		req: func(t *testing.T, c *wmCase) wmReq {
			v := c.advisory(t)
			if _, err := c.m.e.App.Intel.Respond(c.m.ctx, c.intelActor(), v.ID, intel.RespondInput{Acknowledge: true}); err != nil {
				t.Fatalf("matrix acknowledge: %v", err)
			}
			return wmReq{method: http.MethodPost, path: advPath(v, "/report"), form: url.Values{"outcome": {"remediated"}, "note": {"Đã vá"}}}
		},
		decide: wmAdvRespond,
	},
}
