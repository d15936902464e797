package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(coordMatrixRoutes) }

func TestCoordAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	member := e.Org("HNM", "Thành viên", hn.ID, org.RoleSystemOwner)
	isp := e.Org("ISP-SAOMAI", "Nhà mạng Sao Mai", nat.ID, org.RoleISP)
	natc := e.Token(e.User(nat.ID, "natc", policy.RoleCoordinator))
	hnc := e.Token(e.User(hn.ID, "hnc", policy.RoleCoordinator))
	ispa := e.Token(e.User(isp.ID, "ispa", policy.RoleAnalyst))
	rep := e.Token(e.User(member.ID, "rep", policy.RoleReporter))
	inc, err := e.App.Incidents.Create(t.Context(), e.Sys, incidentInput(e, member.ID, "Mã độc từ 198.51.100.23"))
	if err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/incidents/" + url.PathEscape(inc.Ref)
	deadline := e.Clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
	order := func(tok string, targets ...int64) reply {
		return call(t, e, "POST", base+"/orders", tok, jsonBody(map[string]any{"title": "Chặn địa chỉ 198.51.100.23",
			"actions": "Chặn và làm sạch", "priority": "urgent", "deadline_at": deadline, "targets": targets}), nil)
	}
	// A province may not order an ISP outside its scope: nothing saved.
	if r := order(hnc, isp.ID); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(`"targets"`)) {
		t.Fatalf("outside scope: %d %s", r.Status, r.Body)
	}
	r := order(natc, isp.ID)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	var o coord.Order
	if err := json.Unmarshal(r.Body, &o); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/orders/%d", o.ID)
	if r := call(t, e, "GET", path, rep, "", nil); r.Status != 404 {
		t.Fatalf("member sees the order: %d", r.Status)
	}
	if r := call(t, e, "GET", "/api/v1/orders?direction=in", ispa, "", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(fmt.Sprintf(`"id":%d`, o.ID))) {
		t.Fatalf("ISP list: %d %s", r.Status, r.Body)
	}
	for _, st := range []string{`{"status":"acknowledged"}`, `{"status":"done","result":"Đã chặn"}`} {
		if r := call(t, e, "POST", path+"/respond", ispa, st, nil); r.Status != 200 {
			t.Fatalf("%s: %d %s", st, r.Status, r.Body)
		}
	}
	if r := call(t, e, "POST", path+"/respond", ispa, `{"status":"unable","result":"x"}`, nil); r.Status != 409 {
		t.Fatalf("after done: %d", r.Status)
	}
	r = call(t, e, "GET", path, natc, "", nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"status":"done"`)) {
		t.Fatalf("issuer view: %d %s", r.Status, r.Body)
	}

	// Support and effort.
	r = call(t, e, "POST", base+"/support", rep, `{"needed":"Cần phân tích mã độc","urgency":"high"}`, nil)
	if r.Status != http.StatusCreated || !bytes.Contains(r.Body, []byte(fmt.Sprintf(`"receiver_org_id":%d`, hn.ID))) {
		t.Fatalf("support: %d %s", r.Status, r.Body)
	}
	var sr coord.Support
	if err := json.Unmarshal(r.Body, &sr); err != nil {
		t.Fatal(err)
	}
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/support/%d/decide", sr.ID), hnc, `{"decision":"accept"}`, nil); r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	day := e.Clock.Now().Format(time.DateOnly)
	if r := call(t, e, "POST", base+"/effort", natc, jsonBody(map[string]any{"org_id": isp.ID, "date": day, "people": 2, "hours": 6.5,
		"cost_vnd": 2500000, "description": "Chặn và làm sạch"}), nil); r.Status != http.StatusCreated {
		t.Fatalf("effort: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "GET", base+"/effort", natc, "", nil)
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"cost_vnd":2500000`)) {
		t.Fatalf("effort list: %d %s", r.Status, r.Body)
	}
	// Organisations the caller may read are named, with their codes.
	for _, want := range []string{`"org_code":"ISP-SAOMAI","org_name":"Nhà mạng Sao Mai"`, `{"org_id":4,"org_name":"Nhà mạng Sao Mai"`} {
		if !bytes.Contains(r.Body, []byte(want)) {
			t.Fatalf("effort list names: want %s in %s", want, r.Body)
		}
	}
	if r := call(t, e, "GET", path, ispa, "", nil); !bytes.Contains(r.Body, []byte(`"issuer_name":"Trung tâm"`)) ||
		!bytes.Contains(r.Body, []byte(`"org_code":"ISP-SAOMAI","org_name":"Nhà mạng Sao Mai"`)) {
		t.Fatalf("order names: %s", r.Body)
	}
	if r := call(t, e, "GET", fmt.Sprintf("/api/v1/support/%d", sr.ID), rep, "", nil); !bytes.Contains(r.Body,
		[]byte(`"requester_name":"Thành viên"`)) || !bytes.Contains(r.Body, []byte(`"receiver_name":"Hà Nội"`)) {
		t.Fatalf("support names: %s", r.Body)
	}
}

