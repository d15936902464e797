package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/coord"
	"certnet/internal/errs"
	"certnet/internal/incident"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmCoordRoutes) }

// --- scenario: the national coordinator orders an ISP, the ISP
// acknowledges and reports its result ---

func TestWebCoordOrder(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := context.Background()
	e.User(n.nat.ID, "dieuphoi", policy.RoleCoordinator)
	e.User(n.hanoi.ID, "dieuphoi.hn", policy.RoleCoordinator)
	e.User(n.isp.ID, "saomai.pt", policy.RoleAnalyst)
	inc, err := e.App.Incidents.Create(ctx, e.Sys, incident.Input{Title: "Máy chủ phát tán mã độc", Description: "Máy chủ 198.51.100.7 phát tán mã độc.",
		Type: incident.TypeMalware, ReporterOrgID: n.hanoi.ID, DetectedAt: e.App.Incidents.Now().Add(-time.Hour),
		Contact: incident.Contact{Name: "An", Email: "an@example.vn"}, System: incident.System{Name: "Cổng"}, DetectedBy: incident.DetectIDS})
	if err != nil {
		t.Fatal(err)
	}
	incPath := "/incidents/" + url.PathEscape(inc.Ref)
	deadline := e.Clock.Now().In(time.FixedZone("ICT", 7*3600)).Add(48 * time.Hour).Format("2006-01-02T15:04")
	form := func(targets string) url.Values {
		return url.Values{"title": {"Chặn địa chỉ 198.51.100.7"}, "actions": {"Chặn và làm sạch"}, "targets": {targets},
			"deadline_at": {deadline}, "priority": {"urgent"}}
	}

	// A province may not order the ISP (outside its scope): the form again
	// with the message, nothing saved.
	hb := newOrgBrowser(t, e)
	hb.login("dieuphoi.hn")
	hb.get(incPath)
	p := hb.post(incPath+"/orders", form("ISP-SAOMAI"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "ISP-SAOMAI") || !strings.Contains(p.Body, `id="order-targets-err"`) {
		t.Fatalf("outside scope: %d", p.Status)
	}
	if list, err := e.App.Coord.Orders(ctx, e.Sys, coord.Filter{Incident: inc.ID}); err != nil || len(list) != 0 {
		t.Fatalf("refused order saved: %v %v", list, err)
	}

	// An analyst, who may not issue orders, is refused before being told
	// about a deadline that cannot be read.
	e.User(n.nat.ID, "phantich", policy.RoleAnalyst)
	ab := newOrgBrowser(t, e)
	ab.login("phantich")
	ab.get(incPath)
	bad := form("ISP-SAOMAI")
	bad.Set("deadline_at", "mai")
	if p := ab.post(incPath+"/orders", bad); p.Status != http.StatusForbidden {
		t.Fatalf("analyst with a bad deadline: %d", p.Status)
	}

	nb := newOrgBrowser(t, e)
	nb.login("dieuphoi")
	p = nb.get(incPath)
	orgWant(t, "incident page", p.Body, `action="`+incPath+`/orders"`, `name="targets"`)
	p = nb.post(incPath+"/orders", form("ISP-SAOMAI"))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("issue: %d %s", p.Status, p.Body)
	}
	list, err := e.App.Coord.Orders(ctx, e.Sys, coord.Filter{Incident: inc.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("orders %v %v", list, err)
	}
	orderPath := fmt.Sprintf("/orders/%d", list[0].ID)

	// The ISP sees the order (not the incident) and acknowledges it.
	ib := newOrgBrowser(t, e)
	ib.login("saomai.pt")
	if p := ib.get(incPath); p.Status != http.StatusNotFound {
		t.Fatalf("ISP sees the incident: %d", p.Status)
	}
	p = ib.get("/")
	orgWant(t, "dashboard", p.Body, orderPath)
	p = ib.get("/orders?direction=in")
	orgWant(t, "orders", p.Body, orderPath)
	p = ib.get(orderPath)
	orgWant(t, "order", p.Body, inc.Ref, `value="acknowledged"`)
	if p := ib.post(orderPath+"/respond", url.Values{"status": {"acknowledged"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d %s", p.Status, p.Body)
	}
	ib.get(orderPath)
	if p := ib.post(orderPath+"/respond", url.Values{"status": {"done"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="result-err"`) {
		t.Fatalf("done without result: %d", p.Status)
	}
	if p := ib.post(orderPath+"/respond", url.Values{"status": {"done"}, "result": {"Đã chặn và làm sạch"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("done: %d %s", p.Status, p.Body)
	}
	// The ISP records its own effort on the order's page: it does not see
	// the incident, it sees the order.
	p = ib.get(orderPath)
	orgWant(t, "order effort form", p.Body, `action="`+orderPath+`/effort"`)
	if p := ib.post(orderPath+"/effort", url.Values{"date": {e.Clock.Now().Format(time.DateOnly)}, "people": {"0"},
		"hours": {"3"}, "description": {"Chặn trên biên"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="effort-people-err"`) {
		t.Fatalf("bad order effort: %d", p.Status)
	}
	if p := ib.post(orderPath+"/effort", url.Values{"date": {e.Clock.Now().Format(time.DateOnly)}, "people": {"1"},
		"hours": {"3"}, "cost_vnd": {"900.000"}, "description": {"Chặn trên biên"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("order effort: %d %s", p.Status, p.Body)
	}
	p = ib.get(orderPath)
	orgWant(t, "order effort listed", p.Body, "Chặn trên biên", "900.000")
	p = nb.get(incPath)
	orgWant(t, "incident page after", p.Body, "Đã chặn và làm sạch", "Chặn trên biên")
	if p := nb.get("/orders?format=csv"); p.Status != 200 || !strings.Contains(p.Body, "Đã chặn và làm sạch") {
		t.Fatalf("csv: %d", p.Status)
	}

	// Effort for reimbursement, then its export.
	nb.get(incPath)
	if p := nb.post(incPath+"/effort", url.Values{"org": {"ISP-SAOMAI"}, "date": {e.Clock.Now().Format(time.DateOnly)},
		"people": {"x"}, "hours": {"6,5"}, "description": {"Chặn"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="effort-people-err"`) {
		t.Fatalf("bad effort: %d", p.Status)
	}
	if p := nb.post(incPath+"/effort", url.Values{"org": {"ISP-SAOMAI"}, "date": {e.Clock.Now().Format(time.DateOnly)},
		"people": {"2"}, "hours": {"6,5"}, "cost_vnd": {"2.500.000"}, "description": {"Chặn và làm sạch máy chủ"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("effort: %d %s", p.Status, p.Body)
	}
	p = nb.get(incPath + "/effort/export?format=csv")
	if p.Status != 200 || !strings.Contains(p.Body, "2500000") || !strings.Contains(p.Body, "6.5") || !strings.Contains(p.Body, "900000") {
		t.Fatalf("effort csv: %d %s", p.Status, p.Body)
	}
}

// --- the matrix ---

var wmCoordCases sync.Map // case n → coord.Order; -n → coord.Support

func wmIssuer(c *wmCase) int64 {
	o, err := c.m.e.App.Orgs.GetByCode(c.m.ctx, c.m.e.Sys, "WM-NC")
	if err != nil {
		return 0
	}
	return o.ID
}

func (c *wmCase) coordOrder(t *testing.T) coord.Order {
	t.Helper()
	o, err := c.m.e.App.Coord.Issue(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, coord.IssueInput{Title: fmt.Sprintf("Lệnh %d", c.n),
		Actions: "Chặn", TLP: policy.TLPAmber, DeadlineAt: c.m.e.Clock.Now().Add(48 * time.Hour), Targets: []int64{c.t.org.ID},
		IssuerOrgID: wmIssuer(c)})
	if err != nil {
		t.Fatalf("matrix order: %v", err)
	}
	wmCoordCases.Store(c.n, o)
	return o
}

func (c *wmCase) coordSupport(t *testing.T) coord.Support {
	t.Helper()
	s, err := c.m.e.App.Coord.RequestSupport(c.m.ctx, c.m.e.Sys, c.incident(t).Ref, coord.SupportInput{
		Needed: fmt.Sprintf("Hỗ trợ %d", c.n), OrgID: c.t.org.ID})
	if err != nil {
		t.Fatalf("matrix support: %v", err)
	}
	wmCoordCases.Store(-c.n, s)
	return s
}

// drainCoord fans out queued notifications so that they do not pile up
// ahead of other routes' cases.
func (c *wmCase) drainCoord(t *testing.T) {
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

func wmOrderRead(c *wmCase) error {
	v, _ := wmCoordCases.Load(c.n)
	o, _ := v.(coord.Order)
	for _, owner := range []int64{o.IssuerOrgID, c.t.org.ID} {
		if c.check(policy.OrderRead, policy.Resource{OwnerOrg: owner, TLP: policy.TLPAmber}) == nil {
			return nil
		}
	}
	return errs.NotFound("matrix: order")
}

var wmCoordRoutes = map[string]wmRoute{
	"POST /incidents/{ref}/orders": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/orders"), form: url.Values{"title": {fmt.Sprintf("Lệnh %d", c.n)},
				"actions": {"Chặn"}, "tlp": {"AMBER"}, "targets": {c.t.org.Code},
				"deadline_at": {c.m.e.Clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04")}}}
		},
		decide: func(c *wmCase) error {
			if err := onIncident(policy.IncidentRead)(c); err != nil {
				return err
			}
			if err := c.check(policy.OrderIssue, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen}); err != nil {
				return err
			}
			return c.check(policy.OrderIssue, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPGreen})
		},
	},
	"GET /orders": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodGet, path: "/orders"}
		},
		decide: func(*wmCase) error { return nil },
	},
	"GET /orders/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/orders/%d", c.coordOrder(t).ID)}
		},
		decide: wmOrderRead,
	},
	"POST /orders/{id}/respond": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/orders/%d/respond", c.coordOrder(t).ID),
				form: url.Values{"status": {"acknowledged"}}}
		},
		decide: func(c *wmCase) error {
			if err := wmOrderRead(c); err != nil {
				return err
			}
			if c.a.actor.OrgID != c.t.org.ID {
				return errs.Forbidden("matrix: not a target")
			}
			return c.check(policy.OrderRespond, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
		},
	},
	"POST /orders/{id}/effort": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/orders/%d/effort", c.coordOrder(t).ID),
				form: url.Values{"date": {c.m.e.Clock.Now().Format("2006-01-02")}, "people": {"1"}, "hours": {"2"},
					"description": {fmt.Sprintf("Chặn địa chỉ %d", c.n)}}}
		},
		decide: func(c *wmCase) error {
			if err := wmOrderRead(c); err != nil {
				return err
			}
			if c.a.actor.OrgID != c.t.org.ID {
				return errs.Forbidden("matrix: not a target")
			}
			return c.check(policy.EffortWrite, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPGreen})
		},
	},
	"POST /incidents/{ref}/support": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/support"), form: url.Values{"needed": {fmt.Sprintf("Hỗ trợ %d", c.n)}}}
		},
		decide: func(c *wmCase) error {
			if err := onIncident(policy.IncidentRead)(c); err != nil {
				return err
			}
			if err := c.check(policy.SupportRequest, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen}); err != nil {
				return err
			}
			if c.a.actor.OrgID == wmIssuer(c) {
				return errs.Forbidden("matrix: the national coordinator asks nobody")
			}
			return nil
		},
	},
	"GET /support": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodGet, path: "/support"}
		},
		decide: func(*wmCase) error { return nil },
	},
	"POST /support/{id}/decide": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/support/%d/decide", c.coordSupport(t).ID),
				form: url.Values{"decision": {"accept"}}}
		},
		decide: func(c *wmCase) error {
			v, _ := wmCoordCases.Load(-c.n)
			s, _ := v.(coord.Support)
			if c.check(policy.SupportRead, policy.Resource{OwnerOrg: s.RequesterOrgID, TLP: policy.TLPAmber, SharedOrgs: []int64{s.ReceiverOrgID}}) != nil {
				return errs.NotFound("matrix: support")
			}
			return c.check(policy.SupportDecide, policy.Resource{OwnerOrg: s.ReceiverOrgID, TLP: policy.TLPGreen})
		},
	},
	"GET /incidents/{ref}/effort/export": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodGet, path: c.incPath(t, "/effort/export?format=csv")}
		},
		decide: onIncident(policy.IncidentRead),
		ctype:  "text/csv",
	},
	"POST /incidents/{ref}/effort": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.drainCoord(t)
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/effort"), form: url.Values{"date": {c.m.e.Clock.Now().Format(time.DateOnly)},
				"people": {"1"}, "hours": {"2,5"}, "cost_vnd": {"1.000.000"}, "description": {fmt.Sprintf("Công việc %d", c.n)}}}
		},
		decide: func(c *wmCase) error {
			if err := onIncident(policy.IncidentRead)(c); err != nil {
				return err
			}
			return c.check(policy.EffortWrite, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen})
		},
	},
}
