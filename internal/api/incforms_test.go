package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(incformsMatrix) }

// mxSharedFilter is a new filter the target's user shares with the target.
func mxSharedFilter(t *testing.T, c *mCase) incident.SavedFilter {
	t.Helper()
	a, err := c.m.e.App.Auth.ActorFor(c.m.ctx, c.t.user, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.m.e.App.Incidents.SaveFilter(c.m.ctx, a, fmt.Sprintf("Dùng chung %d", c.n), "severity=high", true)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func sharedFilterRes(c *mCase) policy.Resource {
	return incident.SavedFilter{UserID: c.t.user.ID, OrgID: c.t.org.ID, Shared: true}.Resource()
}

var mxFilters = map[int]int64{} // case → the filter it made

var incformsMatrix = map[string]mRoute{
	"GET /api/v1/incident-filters": {
		req: func(t *testing.T, c *mCase) (string, string) {
			mxFilters[c.n] = mxSharedFilter(t, c).ID
			return "/api/v1/incident-filters", ""
		},
		// Everyone may list: the answer holds their own and their
		// organisation's shared filters.
		decide: func(*mCase) error { return nil },
		shows:  func(c *mCase) error { return policy.Check(c.a.actor, policy.IncidentFilterRead, sharedFilterRes(c)) },
		listed: func(t *testing.T, c *mCase, r reply) bool { return itemIDs(t, r)[mxFilters[c.n]] },
	},
	"POST /api/v1/incident-filters": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/incident-filters", jsonBody(map[string]any{"name": fmt.Sprintf("Bộ lọc %d", c.n),
				"query": "type=ddos&overdue=1", "shared": c.n%2 == 0})
		},
		decide: func(c *mCase) error {
			u := c.a.user
			return policy.Check(c.a.actor, policy.IncidentFilterWrite, incident.SavedFilter{UserID: u.ID, OrgID: u.OrgID}.Resource())
		},
	},
	"DELETE /api/v1/incident-filters/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/incident-filters/%d", mxSharedFilter(t, c).ID), ""
		},
		decide: func(c *mCase) error {
			if err := policy.Check(c.a.actor, policy.IncidentFilterRead, sharedFilterRes(c)); err != nil {
				return err
			}
			return policy.Check(c.a.actor, policy.IncidentFilterManage, sharedFilterRes(c))
		},
	},
	"GET /api/v1/incidents/summary": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/incidents/summary?year=%d&half=2&org=%d", c.m.e.App.Incidents.Now().Year(), c.t.org.ID), ""
		},
		// An incident read of the organisation it is about, whose name it
		// answers.
		decide: func(c *mCase) error {
			if err := policy.Check(c.a.actor, policy.IncidentRead, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}); err != nil {
				return err
			}
			return c.check(policy.OrgRead)
		},
	},
}

