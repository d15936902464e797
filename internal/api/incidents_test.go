package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// --- helpers of the authorization matrix for the incident routes ---

// matrixIncidents holds, per environment, target organisation and TLP, the
// incident the matrix acts on: reported by and affecting the target, under
// the target's label.
var matrixIncidents sync.Map

type mIncKey struct {
	e   *apptest.Env
	org int64
	tlp policy.TLP
}

func (c *mCase) incKey() mIncKey { return mIncKey{c.m.e, c.t.org.ID, c.t.org.TLP} }

// incident returns (creating it once) the target's incident.
func (c *mCase) incident(t *testing.T) incident.Incident {
	t.Helper()
	if v, ok := matrixIncidents.Load(c.incKey()); ok {
		return v.(incident.Incident)
	}
	e := c.m.e
	in := incidentInput(e, c.t.org.ID, fmt.Sprintf("Sự cố ma trận %s %s", c.t.org.Code, c.t.org.TLP))
	in.TLP = c.t.org.TLP
	inc, err := e.App.Incidents.Create(c.m.ctx, e.Sys, in)
	if err != nil {
		t.Fatalf("matrix incident: %v", err)
	}
	matrixIncidents.Store(c.incKey(), inc)
	return inc
}

// inc is the incident req created (decide runs after req).
func (c *mCase) inc() incident.Incident {
	v, _ := matrixIncidents.Load(c.incKey())
	inc, _ := v.(incident.Incident)
	return inc
}

func (c *mCase) incidentPath(t *testing.T, rest string) string {
	return "/api/v1/incidents/" + url.PathEscape(c.incident(t).Ref) + rest
}

