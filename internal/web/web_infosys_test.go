package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
		Answers:  infosys.Answers{Scope: infosys.ScopeOrganisation, DataKind: infosys.DataPersonal, PersonalCount: 50_000, Harm: infosys.HarmOrg},
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

func wmFindingID(t *testing.T, c *wmCase) int64 {
	sys := wmSystem(t, c)
	if _, err := c.m.e.App.Infosys.ImportFindings(c.m.ctx, c.m.e.Sys, sys.ID, infosys.FormatCSV,
		strings.NewReader("host,name,severity\n203.0.113.10,OpenSSL,high\n")); err != nil {
		t.Fatal(err)
	}
	xs, err := c.m.e.App.Infosys.Findings(c.m.ctx, c.m.e.Sys, sys.ID, "")
	if err != nil || len(xs) != 1 {
		t.Fatalf("findings %v %v", xs, err)
	}
	return xs[0].ID
}

var wmInfosysRoutes = map[string]wmRoute{
	"POST /infosys/systems/{sid}/findings": {
		req: wmInfosysReq(http.MethodPost, "/infosys/systems/%d/findings", wmSysID, func(c *wmCase) url.Values {
			return url.Values{"format": {"csv"}, "report": {"host,name,severity\n203.0.113.10,OpenSSL,high\n"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
	"POST /infosys/findings/{fid}/status": {
		req: wmInfosysReq(http.MethodPost, "/infosys/findings/%d/status", wmFindingID, func(c *wmCase) url.Values {
			return url.Values{"status": {"in_progress"}}
		}),
		decide: onInfosys(policy.InfosysWrite),
	},
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
	"GET /infosys/kpis.csv": {
		req:    wmGet(wmPath("/infosys/kpis.csv?by=sector")),
		decide: func(c *wmCase) error { return nil },
		ctype:  "text/csv",
	},
	"GET /infosys/calendar.ics": {
		req:    wmGet(wmPath("/infosys/calendar.ics")),
		decide: func(c *wmCase) error { return nil },
		ctype:  "text/calendar",
	},
}

// TestInfosysPages walks the pages as a provincial administrator: a system
// refused with an address outside the constituency, registered, the
// questionnaire proposing level 3 (another level refused without a
// justification), the dossier completed, submitted, appraised, approved;
// the schedule and the KPI then show it.
func TestInfosysPages(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.hanoiAdmin)
	if p := b.get("/infosys"); p.Status != http.StatusOK {
		t.Fatalf("list: %d", p.Status)
	}
	form := url.Values{"owner_org_id": {fmt.Sprint(n.hanoi.ID)}, "name": {"Cổng dịch vụ công tỉnh"}, "data_kind": {"personal"},
		"personal_count": {"120000"}, "addresses": {"198.51.100.7"}}
	p := b.post("/infosys/systems", form)
	if (p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest) || !strings.Contains(p.Body, "không thuộc dải địa chỉ") {
		t.Fatalf("outside address: %d", p.Status)
	}
	form.Del("addresses")
	p = b.post("/infosys/systems", form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	sysPath := p.Location
	b.get(sysPath)
	q := url.Values{"scope": {"organisation"}, "data_kind": {"personal"}, "personal_count": {"120000"}, "harm": {"org"}, "proposed_level": {"2"}}
	p = b.post(sysPath+"/dossiers", q)
	if (p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest) || !strings.Contains(p.Body, "cấp độ 3") {
		t.Fatalf("level without justification: %d", p.Status)
	}
	q.Set("proposed_level", "")
	p = b.post(sysPath+"/dossiers", q)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("questionnaire: %d %s", p.Status, p.Body)
	}
	dPath := p.Location
	if p := b.get(dPath); !strings.Contains(p.Body, "10 000") {
		t.Fatalf("reasons not shown")
	}
	sections := url.Values{"proposed_level": {"3"}, "overview": {"Tổng quan"}, "design": {"Thiết kế"}}
	for _, k := range infosys.PlanSections {
		sections.Set("plan_"+k, "Phương án "+k)
	}
	if p := b.post(dPath, sections); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	for _, step := range []string{"submit", "appraise", "approve"} {
		b.get(dPath)
		if p := b.post(dPath+"/move", url.Values{"step": {step}, "comment": {"Đồng ý"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", step, p.Status, p.Body)
		}
		if step == "submit" {
			if p := b.get("/"); !strings.Contains(p.Body, "Thẩm định hồ sơ cấp độ 3 của hệ thống Cổng dịch vụ công tỉnh") {
				t.Fatalf("appraisal not in what needs me now: %d %s", p.Status, p.Body[:min(len(p.Body), 3000)])
			}
		}
	}
	if p := b.get(dPath); !strings.Contains(p.Body, "Đã phê duyệt") {
		t.Fatal("not approved")
	}
	if p := b.get(sysPath); !strings.Contains(p.Body, "Diễn tập thực chiến") || !strings.Contains(p.Body, "Quá hạn") {
		t.Fatal("schedule not shown")
	}
	if p := b.get("/"); !strings.Contains(p.Body, "Quá hạn Diễn tập thực chiến") {
		t.Fatal("overdue drill not in what needs me now")
	}
	if p := b.get("/infosys?by=nation"); !strings.Contains(p.Body, "100% (1)") {
		t.Fatalf("KPI not moved:\n%s", p.Body)
	}
	if p := b.get("/infosys/kpis.csv?by=nation"); !strings.Contains(p.Body, "VN,1,1,100") {
		t.Fatalf("csv: %s", p.Body)
	}
	if p := b.get("/infosys/calendar.ics"); !strings.HasPrefix(p.Body, "BEGIN:VCALENDAR") {
		t.Fatal("calendar")
	}
}

func TestInfosysFindingsPage(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.hanoiAdmin)
	b.get("/infosys")
	p := b.post("/infosys/systems", url.Values{"owner_org_id": {fmt.Sprint(n.hanoi.ID)}, "name": {"Cổng thông tin tỉnh"}, "data_kind": {"public"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	sysPath := p.Location
	b.get(sysPath)
	p = b.post(sysPath+"/findings", url.Values{"format": {"csv"}, "report": {"host,name,severity\n"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Đã nhập: 0 mới") {
		t.Fatalf("a report with only its header imports nothing: %d", p.Status)
	}
	b.get(sysPath)
	p = b.post(sysPath+"/findings", url.Values{"format": {"csv"}, "report": {"host,name,severity\n10.0.0.1,OpenSSL,high\n10.0.0.2,Bad,urgent\n"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Đã nhập: 1 mới, 0 cập nhật, 0 mở lại; 1 dòng bị từ chối.") || !strings.Contains(p.Body, "<td>3</td>") {
		t.Fatalf("import: %d %s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, "Cao: 1") {
		t.Fatal("open findings by severity not shown")
	}
	p = b.post(sysPath+"/findings", url.Values{"format": {"csv"}, "report": {"host,port\n1.2.3.4,80\n"}})
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Không đọc được tệp kết quả quét") {
		t.Fatalf("broken file: %d", p.Status)
	}
}
