package api_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
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

