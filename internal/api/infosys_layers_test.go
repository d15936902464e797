package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/infosys"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(infosysLayersMatrix) }

var mxLayers = jsonBody(map[string]any{"staff": []map[string]any{{"name": "Nguyễn Văn An"}}, "monitoring": "inhouse"})

var infosysLayersMatrix = map[string]mRoute{
	"GET /api/v1/infosys/orgs/{oid}/layers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/orgs/%d/layers", c.t.org.ID), ""
		},
		decide: decideInfosys(),
	},
	"PUT /api/v1/infosys/orgs/{oid}/layers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/orgs/%d/layers", c.t.org.ID), mxLayers
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/systems/{sid}/layers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/layers", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"PUT /api/v1/infosys/systems/{sid}/layers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/layers", mxSystem(t, c).ID), mxLayers
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/qd1014": {
		req:    static("/api/v1/infosys/qd1014?by=sector", ""),
		decide: func(*mCase) error { return nil },
	},
	"GET /api/v1/infosys/trend": {
		req:    static("/api/v1/infosys/trend?days=30", ""),
		decide: func(*mCase) error { return nil },
	},
}

// TestInfosysLayersAPI: an organisation's 4 layers recorded and read back,
// a system inheriting them, bad input refused with the fields and nothing
// stored, another province refused, the QĐ 1014 and trend answers.
func TestInfosysLayersAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nc := e.Org("NC", "Trung tâm điều phối", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Sở KH&CN Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	dn := e.Org("DN", "Sở KH&CN Đà Nẵng", nc.ID, org.RoleProvincialResponseUnit)
	tok := e.Token(e.User(hn.ID, "admin.hn", policy.RoleAdmin), "read", "write")
	dnTok := e.Token(e.User(dn.ID, "admin.dn", policy.RoleAdmin), "read", "write")
	natTok := e.Token(e.User(nc.ID, "xem.nc", policy.RoleViewer), "read")
	sys, err := e.App.Infosys.CreateSystem(t.Context(), e.Sys, infosys.SystemInput{OwnerOrgID: hn.ID, Name: "IOC Hà Nội", IOC: infosys.IOCProvincial})
	if err != nil {
		t.Fatal(err)
	}
	today := e.Clock.Now().In(infosys.Local).Format("2006-01-02")
	orgPath := fmt.Sprintf("/api/v1/infosys/orgs/%d/layers", hn.ID)

	r := call(t, e, http.MethodPut, orgPath, tok, `{"monitoring":"provider","contract_start":"2026-02-30","ranges_shared":["x"]}`, nil)
	if r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
		t.Fatalf("bad layers: %d %s", r.Status, r.Body)
	}
	for _, f := range []string{"monitoring_provider", "contract_start", "contract_end", "ranges_shared"} {
		if !strings.Contains(string(r.Body), `"`+f+`"`) {
			t.Fatalf("bad layers: no %s in %s", f, r.Body)
		}
	}
	checkErrorShape(t, r)
	if n := count(e, "infosys_layers")(t); n != 0 {
		t.Fatalf("refused input stored %v rows", n)
	}
	body := fmt.Sprintf(`{"staff":[{"name":"Nguyễn Văn An"}],"monitoring":"provider","monitoring_provider":"SOC","contract_start":"2026-01-01",
		"contract_end":"2099-12-31","assessor":"Kiểm định A","last_report_on":%q,"connected_since":"2025-01-01","ranges_shared":["203.0.113.0/24"]}`, today)
	if r := call(t, e, http.MethodPut, orgPath, dnTok, body, nil); r.Status != http.StatusNotFound {
		t.Fatalf("another province: %d %s", r.Status, r.Body)
	}
	var got struct {
		Layers   infosys.Layers        `json:"layers"`
		Status   []infosys.LayerStatus `json:"status"`
		Complete bool                  `json:"complete"`
	}
	r = call(t, e, http.MethodPut, orgPath, tok, body, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	r.into(t, &got)
	if !got.Complete || got.Layers.Provider != "SOC" || len(got.Status) != 4 {
		t.Fatalf("%+v", got)
	}
	r = call(t, e, http.MethodGet, fmt.Sprintf("/api/v1/infosys/systems/%d/layers", sys.ID), natTok, "", nil)
	r.into(t, &got)
	if r.Status != http.StatusOK || !got.Complete || !got.Status[0].Inherited {
		t.Fatalf("system: %d %s", r.Status, r.Body)
	}
	var q struct {
		Items []infosys.IOC1014 `json:"items"`
	}
	r = call(t, e, http.MethodGet, "/api/v1/infosys/qd1014?by=nation", natTok, "", nil)
	r.into(t, &q)
	if r.Status != http.StatusOK || len(q.Items) != 1 || q.Items[0].IOCs != 1 || q.Items[0].MonitoredPct != 100 || q.Items[0].ClassifiedPct != 0 {
		t.Fatalf("qd1014: %d %s", r.Status, r.Body)
	}
	if _, err := e.App.Infosys.Snapshot(t.Context()); err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Items []infosys.Point `json:"items"`
	}
	r = call(t, e, http.MethodGet, "/api/v1/infosys/trend?days=7", tok, "", nil)
	r.into(t, &tr)
	if r.Status != http.StatusOK || len(tr.Items) != 1 || tr.Items[0].Layers != 1 || tr.Items[0].Day != today {
		t.Fatalf("trend: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, http.MethodGet, "/api/v1/infosys/trend?days=abc", tok, "", nil); r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusBadRequest {
		t.Fatalf("trend days: %d", r.Status)
	}
	auditClean(t, e)
}
