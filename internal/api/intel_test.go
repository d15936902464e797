package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"certnet/internal/api"
	"certnet/internal/apptest"
	"certnet/internal/intel"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(intelMatrixRoutes) }

const apiBundle = `{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--6ba7b811-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
 "pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",
 "object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
{"type":"identity","spec_version":"2.1","id":"identity--bad","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"x"}]}`

func TestIntelAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	dn := e.Org("DN", "Đà Nẵng", nat.ID, org.RoleProvincialResponseUnit)
	analyst := e.Token(e.User(hn.ID, "analyst", policy.RoleAnalyst))
	viewer := e.Token(e.User(hn.ID, "viewer", policy.RoleViewer))
	other := e.Token(e.User(dn.ID, "other", policy.RoleAnalyst))

	r := call(t, e, "POST", "/api/v1/intel/indicators", analyst, `{"value":"http://Phish.Example.vn/login","tlp":"amber","tags":["rsit:fraud=phishing"]}`, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var ind struct {
		ID    int64  `json:"id"`
		Kind  string `json:"kind"`
		Value string `json:"value"`
	}
	json.Unmarshal(r.Body, &ind)
	if ind.Kind != "url" || ind.Value != "http://phish.example.vn/login" {
		t.Fatalf("%s", r.Body)
	}
	if r = call(t, e, "POST", "/api/v1/intel/indicators", analyst, `{"value":"nope","kind":"ipv4","tlp":"GREEN"}`, nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "value") {
		t.Fatalf("bad value: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, "POST", "/api/v1/intel/indicators", analyst, `{"value":"198.51.100.9","tlp":"GREEN","confidence":101}`, nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"confidence"`) {
		t.Fatalf("confidence 101: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, "POST", "/api/v1/intel/indicators", viewer, `{"value":"198.51.100.9","tlp":"GREEN"}`, nil); r.Status != http.StatusForbidden {
		t.Fatalf("viewer create: %d", r.Status)
	}
	path := fmt.Sprintf("/api/v1/intel/indicators/%d", ind.ID)
	if r = call(t, e, "GET", path, other, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("sibling reads AMBER: %d", r.Status)
	}
	if r = call(t, e, "POST", path+"/sightings", analyst, `{"count":-1}`, nil); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"count"`) {
		t.Fatalf("negative count: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, "POST", path+"/sightings", analyst, `{"count":2,"source":"ids"}`, nil); r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"count":2`) {
		t.Fatalf("sighting: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, "GET", "/api/v1/intel/indicators?q=phish&status=active", viewer, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"total":1`) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, "GET", "/api/v1/intel/indicators?status=soon", viewer, "", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("bad status: %d", r.Status)
	}
	r = call(t, e, "POST", "/api/v1/intel/imports?name=b.json", analyst, apiBundle, nil)
	var res intel.ImportResult
	json.Unmarshal(r.Body, &res)
	if r.Status != http.StatusCreated || res.Accepted != 1 || res.Rejected != 1 || res.Errors[0].ID != "identity--bad" {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if r = call(t, e, "GET", fmt.Sprintf("/api/v1/intel/imports/%d", res.ID), other, "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("sibling reads the import record: %d", r.Status)
	}
	// A bundle past the JSON body limit of the other routes imports: the
	// route streams its body under a bound of its own.
	var big strings.Builder
	big.WriteString(`{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[`)
	const nBig = 6000
	for i := range nBig {
		if i > 0 {
			big.WriteByte(',')
		}
		fmt.Fprintf(&big, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-9dad-41d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'c2-%d.bulk.example.vn']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","description":"%s"}`,
			i, i, strings.Repeat("x", 100))
	}
	big.WriteString(`]}`)
	if big.Len() <= 1<<20 {
		t.Fatalf("the bundle (%d bytes) is not past the JSON limit", big.Len())
	}
	r = call(t, e, "POST", "/api/v1/intel/imports?name=big.json", analyst, big.String(), nil)
	if json.Unmarshal(r.Body, &res); r.Status != http.StatusCreated || res.Indicators != nBig {
		t.Fatalf("bundle of %d bytes: %d %s", big.Len(), r.Status, r.Body[:min(len(r.Body), 300)])
	}
	// One that says it is past the import's own bound is refused unread.
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/intel/imports?name=huge.json", io.LimitReader(neverEnding('x'), api.MaxIntelImport+1))
	req.ContentLength = api.MaxIntelImport + 1
	req.Header.Set("Authorization", "Bearer "+analyst)
	if resp, err := e.Srv.Client().Do(req); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("bundle past %d bytes: %v %v", api.MaxIntelImport, resp, err)
	} else {
		resp.Body.Close()
	}
	r = call(t, e, "GET", "/api/v1/intel/export/stix?tlp=GREEN", other, "", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/stix+json") {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	v, err := stix.DefaultValidator()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateBundle(r.Body); err != nil || !strings.Contains(string(r.Body), "198.51.100.1") || strings.Contains(string(r.Body), "phish") {
		t.Fatalf("export: %v\n%s", err, r.Body)
	}
	if r = call(t, e, "GET", "/api/v1/intel/export/stix", "", "", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous export: %d", r.Status)
	}
}

// intelOf is the system acting for the target organisation.
func (c *mCase) intelActor() policy.Actor {
	a := policy.SystemActor("matrix")
	a.OrgID = c.t.org.ID
	return a
}

func (c *mCase) indicator(t *testing.T) intel.Indicator {
	t.Helper()
	ind, err := c.m.e.App.Intel.Create(c.m.ctx, c.intelActor(), intel.Input{OwnerOrgID: c.t.org.ID,
		Value: fmt.Sprintf("ioc-%d.matrix.vn", c.n), TLP: c.t.org.TLP})
	if err != nil {
		t.Fatalf("matrix indicator: %v", err)
	}
	return ind
}

func decideIndicator(acts ...policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		for _, act := range acts {
			if err := policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.t.org.ID, TLP: c.t.org.TLP}); err != nil {
				return err
			}
		}
		return nil
	}
}

