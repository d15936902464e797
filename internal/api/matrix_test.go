package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"certnet/internal/api"
	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// The authorization matrix: every route of api.Routes, as every role of a
// provincial response unit (and the national coordinator's administrator
// and auditor), against a target organisation in the actor's own
// organisation, a child of it and a sibling outside its scope, under each
// TLP an organisation can carry. What the API answers must be what
// policy.Check decides: allowed → 2xx (409 counts: the request passed
// policy); NotFound → 404 (a denial must not reveal what exists);
// Forbidden → 403; never 5xx.

// mActor is someone the matrix acts as.
type mActor struct {
	name  string
	user  auth.User
	token string
	actor policy.Actor // what policy sees for the token
}

// mTarget is an organisation the matrix acts on, with a contact, a range,
// an AS number, a domain and a user of its own.
type mTarget struct {
	scope     string // own, child, outside
	org       org.Org
	user      auth.User
	contactID int64
	asn       int64
}

// mCase is one cell of the matrix.
type mCase struct {
	m *matrix
	a *mActor
	t *mTarget
	n int // unique per case, for values that must not collide
}

type matrix struct {
	e   *apptest.Env
	n   int
	ctx context.Context
}

// mRoute says how the matrix exercises one route.
type mRoute struct {
	// req builds a valid request for the case; it creates, as the system,
	// anything the request uses up (a contact to delete, a token to revoke).
	req func(t *testing.T, c *mCase) (path, body string)
	// decide is policy's answer for the route on the case; nil is allowed.
	decide func(c *mCase) error
	// For list routes that answer whatever the scope: shows is policy's
	// answer on the target, and listed whether the answer holds it.
	shows  func(c *mCase) error
	listed func(t *testing.T, c *mCase, r reply) bool
}

func (c *mCase) check(act policy.Action) error {
	return policy.Check(c.a.actor, act, c.t.org.Resource())
}

func (c *mCase) checkUser(act policy.Action) error {
	return policy.Check(c.a.actor, act, c.t.user.Resource())
}

func (c *mCase) orgPath(rest string) string {
	return fmt.Sprintf("/api/v1/orgs/%d%s", c.t.org.ID, rest)
}

func (c *mCase) userPath(rest string) string {
	return fmt.Sprintf("/api/v1/users/%d%s", c.t.user.ID, rest)
}

func decideOrg(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error { return c.check(act) }
}

func decideUser(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error { return c.checkUser(act) }
}