// --- the matrix ---

// matrixIssuer is the matrix's national coordinator, which issues the
// orders the cases respond to (0 when it cannot be read: every check on it
// then fails loudly).
func (c *mCase) matrixIssuer() int64 {
	o, err := c.m.e.App.Orgs.GetByCode(c.m.ctx, c.m.e.Sys, "MX-NC")
	if err != nil {
		return 0
	}
	return o.ID
}

// order issues, as the system for the national coordinator, a fresh
// order on the target's incident to the target.
func (c *mCase) order(t *testing.T) coord.Order {
	t.Helper()
	o, err := c.m.e.App.Coord.Issue(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, coord.IssueInput{Title: fmt.Sprintf("Lệnh %d", c.n),
		Actions: "Chặn", TLP: policy.TLPAmber, DeadlineAt: c.m.e.Clock.Now().Add(48 * time.Hour), Targets: []int64{c.t.org.ID},
		IssuerOrgID: c.matrixIssuer()})
	if err != nil {
		t.Fatalf("matrix order: %v", err)
	}
	matrixOrders.Store(c.n, o)
	return o
}

// support files, as the system for the target, a fresh support request.
func (c *mCase) support(t *testing.T) coord.Support {
	t.Helper()
	s, err := c.m.e.App.Coord.RequestSupport(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, coord.SupportInput{
		Needed: fmt.Sprintf("Hỗ trợ %d", c.n), OrgID: c.t.org.ID})
	if err != nil {
		t.Fatalf("matrix support: %v", err)
	}
	matrixOrders.Store(-c.n, s)
	return s
}