// systemReport files a progress report as the system, for the case to
// acknowledge.
func (c *mCase) systemReport(t *testing.T) int64 {
	t.Helper()
	r, err := c.m.e.App.Incidents.AddReport(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, incident.ReportProgress,
		incident.ReportInput{Summary: fmt.Sprintf("Báo cáo tiến độ %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// decideIncident is the service's checkVisible: an incident the actor may
// not read is not found, then act decides.
func decideIncident(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		res := c.inc().Resource()
		if err := policy.Check(c.a.actor, policy.IncidentRead, res); err != nil {
			return errs.NotFound("matrix: incident")
		}
		return policy.Check(c.a.actor, act, res)
	}
}

// decideOrgRole: act, then the organisation role the service requires,
// which no organisation of the matrix holds.
func decideOrgRole(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		if err := decideIncident(act)(c); err != nil {
			return err
		}
		return errs.Forbidden("matrix: organisation role")
	}
}

// decideReportIncident is what Create decides on a report filed for
// reportTarget.
func decideReportIncident(c *mCase) error { return decideReportFor(c, c.reportTarget()) }

func decideReportFor(c *mCase, target int64) error {
	a := c.a.actor
	if err := policy.Check(a, policy.IncidentReport, policy.Resource{OwnerOrg: target, TLP: policy.TLPGreen}); err != nil {
		if target != a.OrgID && !errs.Is(err, errs.KindUnauthenticated) {
			return errs.Forbidden("matrix: on behalf")
		}
		return err
	}
	if target != a.OrgID && !a.Has(policy.RoleCoordinator) && !a.Has(policy.RoleAdmin) {
		return errs.Forbidden("matrix: on behalf")
	}
	return nil
}

// reportTarget is the organisation the case reports for: the target, but
// the actor's own organisation when policy lets the actor report for the
// target yet the registry hides it (AMBER+STRICT to an administrator or
// coordinator above it): the service then answers 400 "organisation not
// found" on reporter_org_id, which the matrix's 2xx/403/404 cannot express.
func (c *mCase) reportTarget() int64 {
	if decideReportFor(c, c.t.org.ID) == nil && c.check(policy.OrgRead) != nil {
		return c.a.actor.OrgID
	}
	return c.t.org.ID
}

// --- fixtures ---

func incidentInput(e *apptest.Env, orgID int64, title string) incident.Input {
	return incident.Input{Title: title, Description: "Máy chủ web bị tấn công, phát hiện truy cập từ 198.51.100.23.",
		Type: incident.TypeMalware, ReporterOrgID: orgID, DetectedAt: e.App.Incidents.Now().Add(-time.Hour),
		Contact: incident.Contact{Name: "Nguyễn Văn An", Email: "an@example.vn"}, System: incident.System{Name: "Cổng thông tin"},
		DetectedBy: incident.DetectIDS}
}

// matrixIncidentBody is a valid form 03 body reported for orgID.
func matrixIncidentBody(orgID int64, n int) map[string]any {
	return map[string]any{"title": fmt.Sprintf("Sự cố %d", n), "description": "Mã độc trên máy chủ web.", "type": "malware",
		"reporter_org_id": orgID, "detected_at": time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339),
		"contact": map[string]any{"name": "Trần Thị Bình", "email": "binh@example.vn"},
		"system":  map[string]any{"name": "Hệ thống thư điện tử"}, "detected_by": "log_review"}
}

// --- scenarios ---

type incWorld struct {
	e                                      *apptest.Env
	nc, hn, member, dn                     org.Org
	memberTok, hnTok, hnReadOnlyTok, dnTok string
	hnViewerTok                            string
}

func newIncWorld(t *testing.T, db *store.DB) *incWorld {
	t.Helper()
	e := apptest.Start(t, db)
	w := &incWorld{e: e}
	w.nc = e.Org("VNCERT", "Trung tâm Ứng cứu khẩn cấp không gian mạng Việt Nam", 0, org.RoleNationalCoordinator)
	w.hn = e.Org("HN-SO", "Sở Thông tin và Truyền thông Hà Nội", w.nc.ID, org.RoleProvincialResponseUnit)
	w.member = e.Org("HN-BV", "Bệnh viện Bạch Mai", w.hn.ID, org.RoleSystemOwner)
	w.dn = e.Org("DN-SO", "Sở Thông tin và Truyền thông Đà Nẵng", w.nc.ID, org.RoleProvincialResponseUnit)
	hnAdmin := e.User(w.hn.ID, "hn.admin", policy.RoleAdmin, policy.RoleCoordinator)
	w.hnTok = e.Token(hnAdmin)
	w.hnReadOnlyTok = e.Token(hnAdmin, auth.ScopeRead)
	w.hnViewerTok = e.Token(e.User(w.hn.ID, "hn.viewer", policy.RoleViewer))
	w.memberTok = e.Token(e.User(w.member.ID, "bv.reporter", policy.RoleReporter))
	w.dnTok = e.Token(e.User(w.dn.ID, "dn.admin", policy.RoleAdmin, policy.RoleCoordinator))
	return w
}

// create files an incident through the API and returns it.
func (w *incWorld) create(t *testing.T, tok string, body map[string]any) map[string]any {
	t.Helper()
	r := call(t, w.e, "POST", "/api/v1/incidents", tok, jsonBody(body), nil)
	if r.Status != 201 {
		t.Fatalf("create: %d\n%s", r.Status, r.Body)
	}
	var out map[string]any
	r.into(t, &out)
	return out
}

func form03(title string) map[string]any {
	b := matrixIncidentBody(0, 0)
	delete(b, "reporter_org_id")
	b["title"] = title
	return b
}

func TestIncidentAPI(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newIncWorld(t, db)
		t.Run("create", w.testCreate)
		t.Run("lifecycle", w.testLifecycle)
		t.Run("list", w.testIncidentList)
		t.Run("work", w.testWork)
		t.Run("serious", w.testSerious)
		t.Run("duplicate", w.testDuplicate)
		auditClean(t, w.e)
	})
}

