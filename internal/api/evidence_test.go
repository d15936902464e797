package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(evidenceMatrixRoutes) }

func TestEvidenceAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	member := e.Org("HNM", "Thành viên", hn.ID, org.RoleSystemOwner)
	dn := e.Org("DN", "Đà Nẵng", nat.ID, org.RoleProvincialResponseUnit)
	rep := e.Token(e.User(member.ID, "reporter", policy.RoleReporter))
	analyst := e.Token(e.User(hn.ID, "analyst", policy.RoleAnalyst))
	other := e.Token(e.User(dn.ID, "other", policy.RoleAdmin))
	inc, err := e.App.Incidents.Create(t.Context(), e.Sys, incidentInput(e, member.ID, "Sự cố có tệp"))
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/incidents/" + url.PathEscape(inc.Ref)

	content := "nhật ký máy chủ\n"
	r := call(t, e, "POST", base+"/evidence?name="+url.QueryEscape("nhật ký.log"), rep, content, map[string]string{"Content-Type": "text/plain"})
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var ev incident.Evidence
	json.Unmarshal(r.Body, &ev)
	sum := sha256.Sum256([]byte(content))
	if ev.SHA256 != hex.EncodeToString(sum[:]) || ev.MediaType != "text/plain" {
		t.Fatalf("evidence %+v", ev)
	}
	for _, name := range []string{"../x", "a/b", `C:\x`, "\x00"} {
		r := call(t, e, "POST", base+"/evidence?name="+url.QueryEscape(name), rep, "x", nil)
		if r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(`"name"`)) {
			t.Fatalf("name %q: %d %s", name, r.Status, r.Body)
		}
	}
	r = call(t, e, "GET", fmt.Sprintf("/api/v1/evidence/%d/download", ev.ID), analyst, "", nil)
	if r.Status != 200 || string(r.Body) != content || r.Header.Get("Content-Type") != "application/octet-stream" ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Content-Security-Policy") != "sandbox" ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "filename*=UTF-8''nh%E1%BA%ADt%20k%C3%BD.log") {
		t.Fatalf("download: %d %v", r.Status, r.Header)
	}
	if r := call(t, e, "GET", fmt.Sprintf("/api/v1/evidence/%d/download", ev.ID), other, "", nil); r.Status != 404 {
		t.Fatalf("other province: %d", r.Status)
	}
	r = call(t, e, "GET", fmt.Sprintf("/api/v1/evidence/%d/custody", ev.ID), rep, "", nil)
	var log struct{ Items []incident.CustodyEntry }
	json.Unmarshal(r.Body, &log)
	if len(log.Items) != 2 || log.Items[0].Action != "add" || log.Items[1].Action != "download" {
		t.Fatalf("custody %s", r.Body)
	}
	// Behind a trusted proxy the custody log records the client's address,
	// as the web UI does, not the proxy's.
	e.App.Cfg.TrustProxy = true
	h, err := e.App.Handler()
	if err != nil {
		t.Fatal(err)
	}
	proxied := *e
	proxied.Srv = httptest.NewServer(h)
	defer proxied.Srv.Close()
	proxied.URL = proxied.Srv.URL
	call(t, &proxied, "GET", fmt.Sprintf("/api/v1/evidence/%d/download", ev.ID), analyst, "", map[string]string{"X-Forwarded-For": "203.0.113.50"})
	if got, err := e.App.Evidence.Custody(t.Context(), e.Sys, ev.ID); err != nil || len(got) != 3 || got[2].Address != "203.0.113.50" {
		t.Fatalf("custody behind a proxy: %+v %v", got, err)
	}

	// Tasks.
	r = call(t, e, "POST", base+"/tasks", analyst, `{"title":"Thu thập mẫu"}`, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("task: %d %s", r.Status, r.Body)
	}
	var task incident.Task
	json.Unmarshal(r.Body, &task)
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/tasks/%d/done", task.ID), analyst, `{}`, nil); r.Status != 200 ||
		!bytes.Contains(r.Body, []byte(`"status":"done"`)) {
		t.Fatalf("done: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", base+"/tasks", rep, `{"title":"x"}`, nil); r.Status != 403 {
		t.Fatalf("reporter task: %d", r.Status)
	}
}

// --- the matrix ---

var matrixEvidence sync.Map // mIncKey → incident.Evidence