func TestAPIIncidentFilters(t *testing.T) {
	e := apptest.StartSQLite(t)
	nc := e.Org("VNCERT", "Trung tâm Điều phối quốc gia", 0, org.RoleNationalCoordinator)
	m := e.Org("HNI-CTY", "Công ty Hà Nội", nc.ID, org.RoleSystemOwner)
	d := e.Org("DNG-CTY", "Công ty Đà Nẵng", nc.ID, org.RoleSystemOwner)
	tok := e.Token(e.User(m.ID, "an.cty", policy.RoleAnalyst))
	colleague := e.Token(e.User(m.ID, "binh.cty", policy.RoleViewer))
	other := e.Token(e.User(d.ID, "cuong.cty", policy.RoleAdmin))

	r := call(t, e, http.MethodPost, "/api/v1/incident-filters", tok,
		`{"name": "Quá hạn", "query": "overdue=1&type=malware&page=2", "shared": true}`, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	var f incident.SavedFilter
	r.into(t, &f)
	if f.Name != "Quá hạn" || f.Query != "overdue=1&type=malware" || !f.Shared || !f.Mine || r.Header.Get("Location") == "" {
		t.Fatalf("saved %+v", f)
	}
	// Bad input: refused, with the field named.
	for body, field := range map[string]string{
		`{"name": "Quá hạn", "query": ""}`:             "name",
		`{"name": "", "query": ""}`:                    "name",
		`{"name": "Sâu", "query": "type=worm"}`:        "query",
		`{"name": "Lạ", "query": "x=1"}`:               "query",
		`{"name": "Thừa", "query": "", "extra": true}`: "extra",
	} {
		r := call(t, e, http.MethodPost, "/api/v1/incident-filters", tok, body, nil)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", body, r.Status)
			continue
		}
		if d := r.errDetail(t); d.Fields[field] == "" {
			t.Errorf("%s: fields %v, want %s named", body, d.Fields, field)
		}
	}
	list := func(token string) map[int64]bool {
		t.Helper()
		r := call(t, e, http.MethodGet, "/api/v1/incident-filters", token, "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d", r.Status)
		}
		return itemIDs(t, r)
	}
	if got := list(colleague); !got[f.ID] || len(got) != 1 {
		t.Errorf("colleague lists %v", got)
	}
	if got := list(other); len(got) != 0 {
		t.Errorf("another organisation lists %v", got)
	}
	// Applying a saved filter to the list: ?filter=id, with the page.
	ctx := context.Background()
	for _, typ := range []incident.Type{incident.TypeMalware, incident.TypeDDoS} {
		if _, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: "Sự cố " + string(typ), Description: "Mô tả.",
			Type: typ, ReporterOrgID: m.ID, DetectedAt: e.App.Incidents.Now().Add(-time.Hour),
			Contact: incident.Contact{Name: "An", Email: "an@example.vn"}, System: incident.System{Name: "Cổng"},
			DetectedBy: incident.DetectIDS}); err != nil {
			t.Fatal(err)
		}
	}
	mal := call(t, e, http.MethodPost, "/api/v1/incident-filters", tok, `{"name": "Mã độc", "query": "type=malware"}`, nil)
	var mf incident.SavedFilter
	mal.into(t, &mf)
	r = call(t, e, http.MethodGet, fmt.Sprintf("/api/v1/incidents?filter=%d&limit=10", mf.ID), tok, "", nil)
	var page struct {
		Items []incident.Incident `json:"items"`
		Total int                 `json:"total"`
	}
	r.into(t, &page)
	if r.Status != http.StatusOK || page.Total != 1 || len(page.Items) != 1 || page.Items[0].Type != incident.TypeMalware {
		t.Errorf("list with the saved filter: %d %+v", r.Status, page)
	}
	if r := call(t, e, http.MethodGet, fmt.Sprintf("/api/v1/incidents?filter=%d&type=ddos", mf.ID), tok, "", nil); r.Status != http.StatusBadRequest {
		t.Errorf("filter with another parameter: %d", r.Status)
	}
	if r := call(t, e, http.MethodGet, fmt.Sprintf("/api/v1/incidents?filter=%d", mf.ID), colleague, "", nil); r.Status != http.StatusNotFound {
		t.Errorf("a colleague applies a private filter: %d", r.Status)
	}
	if r := call(t, e, http.MethodGet, "/api/v1/incidents?filter=x", tok, "", nil); r.Status != http.StatusBadRequest {
		t.Errorf("filter=x: %d", r.Status)
	}
	if r := call(t, e, http.MethodDelete, fmt.Sprintf("/api/v1/incident-filters/%d", mf.ID), tok, "", nil); r.Status != http.StatusNoContent {
		t.Errorf("delete: %d", r.Status)
	}

	path := fmt.Sprintf("/api/v1/incident-filters/%d", f.ID)
	if r := call(t, e, http.MethodDelete, path, colleague, "", nil); r.Status != http.StatusForbidden {
		t.Errorf("colleague deletes: %d", r.Status)
	}
	if r := call(t, e, http.MethodDelete, path, other, "", nil); r.Status != http.StatusNotFound {
		t.Errorf("another organisation deletes: %d", r.Status)
	}
	if r := call(t, e, http.MethodDelete, path, tok, "", nil); r.Status != http.StatusNoContent {
		t.Errorf("owner deletes: %d %s", r.Status, r.Body)
	}
	if got := list(tok); len(got) != 0 {
		t.Errorf("left after delete: %v", got)
	}
}

