package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"certnet/internal/infosys"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmInfosysLayersRoutes) }

func wmLayersForm(c *wmCase) url.Values {
	return url.Values{"staff": {fmt.Sprintf("Cán bộ %d", c.n)}, "monitoring": {"inhouse"}}
}

var wmInfosysLayersRoutes = map[string]wmRoute{
	"GET /infosys/orgs/{oid}/layers": {
		req:    wmGet(func(c *wmCase) string { return fmt.Sprintf("/infosys/orgs/%d/layers", c.t.org.ID) }),
		decide: onInfosys(),
	},
	"POST /infosys/orgs/{oid}/layers": {
		req:    wmPost(func(c *wmCase) string { return fmt.Sprintf("/infosys/orgs/%d/layers", c.t.org.ID) }, wmLayersForm),
		decide: onInfosys(policy.InfosysWrite),
	},
	"GET /infosys/systems/{sid}/layers": {
		req:    wmInfosysReq(http.MethodGet, "/infosys/systems/%d/layers", wmSysID, nil),
		decide: onInfosys(),
	},
	"POST /infosys/systems/{sid}/layers": {
		req:    wmInfosysReq(http.MethodPost, "/infosys/systems/%d/layers", wmSysID, wmLayersForm),
		decide: onInfosys(policy.InfosysWrite),
	},
	"GET /infosys/kpis": {
		req:    wmGet(wmPath("/infosys/kpis?by=org")),
		decide: func(c *wmCase) error { return nil },
	},
	"GET /infosys/kpis/export": {
		req:    wmGet(wmPath("/infosys/kpis/export?by=province&format=xlsx&table=ioc")),
		decide: func(c *wmCase) error { return nil },
		ctype:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	},
}

// TestInfosysLayersPages: a provincial administrator records the
// organisation's 4 layers (a broken range refused, nothing stored), a
// system inherits them, the KPI page shows the 4-layer column, the IOC
// table, the trend chart once a snapshot exists, and the exports carry the
// new columns; a viewer reads but has no form.
func TestInfosysLayersPages(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.hanoiAdmin)
	b.get("/infosys")
	p := b.post("/infosys/systems", url.Values{"owner_org_id": {fmt.Sprint(n.hanoi.ID)}, "name": {"IOC tỉnh"}, "data_kind": {"public"}, "ioc": {"provincial"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	sysPath := p.Location
	orgPath := fmt.Sprintf("/infosys/orgs/%d/layers", n.hanoi.ID)
	if p := b.get(orgPath); p.Status != http.StatusOK || !strings.Contains(p.Body, "Chưa đủ 4 lớp") {
		t.Fatalf("empty layers: %d", p.Status)
	}
	form := url.Values{"staff": {"Nguyễn Văn An\nTrần Thị Bình"}, "monitoring": {"provider"}, "monitoring_provider": {"SOC Sao Mai"},
		"contract_start": {"2020-01-01"}, "contract_end": {"2099-12-31"}, "assessor": {"Công ty kiểm định A"}, "last_report_on": {n.e.Clock.Now().In(infosys.Local).Format("2006-01-02")},
		"connected_since": {"2024-03-01"}, "ranges_shared": {"203.0.113.0/24\nkhông-phải-dải"}}
	p = b.post(orgPath, form)
	if (p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest) || !strings.Contains(p.Body, "không-phải-dải") || !strings.Contains(p.Body, "SOC Sao Mai") {
		t.Fatalf("bad range: %d", p.Status)
	}
	var rows int
	if err := n.e.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM infosys_layers").Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("refused form stored %d rows (%v)", rows, err)
	}
	form.Set("ranges_shared", "203.0.113.0/24")
	if p := b.post(orgPath, form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	if p := b.get(orgPath); !strings.Contains(p.Body, "Đủ 4 lớp") || !strings.Contains(p.Body, "Trần Thị Bình") ||
		!strings.Contains(p.Body, `layers">IOC tỉnh</a> — <span class="status-ok">`) {
		t.Fatalf("saved layers not shown")
	}
	if p := b.get(sysPath + "/layers"); !strings.Contains(p.Body, "Đủ 4 lớp") || !strings.Contains(p.Body, "Theo tổ chức chủ quản") {
		t.Fatalf("system does not inherit")
	}
	if _, err := n.e.App.Infosys.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	p = b.get("/infosys/kpis?by=nation")
	for _, want := range []string{"Đủ mô hình 4 lớp", "100% (1)", "Chỉ tiêu IOC theo QĐ 1014", "<svg class=\"chart linechart\"", "<polyline"} {
		if !strings.Contains(p.Body, want) && !(want == "<polyline" && strings.Contains(p.Body, "<circle")) {
			t.Fatalf("KPI page lacks %q", want)
		}
	}
	if p := b.get("/infosys/kpis/export?by=nation&format=csv"); !strings.Contains(p.Body, "Đủ mô hình 4 lớp") || !strings.Contains(p.Body, "VN,1,0,0,0/0,0,0,0,1,100,0,0") {
		t.Fatalf("kpi csv: %s", p.Body)
	}
	if p := b.get("/infosys/kpis/export?by=nation&format=csv&table=ioc"); !strings.Contains(p.Body, "VN,1,0/1,0,1/1,100,1/1,100") {
		t.Fatalf("ioc csv: %s", p.Body)
	}
	if p := b.get("/infosys/kpis.csv?by=nation"); !strings.Contains(p.Body, "Lỗ hổng nghiêm trọng chưa xử lý") {
		t.Fatalf("old csv lacks the new columns: %s", p.Body)
	}
	if p := b.get("/infosys/kpis/export?format=pdf"); p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Fatalf("pdf export: %d", p.Status)
	}

	// A viewer of the province reads the layers without a form.
	v := newOrgBrowser(t, n.e)
	v.login(n.viewerHN)
	if p := v.get(orgPath); p.Status != http.StatusOK || strings.Contains(p.Body, `name="monitoring"`) || !strings.Contains(p.Body, "SOC Sao Mai") {
		t.Fatalf("viewer: %d", p.Status)
	}
	v.get(orgPath)
	if p := v.post(orgPath, form); p.Status != http.StatusForbidden {
		t.Fatalf("viewer saves: %d", p.Status)
	}
}