func (c *mCase) evidence(t *testing.T) incident.Evidence {
	t.Helper()
	inc := c.incident(t)
	if v, ok := matrixEvidence.Load(c.incKey()); ok {
		return v.(incident.Evidence)
	}
	ev, err := c.m.e.App.Evidence.Add(c.m.ctx, c.m.e.Sys, inc.Ref, incident.EvidenceInput{Name: "matrix.log",
		Body: strings.NewReader(fmt.Sprintf("matrix %d", c.n))})
	if err != nil {
		t.Fatalf("matrix evidence: %v", err)
	}
	matrixEvidence.Store(c.incKey(), ev)
	return ev
}

func (c *mCase) task(t *testing.T) incident.Task {
	t.Helper()
	task, err := c.m.e.App.Incidents.AddTask(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, incident.TaskInput{Title: fmt.Sprintf("Việc %d", c.n)})
	if err != nil {
		t.Fatalf("matrix task: %v", err)
	}
	return task
}

func (c *mCase) publicReport(t *testing.T) string {
	t.Helper()
	ref := fmt.Sprintf("PR-2098-%06d", c.n)
	_, err := c.m.e.DB.Exec(c.m.ctx, `INSERT INTO public_reports (ref, name, email, description, addresses, route_org_id, status, created_at)
		VALUES (?, 'Người dân', 'a@example.com', 'Ma trận', '[]', ?, 'new', ?)`, ref, c.t.org.ID, c.m.e.Clock.Now())
	if err != nil {
		t.Fatalf("matrix public report: %v", err)
	}
	return ref
}

func decidePublic(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		res := policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber}
		err := policy.Check(c.a.actor, act, res)
		if err == nil {
			return nil
		}
		if act == policy.PublicReportRead || policy.Check(c.a.actor, policy.PublicReportRead, res) != nil {
			return errs.NotFound("matrix: public report")
		}
		return err
	}
}

var evidenceMatrixRoutes = map[string]mRoute{
	"GET /api/v1/incidents/{ref}/evidence": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, "/evidence"), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/evidence": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, fmt.Sprintf("/evidence?name=m%d.log", c.n)), fmt.Sprintf(`{"bytes":%d}`, c.n)
		},
		decide: decideIncident(policy.EvidenceAdd),
	},
	"GET /api/v1/evidence/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/evidence/%d", c.evidence(t).ID), ""
		},
		decide: decideIncident(policy.EvidenceRead),
	},
	"GET /api/v1/evidence/{id}/custody": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/evidence/%d/custody", c.evidence(t).ID), ""
		},
		decide: decideIncident(policy.EvidenceRead),
	},
	"GET /api/v1/evidence/{id}/download": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/evidence/%d/download", c.evidence(t).ID), ""
		},
		decide: decideIncident(policy.EvidenceDownload),
	},
	"GET /api/v1/incidents/{ref}/tasks": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, "/tasks"), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/tasks": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/tasks"), jsonBody(map[string]any{"title": fmt.Sprintf("Nhiệm vụ %d", c.n)})
		},
		decide: decideIncident(policy.TaskWrite),
	},
	"POST /api/v1/tasks/{id}/done": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/tasks/%d/done", c.task(t).ID), `{"done":true}`
		},
		decide: decideIncident(policy.TaskWrite),
	},
	"POST /api/v1/tasks/{id}/assign": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/tasks/%d/assign", c.task(t).ID), `{"owner_id":0}`
		},
		decide: decideIncident(policy.TaskWrite),
	},
	"GET /api/v1/public-reports": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.publicReport(t)
			return "/api/v1/public-reports?status=new&limit=500", ""
		},
		decide: func(*mCase) error { return nil },
		shows:  decidePublic(policy.PublicReportRead),
		listed: func(t *testing.T, c *mCase, r reply) bool {
			return bytes.Contains(r.Body, []byte(fmt.Sprintf(`"ref":"PR-2098-%06d"`, c.n)))
		},
	},
	"GET /api/v1/public-reports/{ref}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/public-reports/" + c.publicReport(t), ""
		},
		decide: decidePublic(policy.PublicReportRead),
	},
	"POST /api/v1/public-reports/{ref}/convert": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/public-reports/" + c.publicReport(t) + "/convert",
				jsonBody(map[string]any{"title": fmt.Sprintf("Từ báo cáo %d", c.n), "affected_org_id": c.a.actor.OrgID,
					"system": map[string]any{"name": "Cổng"}})
		},
		decide: decidePublic(policy.PublicReportTriage),
	},
	"POST /api/v1/public-reports/{ref}/dismiss": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/public-reports/" + c.publicReport(t) + "/dismiss", `{"reason":"spam"}`
		},
		decide: decidePublic(policy.PublicReportTriage),
	},
}
