package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/infosys"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(infosysImportMatrix) }

// decideOwnInfosys: an action on the actor's own organisation.
func decideOwnInfosys(act policy.Action, tlp policy.TLP) func(c *mCase) error {
	return func(c *mCase) error {
		return policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: tlp})
	}
}

func mxHoliday(c *mCase) string {
	return time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, c.n%20000).Format(time.DateOnly)
}

var infosysImportMatrix = map[string]mRoute{
	"POST /api/v1/infosys/systems/import": {
		// A dry run of a file with one system of the target: the import
		// is the actor's right, the row is checked against the target.
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/infosys/systems/import?dry_run=1&format=csv", fmt.Sprintf("owner_code,name\n%s,Hệ thống nhập %d\n", c.t.org.Code, c.n)
		},
		decide: decideOwnInfosys(policy.InfosysWrite, policy.TLPAmber),
	},
	"GET /api/v1/infosys/systems/{sid}/history": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/history", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"GET /api/v1/infosys/systems/{sid}/attachments": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/attachments", mxSystem(t, c).ID), ""
		},
		decide: decideInfosys(),
	},
	"POST /api/v1/infosys/systems/{sid}/attachments": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/infosys/systems/%d/attachments?name=thiet-ke.txt&kind=design", mxSystem(t, c).ID), "Thiết kế"
		},
		decide: decideInfosys(policy.InfosysWrite),
	},
	"GET /api/v1/infosys/attachments/{aid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			x, err := c.m.e.App.Infosys.Attach(c.m.ctx, c.m.e.Sys, mxSystem(t, c).ID, infosys.AttachmentInput{Name: "a.txt",
				Body: strings.NewReader("tài liệu")})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("/api/v1/infosys/attachments/%d", x.ID), ""
		},
		decide: decideInfosys(),
	},
	"GET /api/v1/infosys/holidays": {
		req:    static("/api/v1/infosys/holidays?year=2026", ""),
		decide: decideOwnInfosys(policy.InfosysRead, policy.TLPAmber),
	},
	"PUT /api/v1/infosys/holidays/{day}": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/infosys/holidays/" + mxHoliday(c), jsonBody(map[string]any{"name": "Ngày nghỉ thử"})
		},
		decide: decideOwnInfosys(policy.RegistryEdit, policy.TLPGreen),
	},
	"DELETE /api/v1/infosys/holidays/{day}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			day := mxHoliday(c)
			if err := c.m.e.App.Infosys.SetHoliday(c.m.ctx, c.m.e.Sys, infosys.Holiday{Day: day, Name: "Ngày nghỉ thử"}); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/infosys/holidays/" + day, ""
		},
		decide: decideOwnInfosys(policy.RegistryEdit, policy.TLPGreen),
	},
}

// TestInfosysImportAPI: a dry run reporting a refused row with its line in
// the caller's language, the import refused for it (nothing written), then
// with skip_bad; the level history after a re-import; an OpenVAS report by
// its media type; an attachment up and down.
func TestInfosysImportAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	admin := e.Token(e.User(hn.ID, "quantri", policy.RoleAdmin))
	file := "owner_code,name,data_kind,users\nHN,Cổng dịch vụ công,public,100\nHN,Lỗi,bí mật,\n"
	r := call(t, e, "POST", "/api/v1/infosys/systems/import?dry_run=1", admin, file, map[string]string{"Content-Type": "text/csv"})
	var rep infosys.SystemImport
	json.Unmarshal(r.Body, &rep)
	if r.Status != http.StatusOK || rep.Created != 1 || rep.Skipped != 1 || rep.Problems[0].Line != 3 || rep.Problems[0].Column != "data_kind" ||
		rep.Problems[0].Message == "" {
		t.Fatalf("dry run: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "POST", "/api/v1/infosys/systems/import", admin, file, map[string]string{"Content-Type": "text/csv"})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"report"`) {
		t.Fatalf("refused: %d %s", r.Status, r.Body)
	}
	if _, n, _ := e.App.Infosys.List(t.Context(), e.Sys, infosys.Filter{Level: -1}); n != 0 {
		t.Fatalf("%d systems written", n)
	}
	r = call(t, e, "POST", "/api/v1/infosys/systems/import?skip_bad=1", admin, file, map[string]string{"Content-Type": "text/csv"})
	json.Unmarshal(r.Body, &rep)
	if r.Status != http.StatusCreated || rep.Created != 1 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	sid := rep.Items[0].SystemID
	r = call(t, e, "POST", "/api/v1/infosys/systems/import?skip_bad=1", admin, strings.Replace(file, ",100", ",90000", 1), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("re-import: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "GET", fmt.Sprintf("/api/v1/infosys/systems/%d/history", sid), admin, "", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"fields":["users"]`) {
		t.Fatalf("history: %d %s", r.Status, r.Body)
	}
	report := `<report><report><results><result><host>198.51.100.7</host><port>443/tcp</port><nvt oid="1.3.6.1.4.1.25623.1.0.1"><name>TLS cũ</name></nvt><threat>Medium</threat><severity>5.0</severity></result></results></report></report>`
	r = call(t, e, "POST", fmt.Sprintf("/api/v1/infosys/systems/%d/findings/import", sid), admin, report, map[string]string{"Content-Type": "application/xml"})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"added":1`) {
		t.Fatalf("openvas: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "POST", fmt.Sprintf("/api/v1/infosys/systems/%d/attachments?name=thiet-ke.txt&kind=design", sid), admin, "Thiết kế", nil)
	var x infosys.Attachment
	json.Unmarshal(r.Body, &x)
	if r.Status != http.StatusCreated || x.ID == 0 {
		t.Fatalf("attach: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "GET", fmt.Sprintf("/api/v1/infosys/attachments/%d", x.ID), admin, "", nil)
	if r.Status != http.StatusOK || string(r.Body) != "Thiết kế" || r.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %d %s", r.Status, r.Body)
	}
}