func (w *incWorld) testCreate(t *testing.T) {
	var ref string
	unchanged := counts(w.e, "incidents", "incident_reports")
	runScenarios(t, w.e, []scenario{
		{name: "created", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: jsonBody(form03("Máy chủ thư điện tử bị nhiễm mã độc")), wantStatus: 201,
			wantBody: []string{`"ref":"SC-`, `"status":"received"`, `"clocks":[`, `"next":["verified","rejected","duplicate"]`},
			check: func(t *testing.T, r reply) {
				var inc struct {
					Ref           string `json:"ref"`
					ReporterOrgID int64  `json:"reporter_org_id"`
					AffectedOrgID int64  `json:"affected_org_id"`
				}
				r.into(t, &inc)
				ref = inc.Ref
				if !strings.HasPrefix(ref, "SC-") || inc.ReporterOrgID != w.member.ID || inc.AffectedOrgID != w.member.ID {
					t.Errorf("created %+v", inc)
				}
				if loc := r.Header.Get("Location"); loc != "/api/v1/incidents/"+ref {
					t.Errorf("Location %q", loc)
				}
			}},
		{name: "unknown field", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: `{"title":"x","colour":"red"}`, wantStatus: 400, wantCode: "invalid", wantFields: []string{"colour"}, unchanged: unchanged},
		{name: "unknown nested field", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: `{"contact":{"name":"A","fax":"1"}}`, wantStatus: 400, wantFields: []string{"fax"}, unchanged: unchanged},
		{name: "missing required", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: `{}`, wantStatus: 400, wantCode: "invalid",
			wantFields: []string{"title", "description", "type", "detected_at", "contact.name", "system.name", "detected_by"}, unchanged: unchanged},
		{name: "wrong type", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: `{"title":5}`, wantStatus: 400, wantFields: []string{"title"}, unchanged: unchanged},
		{name: "bad time", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: jsonBody(merge(form03("Giờ sai"), map[string]any{"detected_at": "hôm qua"})), wantStatus: 400,
			header: map[string]string{"Accept-Language": "en"}, wantFields: []string{"detected_at"}, wantBody: []string{"RFC 3339"},
			unchanged: unchanged},
		{name: "red refused", method: "POST", path: "/api/v1/incidents", token: w.memberTok,
			body: jsonBody(merge(form03("Đỏ"), map[string]any{"tlp": "red"})), wantStatus: 400,
			wantFields: []string{"tlp"}, unchanged: unchanged},
		{name: "read-only token", method: "POST", path: "/api/v1/incidents", token: w.hnReadOnlyTok,
			body: jsonBody(form03("Chỉ đọc")), wantStatus: 403, unchanged: unchanged},
		{name: "viewer may not report", method: "POST", path: "/api/v1/incidents", token: w.hnViewerTok,
			body: jsonBody(form03("Người xem")), wantStatus: 403, unchanged: unchanged},
		{name: "no token", method: "POST", path: "/api/v1/incidents", body: jsonBody(form03("Ẩn danh")), wantStatus: 401, unchanged: unchanged},
	})
	runScenarios(t, w.e, []scenario{
		{name: "get by ref", method: "GET", path: "/api/v1/incidents/" + ref, token: w.hnTok, wantStatus: 200,
			wantBody: []string{`"ref":"` + ref + `"`, `"kind":"notice"`, `"reports":[`}},
		{name: "member gets", method: "GET", path: "/api/v1/incidents/" + ref, token: w.memberTok, wantStatus: 200},
		{name: "sibling sees nothing", method: "GET", path: "/api/v1/incidents/" + ref, token: w.dnTok, wantStatus: 404, wantCode: "not_found"},
		{name: "sibling timeline", method: "GET", path: "/api/v1/incidents/" + ref + "/events", token: w.dnTok, wantStatus: 404},
		{name: "unknown ref", method: "GET", path: "/api/v1/incidents/SC-2020-999999", token: w.hnTok, wantStatus: 404},
	})
}

