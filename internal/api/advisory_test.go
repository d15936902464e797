package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/org"
	"certnet/internal/policy"
)

func init() { addMatrixRoutes(advisoryMatrixRoutes) }

func TestAdvisoryAPI(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	member := e.Org("HNM", "Thành viên", hn.ID, org.RoleSystemOwner)
	other := e.Org("DN", "Đà Nẵng", nat.ID, org.RoleProvincialResponseUnit)
	natc := e.Token(e.User(nat.ID, "natc", policy.RoleCoordinator))
	hnc := e.Token(e.User(hn.ID, "hnc", policy.RoleCoordinator))
	rep := e.Token(e.User(member.ID, "rep", policy.RoleReporter))
	dnv := e.Token(e.User(other.ID, "dnv", policy.RoleViewer))
	deadline := e.Clock.Now().Add(72 * time.Hour).Format(time.RFC3339)
	draft := func(tok string, targeting map[string]any) reply {
		return call(t, e, "POST", "/api/v1/advisories", tok, jsonBody(map[string]any{"title": "Lỗ hổng VPN", "summary": "Khai thác từ xa",
			"actions": "Vá ngay", "tlp": "AMBER", "severity": "critical", "deadline_at": deadline, "cves": []string{"CVE-2023-0001"},
			"targeting": targeting}), nil)
	}
	if r := draft(rep, map[string]any{"all": true}); r.Status != http.StatusForbidden {
		t.Fatalf("member drafts: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", "/api/v1/advisories", natc, `{"title":"x","bogus":1}`, nil); r.Status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", r.Status)
	}
	// A province names an organisation outside its scope: the draft is
	// kept, publishing is refused on the targeting.
	r := draft(hnc, map[string]any{"orgs": []int64{other.ID}})
	var v intel.Advisory
	if r.Status != http.StatusCreated || json.Unmarshal(r.Body, &v) != nil {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", fmt.Sprintf("/api/v1/advisories/%d/publish", v.ID), hnc, "", nil); r.Status != http.StatusBadRequest ||
		!bytes.Contains(r.Body, []byte(`"targeting"`)) {
		t.Fatalf("publish outside scope: %d %s", r.Status, r.Body)
	}
	// Fixed with PUT, then published.
	put := jsonBody(map[string]any{"title": "Lỗ hổng VPN", "summary": "Khai thác từ xa", "actions": "Vá ngay", "tlp": "AMBER",
		"deadline_at": deadline, "targeting": map[string]any{"all": true}})
	if r := call(t, e, "PUT", fmt.Sprintf("/api/v1/advisories/%d", v.ID), hnc, put, nil); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	path := fmt.Sprintf("/api/v1/advisories/%d", v.ID)
	if r := call(t, e, "POST", path+"/publish", hnc, "", nil); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", path, dnv, "", nil); r.Status != 404 {
		t.Fatalf("other province sees: %d", r.Status)
	}
	if r := call(t, e, "GET", "/api/v1/advisories?mine=true", rep, "", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(`"status":"delivered"`)) {
		t.Fatalf("mine: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", path+"/report", rep, `{"outcome":"remediated","note":"x"}`, nil); r.Status != http.StatusConflict {
		t.Fatalf("report before ack: %d", r.Status)
	}
	if r := call(t, e, "POST", path+"/acknowledge", rep, "", nil); r.Status != 200 {
		t.Fatalf("ack: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "POST", path+"/report", rep, `{"outcome":"fixed"}`, nil); r.Status != http.StatusBadRequest {
		t.Fatalf("bad outcome: %d", r.Status)
	}
	if r := call(t, e, "POST", path+"/report", rep, `{"outcome":"remediated","note":"Đã vá"}`, nil); r.Status != 200 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	r = call(t, e, "GET", path+"/rates", hnc, "", nil)
	var rates intel.Rates
	if r.Status != 200 || json.Unmarshal(r.Body, &rates) != nil || rates.Overall.Total != 1 || rates.Overall.Remediated != 1 {
		t.Fatalf("rates: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", path+"/recipients?status=reported", natc, "", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(`"org_name":"Thành viên"`)) {
		t.Fatalf("recipients: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", path+"/stix", rep, "", nil); r.Status != 200 || !bytes.Contains(r.Body, []byte(`"type":"report"`)) {
		t.Fatalf("stix: %d %s", r.Status, r.Body)
	}
	if r := call(t, e, "GET", "/api/v1/cves/CVE-2023-0001", rep, "", nil); r.Status != 404 {
		t.Fatalf("unknown cve: %d", r.Status)
	}
	if r := call(t, e, "POST", path+"/close", rep, "", nil); r.Status != http.StatusForbidden {
		t.Fatalf("member closes: %d", r.Status)
	}
	if r := call(t, e, "POST", path+"/close", hnc, "", nil); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Body)
	}
}

// --- the matrix ---

func (c *mCase) advisory(t *testing.T) intel.Advisory {
	t.Helper()
	c.drain(t) // what earlier cases queued, ahead of the inbox routes
	sys := c.m.e.Sys
	v, err := c.m.e.App.Intel.CreateAdvisory(c.m.ctx, sys, intel.AdvisoryInput{OwnerOrgID: c.matrixIssuer(), Title: fmt.Sprintf("Cảnh báo %d", c.n),
		Summary: "Tóm tắt", Actions: "Vá", TLP: policy.TLPAmber, DeadlineAt: c.m.e.Clock.Now().Add(72 * time.Hour),
		Targeting: intel.Targeting{Orgs: []int64{c.t.org.ID}}})
	if err != nil {
		t.Fatalf("matrix advisory: %v", err)
	}
	if v, err = c.m.e.App.Intel.Publish(c.m.ctx, sys, v.ID); err != nil {
		t.Fatalf("matrix publish: %v", err)
	}
	return v
}

// ownAdvisory is an advisory of the actor's organisation to the target
// (draft or published); a draft for the actor to publish goes to the whole
// network, which the service cuts to the actor's scope (a named target
// outside it would be refused as a field, not by policy).
func (c *mCase) ownAdvisory(t *testing.T, publish bool) intel.Advisory {
	t.Helper()
	c.drain(t)
	sys := c.m.e.Sys
	target := intel.Targeting{Orgs: []int64{c.t.org.ID}}
	if !publish {
		target = intel.Targeting{All: true}
	}
	v, err := c.m.e.App.Intel.CreateAdvisory(c.m.ctx, sys, intel.AdvisoryInput{OwnerOrgID: c.a.actor.OrgID, Title: fmt.Sprintf("Riêng %d", c.n),
		Summary: "Tóm tắt", Actions: "Vá", TLP: policy.TLPAmber, DeadlineAt: c.m.e.Clock.Now().Add(72 * time.Hour), Targeting: target})
	if err != nil {
		t.Fatalf("matrix own advisory: %v", err)
	}
	if publish {
		if v, err = c.m.e.App.Intel.Publish(c.m.ctx, sys, v.ID); err != nil {
			t.Fatalf("matrix own publish: %v", err)
		}
	}
	return v
}

func decideAdvRead(c *mCase) error {
	for _, r := range policy.AdvisoryResources(c.matrixIssuer(), policy.TLPAmber, 0, []int64{c.t.org.ID}, true) {
		if policy.Check(c.a.actor, policy.AdvisoryRead, r) == nil {
			return nil
		}
	}
	return errs.NotFound("matrix: advisory")
}

func decideAdvOwn(published bool, act policy.Action) func(c *mCase) error {
	return func(c *mCase) error {
		for _, r := range policy.AdvisoryResources(c.a.actor.OrgID, policy.TLPAmber, 0, []int64{c.t.org.ID}, published) {
			if policy.Check(c.a.actor, policy.AdvisoryRead, r) == nil {
				return policy.Check(c.a.actor, act, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen})
			}
		}
		return errs.NotFound("matrix: advisory")
	}
}

func decideAdvRespond(c *mCase) error {
	if err := decideAdvRead(c); err != nil {
		return err
	}
	if c.t.org.ID != c.a.actor.OrgID {
		return errs.Forbidden("matrix: not a recipient")
	}
	return policy.Check(c.a.actor, policy.AdvisoryRespond, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPGreen})
}

