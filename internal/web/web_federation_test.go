package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/federation"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmFederationRoutes) }

// wmPeer makes (as the system) a peer of the target organisation whose
// parent is unreachable (a sync answers at once with its error).
func wmPeer(t *testing.T, c *wmCase) federation.Peer {
	return c.m.e.Peer(t, c.m.ctx, c.t.org.ID, wmPeerParent(t, c).ID, c.n)
}

func wmPeerParent(t *testing.T, c *wmCase) org.Org {
	return c.m.e.PeerParent(t, c.m.ctx, fmt.Sprintf("WFEDP%d", c.n), c.n, policy.TLPGreen)
}

func onPeer(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		return c.check(act, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
	}
}

func wmPeerPost(action string, fields ...string) func(t *testing.T, c *wmCase) wmReq {
	return func(t *testing.T, c *wmCase) wmReq {
		p := wmPeer(t, c)
		form := url.Values{} // fresh per case: the browser adds its CSRF token
		for i := 0; i+1 < len(fields); i += 2 {
			form.Set(fields[i], fields[i+1])
		}
		return wmReq{method: http.MethodPost, path: fmt.Sprintf("/federation/%d/%s", p.ID, action), form: form}
	}
}

var wmFederationRoutes = map[string]wmRoute{
	"GET /federation": {
		req: func(t *testing.T, c *wmCase) wmReq {
			wmPeer(t, c)
			return wmReq{method: http.MethodGet, path: "/federation"}
		},
		decide: onOwn(policy.FederationRead, policy.TLPAmber),
		shows:  onPeer(policy.FederationRead),
		seen:   contains(func(c *wmCase) string { return fmt.Sprintf(">peer-%d<", c.n) }),
	},
	"POST /federation": {
		req: func(t *testing.T, c *wmCase) wmReq {
			parent := wmPeerParent(t, c)
			return wmReq{method: http.MethodPost, path: "/federation", form: url.Values{"org": {c.t.org.Code}, "parent_org": {parent.Code},
				"name": {fmt.Sprintf("new-%d", c.n)}, "api_root": {"https://vncert.example/taxii2/api/"}, "push_collection": {"amber"},
				"pull_collections": {"amber, indicators-green"}, "auth_kind": {"bearer"}, "secret": {"cn_x"}, "interval_minutes": {"15"},
				"enabled": {"1"}}}
		},
		// The codes are read as the actor (an organisation it may not see
		// is "no such organisation", a form error); then the peer is the
		// target's.
		decide: func(c *wmCase) error {
			if err := c.check(policy.OrgRead, c.t.org.Resource()); err != nil {
				return onOwn(policy.FederationManage, policy.TLPAmber)(c)
			}
			return onPeer(policy.FederationManage)(c)
		},
	},
	"POST /federation/{id}/sync":    {req: wmPeerPost("sync"), decide: onPeer(policy.FederationManage)},
	"POST /federation/{id}/enabled": {req: wmPeerPost("enabled", "enabled", "0"), decide: onPeer(policy.FederationManage)},
	"POST /federation/{id}/delete":  {req: wmPeerPost("delete"), decide: onPeer(policy.FederationManage)},
}

// TestFederationPage: an administrator adds a peer on the page (a bad
// address is shown on the form, nothing stored), syncs it now against a
// parent certnet and sees what went up, the last success and the counts;
// the secret is never on the page.
func TestFederationPage(t *testing.T) {
	parent := apptest.StartSQLite(t)
	pnat := parent.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	phn := parent.Org("HN", "Hà Nội", pnat.ID, org.RoleProvincialResponseUnit)
	token := parent.Token(parent.User(phn.ID, "hn-sync", policy.RoleAnalyst))

	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm (cấp trên)", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	e.User(hn.ID, "hn-admin", policy.RoleAdmin)
	if _, err := e.App.Intel.Create(context.Background(), e.Sys, intel.Input{OwnerOrgID: hn.ID, Value: "198.51.100.9", TLP: policy.TLPAmber}); err != nil {
		t.Fatal(err)
	}
	e.App.Federation.Settle = 0
	b := newOrgBrowser(t, e)
	b.login("hn-admin")
	if p := b.get("/federation"); p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/federation"`) {
		t.Fatalf("GET /federation: %d", p.Status)
	}
	form := url.Values{"org": {"HN"}, "parent_org": {"VNCERT"}, "name": {"VNCERT"}, "api_root": {"ftp://x/"}, "push_collection": {"amber"},
		"pull_collections": {"amber, indicators-green"}, "auth_kind": {"bearer"}, "secret": {token}, "interval_minutes": {"15"}, "enabled": {"1"}}
	if p := b.post("/federation", form); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "http(s)") {
		t.Fatalf("bad address: %d", p.Status)
	}
	if l, _ := e.App.Federation.List(context.Background(), e.Sys); len(l) != 0 {
		t.Fatal("a peer was stored from a bad form")
	}
	form.Set("api_root", parent.URL+"/taxii2/api/")
	b.get("/federation")
	if p := b.post("/federation", form); p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	l, _ := e.App.Federation.List(context.Background(), e.Sys)
	if len(l) != 1 {
		t.Fatalf("%d peers", len(l))
	}
	p := b.get("/federation")
	if strings.Contains(p.Body, token) || !strings.Contains(p.Body, l[0].Masked) {
		t.Fatal("the page shows the secret, or not its mask")
	}
	p = b.post(fmt.Sprintf("/federation/%d/sync", l[0].ID), url.Values{})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Đã đồng bộ") || !strings.Contains(p.Body, "Gửi lên 1 (") {
		t.Fatalf("sync now: %d\n%s", p.Status, p.Body)
	}
	st, err := e.App.Federation.State(context.Background(), e.Sys, l[0].ID)
	if err != nil || st.LastSuccessAt.IsZero() || st.Pushed != 1 || st.PendingPush != 0 {
		t.Fatalf("state after sync: %+v %v", st, err)
	}
	if p = b.get("/federation"); !strings.Contains(p.Body, "status-ok") {
		t.Fatal("the page does not show the peer healthy")
	}
}