func merge(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func (w *incWorld) testLifecycle(t *testing.T) {
	inc := w.create(t, w.memberTok, form03("Trang web bị thay đổi giao diện"))
	ref := inc["ref"].(string)
	p := "/api/v1/incidents/" + ref
	stateOf := func(t *testing.T) any {
		r := call(t, w.e, "GET", p, w.hnTok, "", nil)
		var got struct {
			Status  string `json:"status"`
			Version int64  `json:"version"`
		}
		r.into(t, &got)
		return []any{got, count(w.e, "incident_events")(t)}
	}
	runScenarios(t, w.e, []scenario{
		{name: "forbidden step", method: "POST", path: p + "/transition", token: w.hnTok, body: `{"to":"closed"}`,
			wantStatus: 409, wantCode: "conflict", wantBody: []string{"received", "closed"}, unchanged: stateOf},
		{name: "unknown step", method: "POST", path: p + "/transition", token: w.hnTok, body: `{"to":"paused"}`,
			wantStatus: 400, wantFields: []string{"status"}, unchanged: stateOf},
		{name: "to required", method: "POST", path: p + "/transition", token: w.hnTok, body: `{}`,
			wantStatus: 400, wantFields: []string{"to"}, unchanged: stateOf},
		{name: "reject needs a reason", method: "POST", path: p + "/transition", token: w.hnTok, body: `{"to":"rejected"}`,
			wantStatus: 400, wantFields: []string{"reason"}, unchanged: stateOf},
		{name: "reporter may not verify", method: "POST", path: p + "/transition", token: w.memberTok, body: `{"to":"verified"}`,
			wantStatus: 403, unchanged: stateOf},
		{name: "read-only token", method: "POST", path: p + "/transition", token: w.hnReadOnlyTok, body: `{"to":"verified"}`,
			wantStatus: 403, unchanged: stateOf},
		{name: "sibling", method: "POST", path: p + "/transition", token: w.dnTok, body: `{"to":"verified"}`,
			wantStatus: 404, unchanged: stateOf},
		{name: "classify", method: "POST", path: p + "/classify", token: w.hnTok, body: `{"type":"defacement","severity":"high"}`,
			wantStatus: 200, wantBody: []string{`"type":"defacement"`, `"severity":"high"`}},
		{name: "classify bad choice", method: "POST", path: p + "/classify", token: w.hnTok, body: `{"severity":"extreme"}`,
			wantStatus: 400, wantFields: []string{"severity"}, unchanged: stateOf},
		{name: "verify", method: "POST", path: p + "/transition", token: w.hnTok, body: `{"to":"verified"}`,
			wantStatus: 200, wantBody: []string{`"status":"verified"`, `"next":["containment"]`}},
		{name: "contain", method: "POST", path: p + "/transition", token: w.hnTok, body: `{"to":"containment","reason":"Cô lập máy chủ"}`,
			wantStatus: 200, wantBody: []string{`"status":"containment"`}},
		{name: "propose: not the national coordinator", method: "POST", path: p + "/serious/propose", token: w.hnTok,
			body: `{"reason":"Ảnh hưởng lớn"}`, wantStatus: 403, unchanged: stateOf},
		{name: "decide: accept required", method: "POST", path: p + "/serious/decide", token: w.hnTok,
			body: `{"note":"x"}`, wantStatus: 400, wantFields: []string{"accept"}, unchanged: stateOf},
	})
}

func (w *incWorld) testIncidentList(t *testing.T) {
	a := w.create(t, w.memberTok, merge(form03("Tấn công mã độc vào máy chủ bệnh viện"), map[string]any{"type": "ransomware"}))
	w.create(t, w.memberTok, merge(form03("Lừa đảo trực tuyến"), map[string]any{"type": "phishing"}))
	type list struct {
		Items []struct {
			Ref    string `json:"ref"`
			Type   string `json:"type"`
			Clocks []any  `json:"clocks"`
		} `json:"items"`
		Total int `json:"total"`
	}
	get := func(t *testing.T, tok, query string) list {
		t.Helper()
		r := call(t, w.e, "GET", "/api/v1/incidents?"+query, tok, "", nil)
		if r.Status != 200 {
			t.Fatalf("list %s: %d\n%s", query, r.Status, r.Body)
		}
		var l list
		r.into(t, &l)
		return l
	}
	l := get(t, w.hnTok, "q=ma+doc+vao+may+chu") // organisation names are searched too: "benh vien" finds every incident of Bệnh viện Bạch Mai
	if l.Total != 1 || len(l.Items) != 1 || l.Items[0].Ref != a["ref"] {
		t.Errorf("q without diacritics: %+v", l)
	}
	if l := get(t, w.hnTok, "type=phishing"); l.Total < 1 || slicesAny(l.Items, func(i int) bool { return l.Items[i].Type != "phishing" }) {
		t.Errorf("type filter: %+v", l)
	}
	if l := get(t, w.hnTok, "type=ransomware&q=benh+vien&status=received&org="+fmt.Sprint(w.member.ID)); l.Total != 1 {
		t.Errorf("combined filters: %+v", l)
	}
	if l := get(t, w.hnTok, "limit=1"); len(l.Items) != 1 || l.Total < 2 {
		t.Errorf("limit: %d items, total %d", len(l.Items), l.Total)
	}
	if l := get(t, w.dnTok, ""); l.Total != 0 || len(l.Items) != 0 {
		t.Errorf("sibling lists %+v", l)
	}
	runScenarios(t, w.e, []scenario{
		{name: "bad status", method: "GET", path: "/api/v1/incidents?status=open", token: w.hnTok, wantStatus: 400, wantFields: []string{"status"}},
		{name: "bad org", method: "GET", path: "/api/v1/incidents?org=x", token: w.hnTok, wantStatus: 400, wantFields: []string{"org"}},
		{name: "bad limit", method: "GET", path: "/api/v1/incidents?limit=0", token: w.hnTok, wantStatus: 400, wantFields: []string{"limit"}},
		{name: "bad sort", method: "GET", path: "/api/v1/incidents?sort=name", token: w.hnTok, wantStatus: 400, wantFields: []string{"sort"}},
	})
}

func slicesAny[T any](xs []T, f func(int) bool) bool {
	for i := range xs {
		if f(i) {
			return true
		}
	}
	return false
}

func (w *incWorld) testWork(t *testing.T) {
	inc := w.create(t, w.memberTok, form03("Rò rỉ dữ liệu khách hàng"))
	p := "/api/v1/incidents/" + inc["ref"].(string)
	var reportID int64
	runScenarios(t, w.e, []scenario{
		{name: "comment", method: "POST", path: p + "/comments", token: w.hnTok, body: `{"text":"Đã liên hệ đơn vị"}`,
			wantStatus: 201, wantBody: []string{`"kind":"comment"`, "Đã liên hệ đơn vị"}},
		{name: "empty comment", method: "POST", path: p + "/comments", token: w.hnTok, body: `{"text":" "}`,
			wantStatus: 400, wantFields: []string{"text"}, unchanged: count(w.e, "incident_events")},
		{name: "viewer may not comment", method: "POST", path: p + "/comments", token: w.hnViewerTok, body: `{"text":"x"}`,
			wantStatus: 403, unchanged: count(w.e, "incident_events")},
		{name: "timeline", method: "GET", path: p + "/events", token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"kind":"created"`, `"kind":"comment"`}},
		{name: "progress report", method: "POST", path: p + "/reports", token: w.memberTok,
			body: `{"kind":"progress","summary":"Đã khoanh vùng máy chủ"}`, wantStatus: 201,
			check: func(t *testing.T, r reply) {
				var rep struct {
					ID int64 `json:"id"`
				}
				r.into(t, &rep)
				reportID = rep.ID
			}},
		{name: "report kind required", method: "POST", path: p + "/reports", token: w.memberTok,
			body: `{"summary":"x"}`, wantStatus: 400, wantFields: []string{"kind"}, unchanged: count(w.e, "incident_reports")},
		{name: "report bad kind", method: "POST", path: p + "/reports", token: w.memberTok,
			body: `{"kind":"notice","summary":"x"}`, wantStatus: 400, wantFields: []string{"kind"}, unchanged: count(w.e, "incident_reports")},
	})
	runScenarios(t, w.e, []scenario{
		{name: "own report not acked by its author", method: "POST", path: fmt.Sprintf("%s/reports/%d/ack", p, reportID), token: w.memberTok,
			wantStatus: 403},
		{name: "ack", method: "POST", path: fmt.Sprintf("%s/reports/%d/ack", p, reportID), token: w.hnTok, wantStatus: 200,
			wantBody: []string{`"ack_at":`}},
		{name: "ack twice", method: "POST", path: fmt.Sprintf("%s/reports/%d/ack", p, reportID), token: w.hnTok, wantStatus: 409},
		{name: "ack unknown report", method: "POST", path: p + "/reports/999999/ack", token: w.hnTok, wantStatus: 404},
		{name: "reports", method: "GET", path: p + "/reports", token: w.memberTok, wantStatus: 200,
			wantBody: []string{`"kind":"notice"`, `"kind":"progress"`}},
		{name: "add observable (defanged)", method: "POST", path: p + "/observables", token: w.hnTok,
			body: `{"kind":"ipv4","value":"203.0.113[.]9"}`, wantStatus: 201, wantBody: []string{`"value":"203.0.113.9"`, `"source":"manual"`}},
		{name: "bad observable", method: "POST", path: p + "/observables", token: w.hnTok,
			body: `{"kind":"ipv4","value":"not-an-ip"}`, wantStatus: 400, wantFields: []string{"value"}},
		{name: "observables", method: "GET", path: p + "/observables", token: w.hnTok, wantStatus: 200,
			wantBody: []string{`"value":"203.0.113.9"`, `"items":[`}},
		{name: "observables for a reader: no routing", method: "GET", path: p + "/observables", token: w.hnViewerTok, wantStatus: 200,
			notBody: []string{`"routes"`}},
	})
}

func (w *incWorld) testSerious(t *testing.T) {
	e := w.e
	bca := e.Org("BCA", "Cơ quan thường trực", 0, org.RoleStandingBody)
	ncTok := e.Token(e.User(w.nc.ID, "nc.coordinator", policy.RoleCoordinator))
	bcaTok := e.Token(e.User(bca.ID, "bca.coordinator", policy.RoleCoordinator))
	inc := w.create(t, w.memberTok, form03("Tấn công có chủ đích vào hệ thống"))
	p := "/api/v1/incidents/" + inc["ref"].(string)
	runScenarios(t, e, []scenario{
		{name: "decide before a proposal", method: "POST", path: p + "/serious/decide", token: bcaTok,
			body: `{"accept":true}`, wantStatus: 409},
		{name: "reason required", method: "POST", path: p + "/serious/propose", token: ncTok,
			body: `{"reason":""}`, wantStatus: 400, wantFields: []string{"reason"}},
		{name: "propose", method: "POST", path: p + "/serious/propose", token: ncTok,
			body: `{"reason":"Ảnh hưởng đến hệ thống quan trọng"}`, wantStatus: 200,
			wantBody: []string{`"state":"proposed"`, `"class":"ordinary"`}},
		{name: "propose twice", method: "POST", path: p + "/serious/propose", token: ncTok,
			body: `{"reason":"Lần nữa"}`, wantStatus: 409},
		{name: "the coordinator does not decide", method: "POST", path: p + "/serious/decide", token: ncTok,
			body: `{"accept":true}`, wantStatus: 403},
		{name: "decide", method: "POST", path: p + "/serious/decide", token: bcaTok,
			body: `{"accept":true,"note":"Đồng ý"}`, wantStatus: 200,
			wantBody: []string{`"state":"accepted"`, `"class":"serious"`}},
		{name: "listed as serious", method: "GET", path: "/api/v1/incidents?class=serious", token: w.hnTok, wantStatus: 200,
			wantBody: []string{inc["ref"].(string), `"total":1`}},
	})
}

func (w *incWorld) testDuplicate(t *testing.T) {
	a := w.create(t, w.memberTok, form03("Mất kết nối cổng thông tin"))
	b := w.create(t, w.memberTok, form03("Mất kết nối cổng thông tin (lần 2)"))
	p := "/api/v1/incidents/" + b["ref"].(string)
	runScenarios(t, w.e, []scenario{
		{name: "duplicate needs the other", method: "POST", path: p + "/transition", token: w.hnTok,
			body: `{"to":"duplicate"}`, wantStatus: 400, wantFields: []string{"duplicate_of"}},
		{name: "duplicate", method: "POST", path: p + "/transition", token: w.hnTok,
			body: jsonBody(map[string]any{"to": "duplicate", "duplicate_of": a["ref"]}), wantStatus: 200,
			wantBody: []string{`"status":"duplicate"`, fmt.Sprintf(`"duplicate_of":%v`, a["id"]), `"next":[]`}},
		{name: "no report on a duplicate", method: "POST", path: p + "/reports", token: w.memberTok,
			body: `{"kind":"progress","summary":"x"}`, wantStatus: 409},
	})
}
