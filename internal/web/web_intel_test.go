package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"certnet/internal/intel"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmIntelRoutes) }

// intelActor is the system acting for the target organisation (imports and
// indicators it owns).
func (c *wmCase) intelActor() policy.Actor {
	a := c.m.e.Sys
	a.OrgID = c.t.org.ID
	return a
}

// indicator is a new indicator of the target organisation under its label.
func (c *wmCase) indicator(t *testing.T) intel.Indicator {
	t.Helper()
	ind, err := c.m.e.App.Intel.Create(c.m.ctx, c.intelActor(), intel.Input{OwnerOrgID: c.t.org.ID,
		Value: fmt.Sprintf("ioc-%d.matrix.vn", c.n), TLP: c.t.org.TLP})
	if err != nil {
		t.Fatalf("matrix indicator: %v", err)
	}
	return ind
}

func onIndicator(acts ...policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		for _, act := range acts {
			if err := c.check(act, policy.Resource{OwnerOrg: c.t.org.ID, TLP: c.t.org.TLP}); err != nil {
				return err
			}
		}
		return nil
	}
}

const wmBundle = `{"type":"bundle","id":"bundle--6ba7b810-9dad-11d1-80b4-00c04fd430c8","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--6ba7b811-9dad-11d1-80b4-00c04fd430c8","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
 "pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}`

var wmIntelRoutes = map[string]wmRoute{
	"GET /intel/indicators": {
		req: func(t *testing.T, c *wmCase) wmReq {
			ind := c.indicator(t)
			return wmReq{method: http.MethodGet, path: "/intel/indicators?q=" + url.QueryEscape(ind.Value)}
		},
		decide: onOwn(policy.IntelRead, policy.TLPClear),
		shows:  onIndicator(policy.IntelRead),
		seen:   contains(func(c *wmCase) string { return fmt.Sprintf("<code>ioc-%d.matrix.vn</code>", c.n) }),
	},
	"POST /intel/indicators": {
		req: wmPost(wmPath("/intel/indicators"), func(c *wmCase) url.Values {
			return url.Values{"value": {fmt.Sprintf("198.51.%d.%d", c.n/250%250, c.n%250)}, "tlp": {"GREEN"}, "confidence": {"60"}}
		}),
		decide: onOwn(policy.IntelWrite, policy.TLPClear),
	},
	"GET /intel/indicators/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/intel/indicators/%d", c.indicator(t).ID)}
		},
		decide: onIndicator(policy.IntelRead),
	},
	"POST /intel/indicators/{id}/expire": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/intel/indicators/%d/expire", c.indicator(t).ID), form: url.Values{}}
		},
		decide: onIndicator(policy.IntelWrite),
	},
	"POST /intel/indicators/{id}/revoke": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/intel/indicators/%d/revoke", c.indicator(t).ID), form: url.Values{}}
		},
		decide: onIndicator(policy.IntelWrite),
	},
	"POST /intel/indicators/{id}/sightings": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: fmt.Sprintf("/intel/indicators/%d/sightings", c.indicator(t).ID),
				form: url.Values{"count": {"2"}, "source": {"ids"}}}
		},
		decide: func(c *wmCase) error {
			if err := onIndicator(policy.IntelRead)(c); err != nil {
				return err
			}
			return onOwn(policy.IntelWrite, policy.TLPClear)(c)
		},
	},
	"GET /intel/import": {
		req:    wmGet(wmPath("/intel/import")),
		decide: onOwn(policy.IntelImport, policy.TLPClear),
	},
	"POST /intel/import": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: "/intel/import", form: url.Values{"format": {"stix"}, "tlp": {"GREEN"}},
				file: []byte(wmBundle)}
		},
		decide: onOwn(policy.IntelImport, policy.TLPClear),
	},
	"GET /intel/imports/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			res, err := c.m.e.App.Intel.ImportSTIX(c.m.ctx, c.intelActor(), strings.NewReader(wmBundle), intel.ImportOptions{Name: "matrix.json"})
			if err != nil {
				t.Fatalf("matrix import: %v", err)
			}
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/intel/imports/%d", res.ID)}
		},
		decide: func(c *wmCase) error {
			return c.check(policy.IntelRead, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmberStrict})
		},
	},
	"GET /intel/export.stix.json": {
		req:    wmGet(wmPath("/intel/export.stix.json?tlp=GREEN")),
		decide: onOwn(policy.IntelRead, policy.TLPClear),
		ctype:  "application/stix+json",
	},
}

// A scenario: an analyst adds an indicator (a mistake first), finds it
// without diacritics, records a sighting, imports a bundle with a broken
// object and reads the report.
func TestWebIntel(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	e.User(n.hanoi.ID, "phantich.intel", policy.RoleAnalyst)
	b := newOrgBrowser(t, e)
	b.login("phantich.intel")

	p := b.post("/intel/indicators", url.Values{"value": {"999.1.1.1"}, "kind": {"ipv4"}, "tlp": {"GREEN"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "field-error") {
		t.Fatalf("bad value: %d", p.Status)
	}
	p = b.post("/intel/indicators", url.Values{"value": {"Máy-chủ.Example.vn"}, "tlp": {"GREEN"}, "name": {"Máy chủ điều khiển"},
		"tags": {`rsit:malicious-code="c2-server"`}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/intel/indicators/") {
		t.Fatalf("create: %d %s", p.Status, p.Location)
	}
	loc := p.Location
	p = b.get("/intel/indicators?q=may+chu+dieu+khien")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "xn--my-ch-") {
		t.Fatalf("search: %d", p.Status)
	}
	p = b.post(loc+"/sightings", url.Values{"count": {"3"}, "source": {"ids"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("sighting: %d", p.Status)
	}
	if p = b.get(loc); !strings.Contains(p.Body, "<td>3</td>") || !strings.Contains(p.Body, `/sightings"`) {
		t.Fatalf("sighting or its form not shown")
	}
	// A viewer reads the indicator but is not offered the sighting form.
	e.User(n.hanoi.ID, "xem.intel", policy.RoleViewer)
	viewer := newOrgBrowser(t, e)
	viewer.login("xem.intel")
	if p = viewer.get(loc); p.Status != http.StatusOK || strings.Contains(p.Body, `/sightings"`) {
		t.Fatalf("viewer: %d, sighting form offered: %v", p.Status, strings.Contains(p.Body, `/sightings"`))
	}
	broken := strings.Replace(wmBundle, `]}`, `,{"type":"identity","spec_version":"2.1","id":"identity--bad","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"x"}]}`, 1)
	p = b.upload("/intel/import", url.Values{"format": {"stix"}, "tlp": {"AMBER"}}, "b.json", []byte(broken))
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/intel/imports/") {
		t.Fatalf("import: %d %s", p.Status, p.Body)
	}
	if p = b.get(p.Location); !strings.Contains(p.Body, "identity--bad") {
		t.Fatalf("report without the refused object")
	}
	if p = b.get("/intel/export.stix.json?tlp=RED+PINK"); p.Status != http.StatusBadRequest {
		t.Fatalf("bad export label: %d", p.Status)
	}
}
