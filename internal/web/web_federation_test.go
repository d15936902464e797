package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"certnet/internal/federation"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmFederationRoutes) }

// wmPeer makes (as the system) a peer of the target organisation whose
// parent is unreachable (a sync answers at once with its error).
func wmPeer(t *testing.T, c *wmCase) federation.Peer {
	t.Helper()
	e := c.m.e
	e.App.Federation.Retries = 0
	parent := wmPeerParent(t, c)
	p, err := e.App.Federation.Create(c.m.ctx, e.Sys, federation.PeerInput{OrgID: c.t.org.ID, ParentOrgID: parent.ID,
		Name: fmt.Sprintf("peer-%d", c.n), APIRoot: "http://127.0.0.1:1/taxii2/api/", PushCollection: "amber",
		PullCollections: []string{"amber"}, Secret: "cn_secret", Interval: time.Hour, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wmPeerParent(t *testing.T, c *wmCase) org.Org {
	t.Helper()
	o, err := c.m.e.App.Orgs.Create(c.m.ctx, c.m.e.Sys, org.Input{Code: fmt.Sprintf("WFEDP%d", c.n), Name: fmt.Sprintf("Cấp trên %d", c.n),
		Roles: []org.Role{org.RoleNationalCoordinator}, Active: true, TLP: policy.TLPGreen})
	if err != nil {
		t.Fatal(err)
	}
	return o
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