func TestAPIIncidentSummary(t *testing.T) {
	e := apptest.StartSQLite(t)
	ctx := context.Background()
	nc := e.Org("VNCERT", "Trung tâm Điều phối quốc gia", 0, org.RoleNationalCoordinator)
	m := e.Org("HNI-CTY", "Công ty Hà Nội", nc.ID, org.RoleSystemOwner)
	d := e.Org("DNG-CTY", "Công ty Đà Nẵng", nc.ID, org.RoleSystemOwner)
	natTok := e.Token(e.User(nc.ID, "dieuphoi", policy.RoleCoordinator))
	tok := e.Token(e.User(m.ID, "an.cty", policy.RoleAnalyst))
	otherTok := e.Token(e.User(d.ID, "cuong.cty", policy.RoleAnalyst))
	now := e.App.Incidents.Now()
	for i, orgID := range []int64{m.ID, m.ID, d.ID} {
		_, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: fmt.Sprintf("Sự cố %d", i), Description: "Mô tả.",
			Type: incident.TypePhishing, ReporterOrgID: orgID, DetectedAt: time.Date(now.Year(), 2, 1+i, 3, 0, 0, 0, time.UTC),
			Contact: incident.Contact{Name: "An", Email: "an@example.vn"}, System: incident.System{Name: "Cổng"},
			DetectedBy: incident.DetectIDS})
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(token, q string) (incident.Summary, reply) {
		t.Helper()
		r := call(t, e, http.MethodGet, "/api/v1/incidents/summary?"+q, token, "", nil)
		var s incident.Summary
		if r.Status == http.StatusOK {
			r.into(t, &s)
		}
		return s, r
	}
	year := fmt.Sprint(now.Year())
	s, r := get(natTok, url.Values{"year": {year}, "half": {"1"}}.Encode())
	if r.Status != http.StatusOK || len(s.Rows) != len(incident.Types) || s.Total.Count != 3 || s.Rows[1].Type != incident.TypePhishing || s.Rows[1].Count != 3 {
		t.Fatalf("national: %d %+v", r.Status, s)
	}
	if s, _ := get(natTok, url.Values{"year": {year}, "org": {fmt.Sprint(d.ID)}}.Encode()); s.Total.Count != 1 || s.OrgCode != "DNG-CTY" {
		t.Errorf("national on DNG: %+v", s)
	}
	if s, _ := get(tok, url.Values{"year": {year}}.Encode()); s.Total.Count != 2 || s.OrgID != m.ID {
		t.Errorf("member: %+v", s)
	}
	if s, _ := get(tok, url.Values{"year": {year}, "half": {"2"}}.Encode()); s.Total.Count != 0 || len(s.Rows) != len(incident.Types) {
		t.Errorf("member, second half: %+v", s)
	}
	from := fmt.Sprintf("%s-02-02", year)
	if s, _ := get(natTok, url.Values{"from": {from}, "to": {from}}.Encode()); s.Total.Count != 1 {
		t.Errorf("one day, to included: %+v", s.Total)
	}
	if _, r := get(otherTok, url.Values{"year": {year}, "org": {fmt.Sprint(m.ID)}}.Encode()); r.Status != http.StatusNotFound {
		t.Errorf("another member's summary: %d", r.Status)
	}
	for _, q := range []string{"", "year=abc", "year=1999", "year=" + year + "&half=3", "year=" + year + "&from=" + from,
		"from=2026-02-30&to=2026-03-01", "year=" + year + "&org=0", "year=" + year + "&org=-4"} {
		if _, r := get(tok, q); r.Status != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", q, r.Status)
		}
	}
}