func decideAdvWrite(c *mCase) error {
	return policy.Check(c.a.actor, policy.AdvisoryWrite, policy.Resource{OwnerOrg: c.a.actor.OrgID, TLP: policy.TLPGreen})
}

func advBody(c *mCase) string {
	return jsonBody(map[string]any{"title": fmt.Sprintf("Nháp %d", c.n), "summary": "Tóm tắt", "actions": "Vá", "tlp": "AMBER",
		"targeting": map[string]any{"orgs": []int64{c.t.org.ID}}})
}

func advAPIPath(v intel.Advisory, rest string) string {
	return fmt.Sprintf("/api/v1/advisories/%d%s", v.ID, rest)
}

// importReport imports, as certnet for the target, a bundle holding a
// report (under the target's label) and returns the report's id.
func (c *mCase) importReport(t *testing.T) string {
	t.Helper()
	rid := fmt.Sprintf("report--00000000-0000-4000-8000-%012d", c.n)
	iid := fmt.Sprintf("indicator--00000000-0000-4000-9000-%012d", c.n)
	bundle := fmt.Sprintf(`{"type":"bundle","id":"bundle--00000000-0000-4000-a000-%012d","objects":[
	{"type":"indicator","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "pattern":"[domain-name:value = 'r%d.matrix.vn']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
	{"type":"report","spec_version":"2.1","id":%q,"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
	 "name":"Báo cáo %d","published":"2026-01-01T00:00:00.000Z","object_refs":[%q]}]}`, c.n, iid, c.n, rid, c.n, iid)
	sys := c.m.e.Sys
	sys.OrgID = c.t.org.ID
	if _, err := c.m.e.App.Intel.ImportSTIX(c.m.ctx, sys, strings.NewReader(bundle), intel.ImportOptions{Name: "r.json", DefaultTLP: c.t.org.TLP}); err != nil {
		t.Fatalf("matrix report: %v", err)
	}
	return rid
}