// drain fans out the notifications the coordination routes queued, so
// that they do not pile up ahead of other routes' cases.
func (c *mCase) drain(t *testing.T) {
	t.Helper()
	for range 100 {
		n, err := c.m.e.App.Notify.Fanout(c.m.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// matrixOrders holds each case's order (key n) and support request (key -n).
var matrixOrders sync.Map

func loadCase(n int) any {
	v, _ := matrixOrders.Load(n)
	return v
}

func decideOrderRead(c *mCase, o coord.Order) error {
	for _, owner := range []int64{o.IssuerOrgID, c.t.org.ID} {
		if policy.Check(c.a.actor, policy.OrderRead, policy.Resource{OwnerOrg: owner, TLP: policy.TLPAmber}) == nil {
			return nil
		}
	}
	return errs.NotFound("matrix: order")
}

func decideSupportRead(c *mCase, s coord.Support) error {
	if policy.Check(c.a.actor, policy.SupportRead, policy.Resource{OwnerOrg: s.RequesterOrgID, TLP: policy.TLPAmber,
		SharedOrgs: []int64{s.ReceiverOrgID}}) != nil {
		return errs.NotFound("matrix: support")
	}
	return nil
}

var coordMatrixRoutes = map[string]mRoute{
	"GET /api/v1/orders": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return "/api/v1/orders", ""
		},
		decide: func(*mCase) error { return nil },
	},
	"POST /api/v1/incidents/{ref}/orders": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return c.incidentPath(t, "/orders"), jsonBody(map[string]any{"title": fmt.Sprintf("Lệnh %d", c.n), "actions": "Chặn",
				"tlp": "AMBER", "deadline_at": c.m.e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339), "targets": []int64{c.t.org.ID}})
		},
		decide: func(c *mCase) error {
			if err := decideIncident(policy.IncidentRead)(c); err != nil {
				return err
			}
			if err := policy.Check(c.a.actor, policy.OrderIssue, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen}); err != nil {
				return err
			}
			// The matrix's organisations are the national coordinator and a
			// response unit; the target is in scope whenever the incident
			// is visible to a coordinator.
			return policy.Check(c.a.actor, policy.OrderIssue, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPGreen})
		},
	},
	"GET /api/v1/orders/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return fmt.Sprintf("/api/v1/orders/%d", c.order(t).ID), ""
		},
		decide: func(c *mCase) error {
			return decideOrderRead(c, loadCase(c.n).(coord.Order))
		},
	},
	"POST /api/v1/orders/{id}/respond": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return fmt.Sprintf("/api/v1/orders/%d/respond", c.order(t).ID), `{"status":"acknowledged"}`
		},
		decide: func(c *mCase) error {
			if err := decideOrderRead(c, loadCase(c.n).(coord.Order)); err != nil {
				return err
			}
			if c.a.actor.OrgID != c.t.org.ID {
				return errs.Forbidden("matrix: not a target")
			}
			return policy.Check(c.a.actor, policy.OrderRespond, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
		},
	},
	"GET /api/v1/orders/{id}/effort": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return fmt.Sprintf("/api/v1/orders/%d/effort", c.order(t).ID), ""
		},
		decide: func(c *mCase) error {
			return decideOrderRead(c, loadCase(c.n).(coord.Order))
		},
	},
	"POST /api/v1/orders/{id}/effort": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return fmt.Sprintf("/api/v1/orders/%d/effort", c.order(t).ID), jsonBody(map[string]any{
				"date": c.m.e.Clock.Now().Format(time.DateOnly), "people": 1, "hours": 2, "description": "Chặn địa chỉ"})
		},
		decide: func(c *mCase) error {
			if err := decideOrderRead(c, loadCase(c.n).(coord.Order)); err != nil {
				return err
			}
			if c.a.actor.OrgID != c.t.org.ID {
				return errs.Forbidden("matrix: not a target")
			}
			return policy.Check(c.a.actor, policy.EffortWrite, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPGreen})
		},
	},
	"GET /api/v1/support": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return "/api/v1/support", ""
		},
		decide: func(*mCase) error { return nil },
	},
	"POST /api/v1/incidents/{ref}/support": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return c.incidentPath(t, "/support"), jsonBody(map[string]any{"needed": fmt.Sprintf("Hỗ trợ %d", c.n)})
		},
		decide: func(c *mCase) error {
			if err := decideIncident(policy.IncidentRead)(c); err != nil {
				return err
			}
			if err := policy.Check(c.a.actor, policy.SupportRequest, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen}); err != nil {
				return err
			}
			if c.a.actor.OrgID == c.matrixIssuer() {
				return errs.Forbidden("matrix: the national coordinator asks nobody")
			}
			return nil
		},
	},
	"GET /api/v1/support/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return fmt.Sprintf("/api/v1/support/%d", c.support(t).ID), ""
		},
		decide: func(c *mCase) error {
			return decideSupportRead(c, loadCase(-c.n).(coord.Support))
		},
	},
	"POST /api/v1/support/{id}/decide": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return fmt.Sprintf("/api/v1/support/%d/decide", c.support(t).ID), `{"decision":"accept"}`
		},
		decide: func(c *mCase) error {
			s := loadCase(-c.n).(coord.Support)
			if err := decideSupportRead(c, s); err != nil {
				return err
			}
			return policy.Check(c.a.actor, policy.SupportDecide, policy.Resource{OwnerOrg: s.ReceiverOrgID, TLP: policy.TLPGreen})
		},
	},
	"GET /api/v1/incidents/{ref}/effort": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, "/effort"), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/effort": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return c.incidentPath(t, "/effort"), jsonBody(map[string]any{"date": c.m.e.Clock.Now().Format(time.DateOnly),
				"people": 1, "hours": 2, "cost_vnd": 100000, "description": fmt.Sprintf("Công việc %d", c.n)})
		},
		decide: func(c *mCase) error {
			if err := decideIncident(policy.IncidentRead)(c); err != nil {
				return err
			}
			return policy.Check(c.a.actor, policy.EffortWrite, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen})
		},
	},
}