func decideOwnIntel(act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		return policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPClear})
	}
}

var intelMatrixRoutes = map[string]mRoute{
	"GET /api/v1/intel/indicators": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/intel/indicators?q=" + c.indicator(t).Value, ""
		},
		decide: decideOwnIntel(policy.IntelRead),
		shows:  decideIndicator(policy.IntelRead),
		listed: func(_ *testing.T, c *mCase, r reply) bool {
			return strings.Contains(string(r.Body), fmt.Sprintf(`"value":"ioc-%d.matrix.vn"`, c.n))
		},
	},
	"POST /api/v1/intel/indicators": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/intel/indicators", jsonBody(map[string]any{"value": fmt.Sprintf("m%d.matrix.vn", c.n), "tlp": "GREEN"})
		},
		decide: decideOwnIntel(policy.IntelWrite),
	},
	"GET /api/v1/intel/indicators/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/intel/indicators/%d", c.indicator(t).ID), ""
		},
		decide: decideIndicator(policy.IntelRead),
	},
	"POST /api/v1/intel/indicators/{id}/expire": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/intel/indicators/%d/expire", c.indicator(t).ID), ""
		},
		decide: decideIndicator(policy.IntelWrite),
	},
	"POST /api/v1/intel/indicators/{id}/revoke": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/intel/indicators/%d/revoke", c.indicator(t).ID), ""
		},
		decide: decideIndicator(policy.IntelWrite),
	},
	"POST /api/v1/intel/indicators/{id}/sightings": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return fmt.Sprintf("/api/v1/intel/indicators/%d/sightings", c.indicator(t).ID), `{"count":1}`
		},
		decide: func(c *mCase) error {
			if err := decideIndicator(policy.IntelRead)(c); err != nil {
				return err
			}
			return decideOwnIntel(policy.IntelWrite)(c)
		},
	},
	"POST /api/v1/intel/imports": {
		req:    func(t *testing.T, c *mCase) (string, string) { return "/api/v1/intel/imports", apiBundle },
		decide: decideOwnIntel(policy.IntelImport),
	},
	"GET /api/v1/intel/imports/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			res, err := c.m.e.App.Intel.ImportSTIX(c.m.ctx, c.intelActor(), strings.NewReader(apiBundle), intel.ImportOptions{})
			if err != nil {
				t.Fatalf("matrix import: %v", err)
			}
			return fmt.Sprintf("/api/v1/intel/imports/%d", res.ID), ""
		},
		decide: func(c *mCase) error {
			return policy.Check(c.a.actor, policy.IntelRead, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmberStrict})
		},
	},
	"GET /api/v1/intel/export/stix": {
		req:    func(t *testing.T, c *mCase) (string, string) { return "/api/v1/intel/export/stix?tlp=GREEN", "" },
		decide: decideOwnIntel(policy.IntelRead),
	},
}

// neverEnding reads as the same byte forever.
type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