func static(path, body string) func(*testing.T, *mCase) (string, string) {
	return func(*testing.T, *mCase) (string, string) { return path, body }
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// itemIDs reads the ids of a list answer.
func itemIDs(t *testing.T, r reply) map[int64]bool {
	t.Helper()
	var l struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	r.into(t, &l)
	out := map[int64]bool{}
	for _, it := range l.Items {
		out[it.ID] = true
	}
	return out
}

// matrixRoutes is the table route → (action, resource) the matrix checks
// against. Every route of api.Routes must have an entry.
// addMatrixRoutes adds an area's entries to the matrix; call it from an
// init function in the area's test file.
func addMatrixRoutes(m map[string]mRoute) {
	for k, v := range m {
		if _, dup := matrixRoutes[k]; dup {
			panic("api matrix: route entry added twice: " + k)
		}
		matrixRoutes[k] = v
	}
}

var matrixRoutes = map[string]mRoute{
	"GET /api/v1/openapi.json": {
		req:    static("/api/v1/openapi.json", ""),
		decide: func(*mCase) error { return nil },
	},
	"GET /api/v1/me": {
		req: static("/api/v1/me", ""),
		decide: func(c *mCase) error {
			return policy.Check(c.a.actor, policy.UserRead, c.a.user.Resource())
		},
	},
	"GET /api/v1/orgs": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/orgs?limit=500&q=" + strings.ToLower(c.t.org.Code), ""
		},
		decide: func(c *mCase) error {
			return policy.Check(c.a.actor, policy.OrgRead, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen})
		},
		shows:  decideOrg(policy.OrgRead),
		listed: func(t *testing.T, c *mCase, r reply) bool { return itemIDs(t, r)[c.t.org.ID] },
	},
	"POST /api/v1/orgs": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/orgs", jsonBody(map[string]any{"code": fmt.Sprintf("MX-NEW-%d", c.n), "name": fmt.Sprintf("Đơn vị mới %d", c.n),
				"parent_id": c.t.org.ID, "roles": []string{"system_owner"}})
		},
		decide: decideOrg(policy.OrgCreate),
	},
	"GET /api/v1/orgs/{id}": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath(""), "" },
		decide: decideOrg(policy.OrgRead),
	},
	"PUT /api/v1/orgs/{id}": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath(""), jsonBody(map[string]any{"address": fmt.Sprintf("Số %d phố Tràng Tiền", c.n)})
		},
		decide: decideOrg(policy.OrgUpdate),
	},
	"GET /api/v1/orgs/{id}/children": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/children"), "" },
		decide: decideOrg(policy.OrgRead),
	},
	"GET /api/v1/orgs/{id}/contacts": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/contacts"), "" },
		decide: decideOrg(policy.OrgRead),
	},
	"POST /api/v1/orgs/{id}/contacts": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/contacts"), jsonBody(map[string]any{"kind": "backup", "name": fmt.Sprintf("Đầu mối %d", c.n),
				"email": fmt.Sprintf("dm%d@matrix.vn", c.n)})
		},
		decide: decideOrg(policy.ContactWrite),
	},
	"PUT /api/v1/orgs/{id}/contacts/{cid}": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath(fmt.Sprintf("/contacts/%d", c.t.contactID)), jsonBody(map[string]any{"title": fmt.Sprintf("Chức vụ %d", c.n)})
		},
		decide: decideOrg(policy.ContactWrite),
	},
	"DELETE /api/v1/orgs/{id}/contacts/{cid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			ct, err := c.m.e.App.Orgs.SaveContact(c.m.ctx, c.m.e.Sys, c.t.org.ID, org.ContactInput{Kind: "intake",
				Name: fmt.Sprintf("Xoá %d", c.n), Email: fmt.Sprintf("x%d@matrix.vn", c.n)})
			if err != nil {
				t.Fatal(err)
			}
			return c.orgPath(fmt.Sprintf("/contacts/%d", ct.ID)), ""
		},
		decide: decideOrg(policy.ContactWrite),
	},
	"GET /api/v1/orgs/{id}/contacts/history": {
		req: func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/contacts/history"), "" },
		// Those who keep the contacts, and those who audit the org.
		decide: func(c *mCase) error {
			err := c.check(policy.ContactWrite)
			if err != nil && c.check(policy.AuditRead) == nil {
				return nil
			}
			return err
		},
	},
	"GET /api/v1/orgs/{id}/ranges": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/ranges"), "" },
		decide: decideOrg(policy.RangeRead),
	},
	"POST /api/v1/orgs/{id}/ranges": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/ranges"), jsonBody(map[string]any{"value": fmt.Sprintf("100.100.%d.%d/32", c.n>>8&255, c.n&255)})
		},
		decide: decideOrg(policy.RangeWrite),
	},
	"DELETE /api/v1/orgs/{id}/ranges/{rid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			r, err := c.m.e.App.Orgs.AddRange(c.m.ctx, c.m.e.Sys, c.t.org.ID, fmt.Sprintf("100.101.%d.%d/32", c.n>>8&255, c.n&255), "")
			if err != nil {
				t.Fatal(err)
			}
			return c.orgPath(fmt.Sprintf("/ranges/%d", r.ID)), ""
		},
		decide: decideOrg(policy.RangeWrite),
	},
	"GET /api/v1/orgs/{id}/asns": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/asns"), "" },
		decide: decideOrg(policy.RangeRead),
	},
	"POST /api/v1/orgs/{id}/asns": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/asns"), jsonBody(map[string]any{"value": fmt.Sprintf("AS%d", 4_200_000_000+c.n)})
		},
		decide: decideOrg(policy.RangeWrite),
	},
	"DELETE /api/v1/orgs/{id}/asns/{rid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			r, err := c.m.e.App.Orgs.AddASN(c.m.ctx, c.m.e.Sys, c.t.org.ID, fmt.Sprint(4_210_000_000+c.n), "")
			if err != nil {
				t.Fatal(err)
			}
			return c.orgPath(fmt.Sprintf("/asns/%d", r.ID)), ""
		},
		decide: decideOrg(policy.RangeWrite),
	},
	"GET /api/v1/orgs/{id}/domains": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/domains"), "" },
		decide: decideOrg(policy.RangeRead),
	},
	"POST /api/v1/orgs/{id}/domains": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/domains"), jsonBody(map[string]any{"value": fmt.Sprintf("p%d.matrix.vn", c.n)})
		},
		decide: decideOrg(policy.RangeWrite),
	},
	"DELETE /api/v1/orgs/{id}/domains/{rid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			r, err := c.m.e.App.Orgs.AddDomain(c.m.ctx, c.m.e.Sys, c.t.org.ID, fmt.Sprintf("d%d.matrix.vn", c.n), "")
			if err != nil {
				t.Fatal(err)
			}
			return c.orgPath(fmt.Sprintf("/domains/%d", r.ID)), ""
		},
		decide: decideOrg(policy.RangeWrite),
	},
	"GET /api/v1/whois": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return fmt.Sprintf("/api/v1/whois?q=AS%d", c.t.asn), "" },
		decide: decideOrg(policy.Whois),
	},
	"GET /api/v1/users": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/users?limit=500&q=" + c.t.user.Username, ""
		},
		// Everyone may list: administrators and auditors their scope, the
		// others themselves.
		decide: func(*mCase) error { return nil },
		shows:  decideUser(policy.UserRead),
		listed: func(t *testing.T, c *mCase, r reply) bool { return itemIDs(t, r)[c.t.user.ID] },
	},
	"POST /api/v1/users": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/users", jsonBody(map[string]any{"org_id": c.t.org.ID, "username": fmt.Sprintf("mx.new%d", c.n),
				"roles": []string{"viewer"}, "password": apptest.Password})
		},
		decide: func(c *mCase) error {
			return policy.Check(c.a.actor, policy.UserWrite, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
		},
	},
	"GET /api/v1/users/{id}": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.userPath(""), "" },
		decide: decideUser(policy.UserRead),
	},
	"PUT /api/v1/users/{id}": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.userPath(""), jsonBody(map[string]any{"display_name": fmt.Sprintf("Người dùng %d", c.n)})
		},
		decide: decideUser(policy.UserWrite),
	},
	"GET /api/v1/users/{id}/tokens": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.userPath("/tokens"), "" },
		decide: decideUser(policy.UserRead),
	},
	"POST /api/v1/users/{id}/tokens": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.userPath("/tokens"), jsonBody(map[string]any{"name": fmt.Sprintf("m%d", c.n), "scopes": []string{"read"}})
		},
		decide: decideUser(policy.UserWrite),
	},
	"DELETE /api/v1/users/{id}/tokens/{tid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			tk, _, err := c.m.e.App.Auth.CreateToken(c.m.ctx, c.m.e.Sys, c.t.user.ID, fmt.Sprintf("r%d", c.n),
				[]string{"read"}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return c.userPath(fmt.Sprintf("/tokens/%d", tk.ID)), ""
		},
		decide: decideUser(policy.UserWrite),
	},
	"GET /api/v1/incidents": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/incidents?limit=500&q=" + c.incident(t).Ref, ""
		},
		// Everyone may list: the answer holds what they may read.
		decide: func(*mCase) error { return nil },
		shows:  decideIncident(policy.IncidentRead),
		listed: func(t *testing.T, c *mCase, r reply) bool { return itemIDs(t, r)[c.inc().ID] },
	},
	"POST /api/v1/incidents": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return "/api/v1/incidents", jsonBody(matrixIncidentBody(c.reportTarget(), c.n))
		},
		decide: decideReportIncident,
	},
	"GET /api/v1/incidents/{ref}": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, ""), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/transition": {
		// received → closed is never allowed: the answer is 409 for whoever
		// may work the incident, nothing changes.
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/transition"), jsonBody(map[string]any{"to": "closed"})
		},
		decide: decideIncident(policy.IncidentWork),
	},
	"POST /api/v1/incidents/{ref}/classify": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/classify"), jsonBody(map[string]any{"severity": "high"})
		},
		decide: decideIncident(policy.IncidentClassify),
	},
	"POST /api/v1/incidents/{ref}/serious/propose": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/serious/propose"), jsonBody(map[string]any{"reason": fmt.Sprintf("Lý do %d", c.n)})
		},
		// incident.classify, and the actor's organisation must be the
		// national coordinator: none of the matrix's classifiers is.
		decide: decideOrgRole(policy.IncidentClassify),
	},
	"POST /api/v1/incidents/{ref}/serious/decide": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/serious/decide"), jsonBody(map[string]any{"accept": false})
		},
		// incident.decide_serious, and the actor's organisation must be the
		// standing body: no organisation of the matrix is.
		decide: decideOrgRole(policy.IncidentDecideSerious),
	},
	"GET /api/v1/incidents/{ref}/events": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, "/events"), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/comments": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/comments"), jsonBody(map[string]any{"text": fmt.Sprintf("Ghi chú %d", c.n)})
		},
		decide: decideIncident(policy.IncidentWork),
	},
	"GET /api/v1/incidents/{ref}/reports": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, "/reports"), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/reports": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/reports"), jsonBody(map[string]any{"kind": "progress", "summary": fmt.Sprintf("Tiến độ %d", c.n)})
		},
		decide: decideIncident(policy.IncidentReport),
	},
	"POST /api/v1/incidents/{ref}/reports/{id}/ack": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, fmt.Sprintf("/reports/%d/ack", c.systemReport(t))), ""
		},
		decide: decideIncident(policy.IncidentWork),
	},
	"GET /api/v1/incidents/{ref}/observables": {
		req:    func(t *testing.T, c *mCase) (string, string) { return c.incidentPath(t, "/observables"), "" },
		decide: decideIncident(policy.IncidentRead),
	},
	"POST /api/v1/incidents/{ref}/observables": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return c.incidentPath(t, "/observables"), jsonBody(map[string]any{"kind": "ipv4",
				"value": fmt.Sprintf("203.0.113.%d", c.n%250+1)})
		},
		decide: decideIncident(policy.IncidentWork),
	},
}

