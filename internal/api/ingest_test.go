package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"certnet/internal/apptest"
	"certnet/internal/ingest"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(ingestMatrix) }

// decideIngest: the organisation's sources are read first (AMBER, scoped),
// then managed by its administrator or the national coordinator.
func decideIngest(manage bool) func(c *mCase) error {
	return func(c *mCase) error {
		// A hidden organisation's sources are hidden too.
		if err := c.check(policy.OrgRead); err != nil {
			return err
		}
		res := ingest.Resource(c.t.org.ID)
		if err := policy.Check(c.a.actor, policy.IngestRead, res); err != nil {
			return err
		}
		if !manage {
			return nil
		}
		err := policy.Check(c.a.actor, policy.IngestManage, res)
		if err != nil && policy.Check(c.a.actor, policy.IngestManageNational, res) == nil {
			return nil
		}
		return err
	}
}

func decideIngestOrg(manage bool) func(c *mCase) error {
	return func(c *mCase) error {
		if err := c.check(policy.OrgRead); err != nil {
			return err
		}
		return decideIngest(manage)(c)
	}
}

func mxSource(t *testing.T, c *mCase) ingest.Source {
	src, _, err := c.m.e.App.Ingest.CreateSource(c.m.ctx, c.m.e.Sys, ingest.SourceInput{OrgID: c.t.org.ID, Name: fmt.Sprintf("nguồn %d", c.n)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var ingestMatrix = map[string]mRoute{
	"GET /api/v1/orgs/{id}/ingest/sources": {
		req:    func(_ *testing.T, c *mCase) (string, string) { return c.orgPath("/ingest/sources"), "" },
		decide: decideIngestOrg(false),
	},
	"POST /api/v1/orgs/{id}/ingest/sources": {
		req: func(_ *testing.T, c *mCase) (string, string) {
			return c.orgPath("/ingest/sources"), jsonBody(map[string]any{"name": fmt.Sprintf("Suricata %d", c.n)})
		},
		decide: decideIngestOrg(true),
	},
	"GET /api/v1/ingest/sources": {
		req: func(t *testing.T, c *mCase) (string, string) {
			mxSource(t, c)
			return "/api/v1/ingest/sources", ""
		},
		decide: func(*mCase) error { return nil },
		shows:  decideIngest(false),
		listed: func(_ *testing.T, c *mCase, r reply) bool {
			return strings.Contains(string(r.Body), fmt.Sprintf(`"name":"nguồn %d"`, c.n))
		},
	},
	"GET /api/v1/ingest/sources/{sid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/ingest/sources/%d", mxSource(t, c).ID), ""
		},
		decide: decideIngest(false),
	},
	"PUT /api/v1/ingest/sources/{sid}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/ingest/sources/%d", mxSource(t, c).ID), jsonBody(map[string]any{"enabled": false, "quota_per_minute": 1000})
		},
		decide: decideIngest(true),
	},
	"POST /api/v1/ingest/sources/{sid}/rotate": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/ingest/sources/%d/rotate", mxSource(t, c).ID), ""
		},
		decide: decideIngest(true),
	},
}

func TestIngestSourcesAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	soc := e.Org("SOC-HN", "SOC Hà Nội", nat.ID, org.RoleProvincialSOC)
	admin := e.Token(e.User(soc.ID, "socadmin", policy.RoleAdmin))
	analyst := e.Token(e.User(soc.ID, "socanalyst", policy.RoleAnalyst))
	natc := e.Token(e.User(nat.ID, "natc", policy.RoleCoordinator))
	base := fmt.Sprintf("/api/v1/orgs/%d/ingest/sources", soc.ID)

	r := call(t, e, "POST", base, admin, jsonBody(map[string]any{"name": "Suricata biên", "quota_per_minute": 5000}), nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created struct {
		ingest.Source
		Token string `json:"token"`
	}
	json.Unmarshal(r.Body, &created)
	if !strings.HasPrefix(created.Token, "cns_") || created.Quota != 5000 || !created.Enabled || created.Health.State != "never" ||
		!strings.HasPrefix(created.Token, created.TokenPrefix) {
		t.Fatalf("created %+v", created)
	}
	// The token is never shown again.
	r = call(t, e, "GET", fmt.Sprintf("/api/v1/ingest/sources/%d", created.ID), analyst, "", nil)
	if r.Status != 200 || strings.Contains(string(r.Body), created.Token) || strings.Contains(string(r.Body), `"token"`) {
		t.Fatalf("read back: %d %s", r.Status, r.Body)
	}
	// Bad input changes nothing.
	for _, body := range []map[string]any{{"name": ""}, {"name": "Suricata biên"}, {"name": "x", "quota_per_minute": -1}} {
		r = call(t, e, "POST", base, admin, jsonBody(body), nil)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("create %v: %d %s", body, r.Status, r.Body)
		}
	}
	// An analyst reads but does not manage; the national coordinator does.
	if r = call(t, e, "POST", fmt.Sprintf("/api/v1/ingest/sources/%d/rotate", created.ID), analyst, "", nil); r.Status != http.StatusForbidden {
		t.Fatalf("analyst rotates: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "PUT", fmt.Sprintf("/api/v1/ingest/sources/%d", created.ID), natc, jsonBody(map[string]any{"enabled": false}), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"state":"disabled"`) {
		t.Fatalf("national coordinator disables: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "PUT", fmt.Sprintf("/api/v1/ingest/sources/%d", created.ID), admin, jsonBody(map[string]any{"quota_per_minute": 0}), nil)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "quota_per_minute") {
		t.Fatalf("zero quota: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "GET", base, analyst, "", nil)
	var list struct{ Items []ingest.Source }
	json.Unmarshal(r.Body, &list)
	if r.Status != 200 || len(list.Items) != 1 || list.Items[0].Enabled || list.Items[0].Quota != 5000 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
}
