package api_test

import (
	"fmt"
	"strings"
	"testing"

	"certnet/internal/federation"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(federationMatrix) }

// mxPeer makes (as the system) a peer of the target organisation, whose
// parent (an unreachable address: a sync answers 409 at once) stands for
// a new organisation.
func mxPeer(t *testing.T, c *mCase) federation.Peer {
	return c.m.e.Peer(t, c.m.ctx, c.t.org.ID, mxPeerParent(t, c).ID, c.n)
}

func mxPeerParent(t *testing.T, c *mCase) org.Org {
	return c.m.e.PeerParent(t, c.m.ctx, fmt.Sprintf("FEDP%d", c.n), c.n, "")
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