var advisoryMatrixRoutes = map[string]mRoute{
	"POST /api/v1/advisories/from-report": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return "/api/v1/advisories/from-report", jsonBody(map[string]any{"stix_id": c.importReport(t)})
		},
		decide: func(c *mCase) error {
			if err := policy.Check(c.a.actor, policy.IntelRead, policy.Resource{OwnerOrg: c.t.org.ID, TLP: c.t.org.TLP}); err != nil {
				return errs.NotFound("matrix: report")
			}
			return decideAdvWrite(c)
		},
	},
	"GET /api/v1/advisories": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			c.advisory(t)
			return "/api/v1/advisories", ""
		},
		decide: func(*mCase) error { return nil },
		shows:  decideAdvRead,
		listed: func(_ *testing.T, c *mCase, r reply) bool {
			return bytes.Contains(r.Body, []byte(fmt.Sprintf(`"title":"Cảnh báo %d"`, c.n)))
		},
	},
	"POST /api/v1/advisories": {
		req:    func(t *testing.T, c *mCase) (string, string) { return "/api/v1/advisories", advBody(c) },
		decide: decideAdvWrite,
	},
	"GET /api/v1/advisories/{id}": {
		req:    func(t *testing.T, c *mCase) (string, string) { return advAPIPath(c.advisory(t), ""), "" },
		decide: decideAdvRead,
	},
	"PUT /api/v1/advisories/{id}": {
		req: func(t *testing.T, c *mCase) (string, string) {
			return advAPIPath(c.ownAdvisory(t, false), ""), advBody(c)
		},
		decide: decideAdvOwn(false, policy.AdvisoryWrite),
	},
	"POST /api/v1/advisories/{id}/publish": {
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			return advAPIPath(c.ownAdvisory(t, false), "/publish"), ""
		},
		decide: decideAdvOwn(false, policy.AdvisoryPublish),
	},
	"POST /api/v1/advisories/{id}/close": {
		req:    func(t *testing.T, c *mCase) (string, string) { return advAPIPath(c.ownAdvisory(t, true), "/close"), "" },
		decide: decideAdvOwn(true, policy.AdvisoryPublish),
	},
	"POST /api/v1/advisories/{id}/acknowledge": {
		req:    func(t *testing.T, c *mCase) (string, string) { return advAPIPath(c.advisory(t), "/acknowledge"), "" },
		decide: decideAdvRespond,
	},
	"POST /api/v1/advisories/{id}/report": {
		req: func(t *testing.T, c *mCase) (string, string) {
			v := c.advisory(t)
			sys := c.m.e.Sys
			sys.OrgID = c.t.org.ID
			if _, err := c.m.e.App.Intel.Respond(c.m.ctx, sys, v.ID, intel.RespondInput{Acknowledge: true}); err != nil {
				t.Fatalf("matrix acknowledge: %v", err)
			}
			return advAPIPath(v, "/report"), `{"outcome":"remediated","note":"Đã vá"}`
		},
		decide: decideAdvRespond,
	},
	"GET /api/v1/advisories/{id}/recipients": {
		req:    func(t *testing.T, c *mCase) (string, string) { return advAPIPath(c.advisory(t), "/recipients"), "" },
		decide: decideAdvRead,
	},
	"GET /api/v1/advisories/{id}/rates": {
		req:    func(t *testing.T, c *mCase) (string, string) { return advAPIPath(c.advisory(t), "/rates"), "" },
		decide: decideAdvRead,
	},
	"GET /api/v1/advisories/{id}/stix": {
		req:    func(t *testing.T, c *mCase) (string, string) { return advAPIPath(c.advisory(t), "/stix"), "" },
		decide: decideAdvRead,
	},
	"GET /api/v1/cves/{id}": {
		// The CVE table is public reference data: every signed-in caller
		// reads it.
		req: func(t *testing.T, c *mCase) (string, string) {
			c.drain(t)
			doc := `{"vulnerabilities":[{"cve":{"id":"CVE-2023-0001","descriptions":[{"lang":"en","value":"x"}]}}]}`
			if _, err := c.m.e.App.Intel.ImportNVD(c.m.ctx, c.m.e.Sys, strings.NewReader(doc), nil); err != nil {
				t.Fatalf("matrix cve: %v", err)
			}
			return "/api/v1/cves/CVE-2023-0001", ""
		},
		decide: func(*mCase) error { return nil },
	},
}

