package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"certnet/internal/federation"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(federationMatrix) }

// mxPeer makes (as the system) a peer of the target organisation, whose
// parent (an unreachable address: a sync answers 409 at once) stands for
// a new organisation.
func mxPeer(t *testing.T, c *mCase) federation.Peer {
	t.Helper()
	e := c.m.e
	e.App.Federation.Retries = 0
	parent := mxPeerParent(t, c)
	p, err := e.App.Federation.Create(c.m.ctx, e.Sys, federation.PeerInput{OrgID: c.t.org.ID, ParentOrgID: parent.ID,
		Name: fmt.Sprintf("peer-%d", c.n), APIRoot: "http://127.0.0.1:1/taxii2/api/", PushCollection: "amber",
		PullCollections: []string{"amber"}, Secret: "cn_secret", Interval: time.Hour, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mxPeerParent(t *testing.T, c *mCase) org.Org {
	t.Helper()
	o, err := c.m.e.App.Orgs.Create(c.m.ctx, c.m.e.Sys, org.Input{Code: fmt.Sprintf("FEDP%d", c.n), Name: fmt.Sprintf("Cấp trên %d", c.n),
		Roles: []org.Role{org.RoleNationalCoordinator}, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func decidePeer(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		return policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
	}
}

func mxPeerReq(rest string, body func(c *mCase, p federation.Peer) string) func(t *testing.T, c *mCase) (string, string) {
	return func(t *testing.T, c *mCase) (string, string) {
		p := mxPeer(t, c)
		b := ""
		if body != nil {
			b = body(c, p)
		}
		return fmt.Sprintf("/api/v1/federation/peers/%d%s", p.ID, rest), b
	}
}

var federationMatrix = map[string]mRoute{
	"GET /api/v1/federation/peers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			mxPeer(t, c)
			return "/api/v1/federation/peers", ""
		},
		decide: func(*mCase) error { return nil },
		shows:  decidePeer(policy.FederationRead),
		listed: func(_ *testing.T, c *mCase, r reply) bool {
			return strings.Contains(string(r.Body), fmt.Sprintf(`"name":"peer-%d"`, c.n))
		},
	},
	"POST /api/v1/federation/peers": {
		req: func(t *testing.T, c *mCase) (string, string) {
			parent := mxPeerParent(t, c)
			return "/api/v1/federation/peers", jsonBody(map[string]any{"org_id": c.t.org.ID, "parent_org_id": parent.ID,
				"name": fmt.Sprintf("new-%d", c.n), "api_root": "https://vncert.example/taxii2/api/", "push_collection": "amber",
				"pull_collections": []string{"amber"}, "auth_kind": "bearer", "secret": "cn_x", "interval_seconds": 900, "enabled": true})
		},
		decide: decidePeer(policy.FederationManage),
	},
	"GET /api/v1/federation/peers/{pid}": {
		req:    mxPeerReq("", nil),
		decide: decidePeer(policy.FederationRead),
	},
	"PUT /api/v1/federation/peers/{pid}": {
		req: mxPeerReq("", func(c *mCase, p federation.Peer) string {
			return jsonBody(map[string]any{"org_id": p.OrgID, "parent_org_id": p.ParentOrgID, "name": p.Name + "b", "api_root": p.APIRoot,
				"push_collection": "amber", "pull_collections": []string{"amber", "indicators-green"}, "interval_seconds": 1800})
		}),
		decide: decidePeer(policy.FederationManage),
	},
	"DELETE /api/v1/federation/peers/{pid}": {
		req:    mxPeerReq("", nil),
		decide: decidePeer(policy.FederationManage),
	},
	"POST /api/v1/federation/peers/{pid}/sync": {
		req:    mxPeerReq("/sync", nil),
		decide: decidePeer(policy.FederationManage),
	},
}