// Every route has an entry in the matrix, and every entry is a route.
func TestMatrixCoversEveryRoute(t *testing.T) {
	routed := map[string]bool{}
	for _, r := range api.Routes {
		k := r.Method + " " + r.Pattern
		routed[k] = true
		if _, ok := matrixRoutes[k]; !ok {
			t.Errorf("route %s has no entry in matrixRoutes: add how to call it and which policy action decides it", k)
		}
	}
	for k := range matrixRoutes {
		if !routed[k] {
			t.Errorf("matrixRoutes has %s, which api.Routes does not list", k)
		}
	}
}

// tlpCode is a TLP as a member-code fragment.
func tlpCode(l policy.TLP) string { return strings.ReplaceAll(string(l), "+", "-") }

var orgTLPs = []policy.TLP{policy.TLPClear, policy.TLPGreen, policy.TLPAmber, policy.TLPAmberStrict}

func TestAuthorizationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("matrix: skipped in -short")
	}
	e := apptest.StartSQLite(t)
	ctx := context.Background()
	m := &matrix{e: e, ctx: ctx}
	mkOrg := func(code, name string, parent int64, tlp policy.TLP, role org.Role) org.Org {
		o, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: code, Name: name, ParentID: parent, Roles: []org.Role{role},
			Active: true, TLP: tlp})
		if err != nil {
			t.Fatalf("org %s: %v", code, err)
		}
		return o
	}
	nc := mkOrg("MX-NC", "Cơ quan điều phối quốc gia", 0, policy.TLPGreen, org.RoleNationalCoordinator)
	prov := mkOrg("MX-HN", "Sở Thông tin và Truyền thông Hà Nội", nc.ID, policy.TLPGreen, org.RoleProvincialResponseUnit)

	// The targets: the province itself (its TLP changes between rounds), a
	// member under it and a sibling province, for each TLP.
	seq := 0
	target := func(scope string, o org.Org) *mTarget {
		seq++
		tg := &mTarget{scope: scope, org: o, asn: int64(64_600 + seq)}
		tg.user = e.User(o.ID, fmt.Sprintf("mx.target%d", seq), policy.RoleViewer)
		c, err := e.App.Orgs.SaveContact(ctx, e.Sys, o.ID, org.ContactInput{Kind: "primary", Name: "Đầu mối chính",
			Email: fmt.Sprintf("primary%d@matrix.vn", seq)})
		if err != nil {
			t.Fatal(err)
		}
		tg.contactID = c.ID
		if _, err := e.App.Orgs.AddRange(ctx, e.Sys, o.ID, fmt.Sprintf("198.18.%d.0/24", seq), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Orgs.AddASN(ctx, e.Sys, o.ID, fmt.Sprint(tg.asn), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Orgs.AddDomain(ctx, e.Sys, o.ID, fmt.Sprintf("t%d.matrix.vn", seq), ""); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	own := target("own", prov)
	child, outside := map[policy.TLP]*mTarget{}, map[policy.TLP]*mTarget{}
	for _, l := range orgTLPs {
		child[l] = target("child", mkOrg("MX-HN-"+tlpCode(l), "Thành viên "+string(l), prov.ID, l, org.RoleSystemOwner))
		outside[l] = target("outside", mkOrg("MX-DN-"+tlpCode(l), "Sở tỉnh bạn "+string(l), nc.ID, l, org.RoleProvincialResponseUnit))
	}

	var actors []*mActor
	addActor := func(name string, orgID int64, role policy.Role) {
		u := e.User(orgID, "mx."+name, role)
		a, err := e.App.Auth.ActorFor(ctx, u, "")
		if err != nil {
			t.Fatal(err)
		}
		a.TokenScopes = []string{auth.ScopeRead, auth.ScopeWrite} // what e.Token issues
		actors = append(actors, &mActor{name: name, user: u, token: e.Token(u), actor: a})
	}
	for _, r := range policy.Roles {
		addActor("hn."+string(r), prov.ID, r)
	}
	addActor("nc.admin", nc.ID, policy.RoleAdmin)
	addActor("nc.auditor", nc.ID, policy.RoleAuditor)

	keys := make([]string, 0, len(api.Routes))
	for _, r := range api.Routes {
		keys = append(keys, r.Method+" "+r.Pattern)
	}
	cases, allowed := 0, 0
	start := time.Now()
	for _, l := range orgTLPs {
		// The province's own label for this round.
		in := org.InputOf(prov)
		in.TLP = l
		p, err := e.App.Orgs.Update(ctx, e.Sys, prov.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		own.org = p
		targets := []*mTarget{own, child[l], outside[l]}
		t.Run(tlpCode(l), func(t *testing.T) {
			for _, k := range keys {
				rt, ok := matrixRoutes[k]
				if !ok {
					continue // TestMatrixCoversEveryRoute reports it
				}
				method, _, _ := strings.Cut(k, " ")
				t.Run(k, func(t *testing.T) {
					for _, a := range actors {
						for _, tg := range targets {
							m.n++
							c := &mCase{m: m, a: a, t: tg, n: m.n}
							if m.runCase(t, c, method, rt) {
								allowed++
							}
							cases++
						}
					}
				})
			}
		})
	}
	t.Logf("matrix: %d cases (%d allowed) over %d routes × %d actors × 3 scopes × %d TLPs in %v",
		cases, allowed, len(keys), len(actors), len(orgTLPs), time.Since(start).Round(time.Millisecond))
	auditClean(t, e)
}

// runCase sends the case's request and compares the answer with policy's.
// It reports whether policy allowed it.
func (m *matrix) runCase(t *testing.T, c *mCase, method string, rt mRoute) bool {
	t.Helper()
	path, body := rt.req(t, c)
	r := call(t, m.e, method, path, c.a.token, body, nil)
	want := rt.decide(c)
	label := fmt.Sprintf("%s on %s %s (%s): %s %s", c.a.name, c.t.scope, c.t.org.TLP, c.t.org.Code, method, path)
	switch {
	case r.Status >= 500:
		t.Errorf("%s: %d, never 5xx\n%s", label, r.Status, r.Body)
	case want == nil:
		if (r.Status < 200 || r.Status > 299) && r.Status != 409 {
			t.Errorf("%s: policy allows, API answers %d\n%s", label, r.Status, r.Body)
		} else if rt.listed != nil && r.Status == 200 {
			shown, should := rt.listed(t, c, r), rt.shows(c) == nil
			if shown != should {
				t.Errorf("%s: target listed %v, policy says %v", label, shown, should)
			}
		}
	case errs.Is(want, errs.KindNotFound):
		if r.Status != 404 {
			t.Errorf("%s: policy hides the target (not found), API answers %d\n%s", label, r.Status, r.Body)
		}
	default:
		if r.Status != 403 {
			t.Errorf("%s: policy forbids (%v), API answers %d\n%s", label, want, r.Status, r.Body)
		}
	}
	if r.Status >= 400 {
		checkErrorShape(t, r)
	}
	return want == nil
}