// The advisory list pages by keyset: a member walks seven advisories in
// pages of three with the cursors, an advisory published meanwhile is
// neither skipped nor repeated, and walking back gives the newer pages;
// offset still works; a bad cursor is refused.
func TestAdvisoryAPIPages(t *testing.T) {
	e := apptest.StartSQLite(t)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	member := e.Org("HNM", "Thành viên", nat.ID, org.RoleSystemOwner)
	rep := e.Token(e.User(member.ID, "rep", policy.RoleReporter))
	publish := func(i int) int64 {
		v, err := e.App.Intel.CreateAdvisory(t.Context(), e.Sys, intel.AdvisoryInput{OwnerOrgID: nat.ID, Title: fmt.Sprintf("Cảnh báo %d", i),
			Summary: "Tóm tắt", Actions: "Vá", TLP: policy.TLPGreen, DeadlineAt: e.Clock.Now().Add(72 * time.Hour), Targeting: intel.Targeting{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Intel.Publish(t.Context(), e.Sys, v.ID); err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	var ids []int64
	for i := range 7 {
		ids = append(ids, publish(i))
	}
	type pageOut struct {
		Items        []intel.AdvisoryRow
		Older, Newer int64
	}
	get := func(q string) pageOut {
		t.Helper()
		r := call(t, e, "GET", "/api/v1/advisories?limit=3"+q, rep, "", nil)
		var p pageOut
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &p) != nil {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
		return p
	}
	idsOf := func(p pageOut) []int64 {
		var out []int64
		for _, r := range p.Items {
			out = append(out, r.ID)
		}
		return out
	}
	p1 := get("")
	if got := idsOf(p1); fmt.Sprint(got) != fmt.Sprint([]int64{ids[6], ids[5], ids[4]}) || p1.Older != ids[4] || p1.Newer != 0 {
		t.Fatalf("first page %v older %d newer %d", got, p1.Older, p1.Newer)
	}
	fresh := publish(7) // published while the member reads
	p2 := get(fmt.Sprintf("&before=%d", p1.Older))
	if got := idsOf(p2); fmt.Sprint(got) != fmt.Sprint([]int64{ids[3], ids[2], ids[1]}) || p2.Newer != ids[3] || p2.Older != ids[1] {
		t.Fatalf("second page %v older %d newer %d", got, p2.Older, p2.Newer)
	}
	p3 := get(fmt.Sprintf("&before=%d", p2.Older))
	if got := idsOf(p3); fmt.Sprint(got) != fmt.Sprint([]int64{ids[0]}) || p3.Older != 0 {
		t.Fatalf("last page %v older %d", got, p3.Older)
	}
	back := get(fmt.Sprintf("&after=%d", p2.Newer))
	if got := idsOf(back); fmt.Sprint(got) != fmt.Sprint([]int64{ids[6], ids[5], ids[4]}) || back.Newer != ids[6] || back.Older != ids[4] {
		t.Fatalf("back: %v older %d newer %d", got, back.Older, back.Newer)
	}
	if first := get(fmt.Sprintf("&after=%d", back.Newer)); fmt.Sprint(idsOf(first)) != fmt.Sprint([]int64{fresh}) || first.Newer != 0 {
		t.Fatalf("the newest, published meanwhile: %v newer %d", idsOf(first), first.Newer)
	}
	if r := call(t, e, "GET", "/api/v1/advisories?limit=2&offset=2", rep, "", nil); r.Status != http.StatusOK || bytes.Contains(r.Body, []byte(`"older"`)) {
		t.Fatalf("offset: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"?before=x", "?after=-1", "?before=3&after=5"} {
		if r := call(t, e, "GET", "/api/v1/advisories"+q, rep, "", nil); r.Status != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}
