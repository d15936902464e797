package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"certnet/internal/apptest"
	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/federation"
	"certnet/internal/intel"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/secretbox"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// child is a province's certnet: VNCERT (stands for the parent) ├── HN
// (the province, whose objects go up) │ └── HNM (a member).
type child struct {
	e              *apptest.Env
	nat, hn, hnm   org.Org
	admin, analyst policy.Actor
	svc            *federation.Service
}

func newChild(t *testing.T, db *store.DB) *child {
	t.Helper()
	e := apptest.Start(t, db)
	c := &child{e: e}
	c.nat = e.Org("VNCERT", "Trung tâm (cấp trên)", 0, org.RoleNationalCoordinator)
	c.hn = e.Org("HN", "Hà Nội", c.nat.ID, org.RoleProvincialResponseUnit)
	c.hnm = e.Org("HNM", "Bệnh viện Hà Nội", c.hn.ID, org.RoleSystemOwner)
	c.admin = c.actor(e.User(c.hn.ID, "hn-admin", policy.RoleAdmin).ID)
	c.analyst = c.actor(e.User(c.hn.ID, "hn-analyst", policy.RoleAnalyst).ID)
	c.svc = e.App.Federation
	c.svc.Settle = 0
	c.svc.RetryWait = time.Millisecond
	return c
}

func (c *child) actor(uid int64) policy.Actor {
	c.e.T.Helper()
	u, err := c.e.App.Auth.GetUser(context.Background(), c.e.Sys, uid)
	if err != nil {
		c.e.T.Fatal(err)
	}
	a, err := c.e.App.Auth.ActorFor(context.Background(), u, "")
	if err != nil {
		c.e.T.Fatal(err)
	}
	return a
}

func (c *child) indicator(t *testing.T, value string, tlp policy.TLP, owner int64) intel.Indicator {
	t.Helper()
	i, err := c.e.App.Intel.Create(context.Background(), c.e.Sys, intel.Input{OwnerOrgID: owner, Value: value, TLP: tlp})
	if err != nil {
		t.Fatalf("indicator %s: %v", value, err)
	}
	return i
}

func (c *child) peer(t *testing.T, root, secret string, pull ...string) federation.Peer {
	t.Helper()
	if pull == nil {
		pull = federation.DefaultPullCollections
	}
	p, err := c.svc.Create(context.Background(), c.admin, federation.PeerInput{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "VNCERT",
		APIRoot: root, PushCollection: "amber", PullCollections: pull, AuthKind: federation.AuthBearer, Secret: secret,
		Interval: 10 * time.Minute, Enabled: true})
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	return p
}

// pullAdvisory syncs the peer, which brings one advisory, and returns it.
func (c *child) pullAdvisory(t *testing.T, p federation.Peer) intel.Advisory {
	t.Helper()
	ctx := context.Background()
	if rep, err := c.svc.SyncNow(ctx, c.admin, p.ID); err != nil || rep.Advisories != 1 {
		t.Fatalf("sync: %+v %v", rep, err)
	}
	var id int64
	if err := c.e.DB.QueryRow(ctx, "SELECT advisory_id FROM federation_advisories WHERE peer_id = ?", p.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	v, err := c.e.App.Intel.Advisory(ctx, c.e.Sys, id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func values(t *testing.T, db *store.DB, owner int64) []string {
	t.Helper()
	rows, err := db.Query(context.Background(), "SELECT value FROM intel_indicators WHERE owner_org_id = ? ORDER BY value", owner)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		rows.Scan(&v)
		out = append(out, v)
	}
	return out
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSyncWithParent: a province instance and its national parent (two
// certnets in this process, over HTTP): AMBER and GREEN go up, RED and
// AMBER+STRICT and what came from the parent do not; the parent's GREEN
// comes down attributed to the local VNCERT, and a second sync sends and
// takes nothing new.
func TestSyncWithParent(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		parent := apptest.StartSQLite(t)
		pnat := parent.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
		phn := parent.Org("HN", "Hà Nội", pnat.ID, org.RoleProvincialResponseUnit)
		token := parent.Token(parent.User(phn.ID, "hn-sync", policy.RoleAnalyst))
		if _, err := parent.App.Intel.Create(ctx, parent.Sys, intel.Input{OwnerOrgID: pnat.ID, Value: "203.0.113.50", TLP: policy.TLPGreen}); err != nil {
			t.Fatal(err)
		}
		c := newChild(t, db)
		c.indicator(t, "198.51.100.1", policy.TLPAmber, c.hn.ID)
		c.indicator(t, "198.51.100.2", policy.TLPGreen, c.hnm.ID)
		c.indicator(t, "198.51.100.3", policy.TLPRed, c.hn.ID)
		c.indicator(t, "198.51.100.4", policy.TLPAmberStrict, c.hn.ID)
		c.indicator(t, "198.51.100.5", policy.TLPClear, c.nat.ID) // the parent's own: never echoed
		p := c.peer(t, parent.URL+"/taxii2/api/", token)

		rep, err := c.svc.SyncNow(ctx, c.admin, p.ID)
		if err != nil {
			t.Fatalf("sync: %v (%+v)", err, rep)
		}
		if got := values(t, parent.DB, phn.ID); !slices.Equal(got, []string{"198.51.100.1", "198.51.100.2"}) {
			t.Fatalf("parent holds %v for HN, want the AMBER and GREEN only", got)
		}
		if rep.Pushed != 2 {
			t.Errorf("pushed %d, want 2", rep.Pushed)
		}
		if got := values(t, db, c.nat.ID); !slices.Contains(got, "203.0.113.50") {
			t.Fatalf("the parent's GREEN indicator did not come down: %v", got)
		}
		// What went up and is served back is this instance's own: not
		// imported again under VNCERT.
		if slices.Contains(values(t, db, c.nat.ID), "198.51.100.1") {
			t.Fatal("an object pushed up came back down as the parent's")
		}
		got, err := c.svc.Get(ctx, c.admin, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastSuccessAt.IsZero() || got.Pushed != 2 || got.Pulled < 1 || got.LastError != "" {
			t.Fatalf("peer state after sync: %+v", got)
		}
		st, err := c.svc.State(ctx, c.admin, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.PendingPush != 0 || st.LastAdded.IsZero() {
			t.Fatalf("state: %+v", st)
		}

		// Nothing new: nothing sent, nothing imported twice.
		before := count(t, db, "SELECT COUNT(*) FROM intel_indicators")
		rep, err = c.svc.SyncNow(ctx, c.admin, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Pushed != 0 || rep.Pulled != 0 || count(t, db, "SELECT COUNT(*) FROM intel_indicators") != before {
			t.Fatalf("second sync moved something: %+v", rep)
		}
		// A change goes up again; a new one too.
		c.e.Clock.Advance(time.Minute)
		c.indicator(t, "198.51.100.6", policy.TLPAmber, c.hn.ID)
		st, _ = c.svc.State(ctx, c.admin, p.ID)
		if st.PendingPush != 1 {
			t.Fatalf("pending push %d, want 1", st.PendingPush)
		}
		if rep, err = c.svc.SyncNow(ctx, c.admin, p.ID); err != nil || rep.Pushed != 1 {
			t.Fatalf("third sync: %+v %v", rep, err)
		}
		if got := values(t, parent.DB, phn.ID); len(got) != 3 {
			t.Fatalf("parent holds %v", got)
		}
		verifyAudit(t, db)
	})
}

func verifyAudit(t *testing.T, db *store.DB) {
	t.Helper()
	res, err := audit.Verify(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Break != nil {
		t.Fatalf("audit chain broken at %d: %s", res.Break.Seq, res.Break.Reason)
	}
}

// fakeParent is a TAXII server with a fixed list of objects in one
// collection, pages of limit objects, and a switch that fails requests.
type fakeParent struct {
	mu      sync.Mutex
	objs    []map[string]any
	added   []time.Time
	fail    func(r *http.Request) bool
	posted  [][]map[string]any
	gets    int
	pending int // POSTs answer pending, then complete after this many polls
}

func (f *fakeParent) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/collections/{c}/objects/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.gets++
		if r.Header.Get("Authorization") != "Bearer secret-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.fail != nil && f.fail(r) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"title":"Service Unavailable","description":"down for a test"}`)
			return
		}
		q := r.URL.Query()
		start := 0
		if n := q.Get("next"); n != "" {
			fmt.Sscan(n, &start)
		} else if aa := q.Get("added_after"); aa != "" {
			after, err := time.Parse(time.RFC3339Nano, aa)
			if err != nil {
				t.Errorf("added_after %q: %v", aa, err)
			}
			for start < len(f.objs) && !f.added[start].After(after) {
				start++
			}
		}
		limit := 2
		end := min(start+limit, len(f.objs))
		out := map[string]any{"more": end < len(f.objs)}
		if end < len(f.objs) {
			out["next"] = fmt.Sprint(end)
		}
		if start < end {
			out["objects"] = f.objs[start:end]
			w.Header().Set("X-TAXII-Date-Added-First", f.added[start].Format(time.RFC3339Nano))
			w.Header().Set("X-TAXII-Date-Added-Last", f.added[end-1].Format(time.RFC3339Nano))
		}
		w.Header().Set("Content-Type", federation.MediaType)
		json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("POST /api/collections/{c}/objects/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var env struct {
			Objects []map[string]any `json:"objects"`
		}
		if r.Header.Get("Content-Type") != federation.MediaType || json.NewDecoder(r.Body).Decode(&env) != nil {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		f.posted = append(f.posted, env.Objects)
		status := "complete"
		if f.pending > 0 {
			status = "pending"
		}
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"id": "st-1", "status": status, "total_count": len(env.Objects),
			"success_count": len(env.Objects)})
	})
	mux.HandleFunc("GET /api/status/{id}/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pending--
		status := "pending"
		if f.pending <= 0 {
			status = "complete"
		}
		n := len(f.posted[len(f.posted)-1])
		json.NewEncoder(w).Encode(map[string]any{"id": "st-1", "status": status, "total_count": n, "success_count": n})
	})
	return mux
}

func ind(value, tlp string, at time.Time) map[string]any {
	ts := stix.FormatTime(at)
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uuid.NewString(), "created": ts,
		"modified": ts, "pattern": fmt.Sprintf("[ipv4-addr:value = '%s']", value), "pattern_type": "stix", "valid_from": ts,
		"object_marking_refs": []string{stix.TLPMarkingID(tlp)}}
}

// TestPullPagingResume: the pull follows next over pages; a failure on
// the third page is recorded and backs off, the cursor stays after the
// second; the next sync starts from there and nothing is imported twice.
func TestPullPagingResume(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newChild(t, db)
		f := &fakeParent{}
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			f.objs = append(f.objs, ind(fmt.Sprintf("192.0.2.%d", 10+i), "GREEN", base))
			f.added = append(f.added, base.Add(time.Duration(i)*time.Second))
		}
		// Two objects added in the same instant straddle pages 2 and 3.
		f.added[3] = f.added[2]
		srv := httptest.NewServer(f.handler(t))
		defer srv.Close()
		p := c.peer(t, srv.URL+"/api", "secret-token", "indicators-green")
		f.fail = func(r *http.Request) bool { return r.URL.Query().Get("next") == "4" }

		_, err := c.svc.SyncNow(ctx, c.admin, p.ID)
		if err == nil || !strings.Contains(err.Error(), "") || errs.KindOf(err) != errs.KindConflict {
			t.Fatalf("sync with a failing page: %v", err)
		}
		got, _ := c.svc.Get(ctx, c.admin, p.ID)
		if got.LastError == "" || got.Failures != 1 || !got.NextRunAt.After(c.e.Clock.Now()) || got.NextRunAt.After(c.e.Clock.Now().Add(time.Minute)) {
			t.Fatalf("failure not recorded with a one-minute backoff: %+v", got)
		}
		if strings.Contains(got.LastError, "secret-token") {
			t.Fatal("the secret is in the error")
		}
		if n := len(values(t, db, c.nat.ID)); n != 4 {
			t.Fatalf("after the failure %d indicators, want the first two pages (4)", n)
		}
		if g := f.gets; g != 3+3*c.svc.Retries {
			t.Logf("requests: %d", g)
		}
		f.fail = nil
		rep, err := c.svc.SyncNow(ctx, c.admin, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(values(t, db, c.nat.ID)); n != 5 {
			t.Fatalf("after the resume %d indicators, want 5", n)
		}
		// Resumed a microsecond before the last page's end: the object of
		// the same instant is fetched again (not skipped), nothing else.
		if rep.Pulled > 3 {
			t.Fatalf("resume fetched %d objects again", rep.Pulled)
		}
		got, _ = c.svc.Get(ctx, c.admin, p.ID)
		if got.Failures != 0 || got.LastSuccessAt.IsZero() {
			t.Fatalf("after the resume: %+v", got)
		}
		if count(t, db, "SELECT COUNT(*) FROM intel_indicators WHERE owner_org_id = ?", c.nat.ID) != 5 {
			t.Fatal("duplicates")
		}
		// Up to date: the next sync asks after the last date added.
		rep, _ = c.svc.SyncNow(ctx, c.admin, p.ID)
		if rep.Pulled != 0 {
			t.Fatalf("an up-to-date sync pulled %d", rep.Pulled)
		}
	})
}

// TestPushBatchesAndStatus: pushes go in batches, a pending status is
// polled until complete, RED and AMBER+STRICT never leave.
func TestPushBatchesAndStatus(t *testing.T) {
	c := newChild(t, testkit.NewSQLite(t))
	ctx := context.Background()
	f := &fakeParent{pending: 2}
	srv := httptest.NewServer(f.handler(t))
	defer srv.Close()
	c.svc.PushBatch = 2
	for i := range 5 {
		c.indicator(t, fmt.Sprintf("198.51.100.%d", 20+i), policy.TLPAmber, c.hn.ID)
	}
	c.indicator(t, "198.51.100.40", policy.TLPRed, c.hn.ID)
	c.indicator(t, "198.51.100.41", policy.TLPAmberStrict, c.hnm.ID)
	p := c.peer(t, srv.URL+"/api/", "secret-token", "")
	rep, err := c.svc.SyncNow(ctx, c.admin, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed != 5 || len(f.posted) != 3 {
		t.Fatalf("pushed %d in %d batches, want 5 in 3", rep.Pushed, len(f.posted))
	}
	// Rows changed within Settle of now go up but the cursor stays
	// before them: the next sync sends them again.
	c.svc.Settle = time.Hour
	c.e.Clock.Advance(time.Minute)
	c.indicator(t, "198.51.100.30", policy.TLPGreen, c.hn.ID)
	for range 2 {
		f.pending = 0
		if rep, err = c.svc.SyncNow(ctx, c.admin, p.ID); err != nil || rep.Pushed != 1 {
			t.Fatalf("unsettled row: pushed %d (%v), want 1 each time", rep.Pushed, err)
		}
	}
	c.svc.Settle = 0
	if rep, _ = c.svc.SyncNow(ctx, c.admin, p.ID); rep.Pushed != 1 {
		t.Fatalf("settled: pushed %d, want 1", rep.Pushed)
	}
	if rep, _ = c.svc.SyncNow(ctx, c.admin, p.ID); rep.Pushed != 0 {
		t.Fatalf("after the cursor moved: pushed %d, want 0", rep.Pushed)
	}
	for _, b := range f.posted {
		for _, o := range b {
			refs, _ := o["object_marking_refs"].([]any)
			for _, r := range refs {
				if tl := stix.TLPOfMarking(r.(string)); tl == "RED" || tl == "AMBER+STRICT" {
					t.Fatalf("%s left the instance: %v", tl, o["pattern"])
				}
			}
		}
	}
}

// A report that names its CVEs and response deadline itself (as certnet's
// do) gives the pulled advisory both, without the vulnerability objects.
func TestAdvisoryFromParentReportFields(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		c := newChild(t, db)
		f := &fakeParent{}
		at := c.e.Clock.Now().Add(-time.Hour)
		ts := stix.FormatTime(at)
		deadline := c.e.Clock.Now().Add(72 * time.Hour).UTC().Truncate(time.Millisecond)
		i := ind("203.0.113.98", "GREEN", at)
		report := map[string]any{"type": "report", "spec_version": "2.1", "id": "report--" + uuid.NewString(), "created": ts, "modified": ts,
			"name": "Lỗ hổng VPN", "description": "Tóm tắt\n\nVá ngay", "published": ts, "report_types": []string{"threat-report"},
			"labels": []string{"severity:critical"}, "object_refs": []string{"vulnerability--" + uuid.NewString(), i["id"].(string)},
			"external_references": []map[string]string{{"source_name": "cve", "external_id": "CVE-2026-0042"}, {"source_name": "vendor", "external_id": "VSA-1"}},
			"x_certnet_deadline":  stix.FormatTime(deadline), "object_marking_refs": []string{stix.TLPMarkingID("GREEN")}}
		f.objs = []map[string]any{i, report}
		f.added = []time.Time{at, at.Add(time.Second)}
		srv := httptest.NewServer(f.handler(t))
		defer srv.Close()
		v := c.pullAdvisory(t, c.peer(t, srv.URL+"/api/", "secret-token", "green"))
		if !slices.Equal(v.CVEs, []string{"CVE-2026-0042"}) || !v.DeadlineAt.Equal(deadline) || v.Severity != "critical" {
			t.Fatalf("advisory: CVEs %v, deadline %v (want %v), severity %s", v.CVEs, v.DeadlineAt, deadline, v.Severity)
		}
	})
}

// TestAdvisoryFromParent: a report in certnet's advisory form becomes a
// local advisory of the parent's organisation, published to the members,
// once; a later closed version closes it.
func TestAdvisoryFromParent(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newChild(t, db)
		f := &fakeParent{}
		at := c.e.Clock.Now().Add(-time.Hour)
		ts := stix.FormatTime(at)
		vuln := map[string]any{"type": "vulnerability", "spec_version": "2.1", "id": "vulnerability--" + uuid.NewString(), "created": ts,
			"modified": ts, "name": "CVE-2026-12345", "external_references": []map[string]string{{"source_name": "cve", "external_id": "CVE-2026-12345"}},
			"object_marking_refs": []string{stix.TLPMarkingID("AMBER")}}
		i := ind("203.0.113.99", "AMBER", at)
		report := map[string]any{"type": "report", "spec_version": "2.1", "id": "report--" + uuid.NewString(), "created": ts, "modified": ts,
			"name": "Lỗ hổng nghiêm trọng", "description": "Tóm tắt\n\nVá ngay", "published": ts, "report_types": []string{"threat-report"},
			"labels": []string{"severity:high"}, "object_refs": []string{vuln["id"].(string), i["id"].(string)},
			"object_marking_refs": []string{stix.TLPMarkingID("AMBER")}}
		f.objs = []map[string]any{vuln, i, report}
		f.added = []time.Time{at, at, at.Add(time.Second)}
		srv := httptest.NewServer(f.handler(t))
		defer srv.Close()
		p := c.peer(t, srv.URL+"/api/", "secret-token", "amber")
		v := c.pullAdvisory(t, p)
		id := v.ID
		if v.OwnerOrgID != c.nat.ID || v.Status != intel.AdvisoryPublished || v.Severity != "high" || v.TLP != policy.TLPAmber ||
			!slices.Equal(v.CVEs, []string{"CVE-2026-12345"}) || len(v.IndicatorIDs) != 1 || v.Actions != "Vá ngay" {
			t.Fatalf("advisory: %+v", v)
		}
		// The members receive it (the whole local network).
		member := c.actor(c.e.User(c.hnm.ID, "hnm-viewer", policy.RoleReporter).ID)
		if _, err := c.e.App.Intel.Advisory(ctx, member, id); err != nil {
			t.Fatalf("a member cannot read the parent's advisory: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM advisory_recipients WHERE advisory_id = ? AND org_id IN (?, ?)", id, c.hn.ID, c.hnm.ID); n != 2 {
			t.Fatalf("recipients HN/HNM: %d", n)
		}
		// Again: nothing new. A closed version closes it.
		f.mu.Lock()
		closed := map[string]any{}
		for k, v := range report {
			closed[k] = v
		}
		closed["modified"] = stix.FormatTime(at.Add(time.Minute))
		closed["labels"] = []string{"severity:high", "status:closed"}
		f.objs = append(f.objs, closed)
		f.added = append(f.added, at.Add(time.Minute))
		f.mu.Unlock()
		if rep, err := c.svc.SyncNow(ctx, c.admin, p.ID); err != nil || rep.Advisories != 0 {
			t.Fatalf("second sync: %+v %v", rep, err)
		}
		v, _ = c.e.App.Intel.Advisory(ctx, c.e.Sys, id)
		if v.Status != intel.AdvisoryClosed {
			t.Fatalf("status %s, want closed", v.Status)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM advisories WHERE owner_org_id = ?", c.nat.ID); n != 1 {
			t.Fatalf("%d advisories, want 1", n)
		}
	})
}

// TestPeerValidationAndPolicy: bad input is refused with field errors and
// nothing stored; the secret never shows; a viewer sees nothing, an
// analyst may not manage.
func TestPeerValidationAndPolicy(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newChild(t, db)
		bad := []federation.PeerInput{
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, APIRoot: "http://x/", PushCollection: "amber", Secret: "s"},                                   // no name
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "ftp://x/", PushCollection: "amber", Secret: "s"},                         // scheme
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://u:p@x/", PushCollection: "amber", Secret: "s"},                    // user info
			{OrgID: c.hn.ID, ParentOrgID: c.hn.ID, Name: "x", APIRoot: "http://x/", PushCollection: "amber", Secret: "s"},                         // same org
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://x/", PushCollection: "a b", Secret: "s"},                          // collection
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://x/", Secret: "s"},                                                 // nothing
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://x/", PushCollection: "amber"},                                     // no secret
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://x/", PushCollection: "amber", Secret: "s", AuthKind: "basic"},     // no username
			{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://x/", PushCollection: "amber", Secret: "s", Interval: time.Second}, // interval
			{OrgID: c.hn.ID, ParentOrgID: 999999, Name: "x", APIRoot: "http://x/", PushCollection: "amber", Secret: "s"},                          // unknown org
		}
		for i, in := range bad {
			if _, err := c.svc.Create(ctx, c.admin, in); errs.KindOf(err) != errs.KindInvalid {
				t.Errorf("case %d: %v, want invalid", i, err)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM federation_peers"); n != 0 {
			t.Fatalf("%d peers stored from bad input", n)
		}
		if _, err := c.svc.Create(ctx, c.analyst, federation.PeerInput{OrgID: c.hn.ID, ParentOrgID: c.nat.ID, Name: "x", APIRoot: "http://x/",
			PushCollection: "amber", Secret: "s"}); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("analyst create: %v", err)
		}
		p := c.peer(t, "http://127.0.0.1:1/taxii2/api/", "cn_verysecrettoken_0123456789")
		if strings.Contains(p.Masked, "0123456789") || p.Masked == "" {
			t.Fatalf("mask %q", p.Masked)
		}
		b, _ := json.Marshal(p)
		if strings.Contains(string(b), "0123456789") {
			t.Fatalf("the secret is in the JSON: %s", b)
		}
		var entry string
		if err := db.QueryRow(ctx, "SELECT after_json FROM audit_log WHERE action = 'federation.peer.create'").Scan(&entry); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(entry, "0123456789") {
			t.Fatal("the secret is in the audit log")
		}
		viewer := c.actor(c.e.User(c.hn.ID, "hn-viewer", policy.RoleViewer).ID)
		if l, err := c.svc.List(ctx, viewer); err != nil || len(l) != 0 {
			t.Fatalf("viewer list: %v %v", l, err)
		}
		if _, err := c.svc.SyncNow(ctx, c.analyst, p.ID); errs.KindOf(err) == errs.KindInvalid || err == nil {
			t.Fatalf("analyst sync: %v", err)
		}
		// Update keeps the secret when none is given.
		up, err := c.svc.Update(ctx, c.admin, p.ID, federation.PeerInput{ParentOrgID: c.nat.ID, Name: "VNCERT 2", APIRoot: p.APIRoot,
			PushCollection: "amber", PullCollections: []string{"amber"}, Interval: time.Hour, Enabled: false})
		if err != nil || up.Masked != p.Masked || up.Name != "VNCERT 2" || up.Enabled {
			t.Fatalf("update: %+v %v", up, err)
		}
		// An unreachable parent: the error is recorded, the peer backs off.
		c.svc.Retries = 0
		if _, err := c.svc.SyncNow(ctx, c.admin, p.ID); err == nil {
			t.Fatal("sync to a closed port succeeded")
		}
		if err := c.svc.Delete(ctx, c.admin, p.ID); err != nil {
			t.Fatal(err)
		}
		verifyAudit(t, db)
	})
}

// TestSyncDue: the job syncs enabled peers whose time came, once per
// interval.
func TestSyncDue(t *testing.T) {
	c := newChild(t, testkit.NewSQLite(t))
	ctx := context.Background()
	f := &fakeParent{}
	srv := httptest.NewServer(f.handler(t))
	defer srv.Close()
	c.peer(t, srv.URL+"/api/", "secret-token", "amber")
	if n, err := c.svc.SyncDue(ctx); err != nil || n != 1 {
		t.Fatalf("first run: %d %v", n, err)
	}
	if n, _ := c.svc.SyncDue(ctx); n != 0 {
		t.Fatalf("ran again before the interval: %d", n)
	}
	c.e.Clock.Advance(11 * time.Minute)
	if n, _ := c.svc.SyncDue(ctx); n != 1 {
		t.Fatalf("did not run after the interval: %d", n)
	}
}

// A peer's secret is sealed in the database and opened to reach the
// parent; one kept in clear by an earlier version is sealed at start; one
// sealed under another server's key says so, fails its sync with that
// reason, and works again once entered anew.
func TestPeerSecretSealed(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newChild(t, db)
		f := &fakeParent{}
		srv := httptest.NewServer(f.handler(t))
		defer srv.Close()
		p := c.peer(t, srv.URL+"/api/", "secret-token", "green")
		var stored string
		if err := db.QueryRow(ctx, "SELECT secret FROM federation_peers WHERE id = ?", p.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !secretbox.Sealed(stored) || strings.Contains(stored, "secret-token") {
			t.Fatalf("stored secret %q", stored)
		}
		if p.Masked != federation.Mask("secret-token") || p.SecretUnreadable {
			t.Fatalf("peer shows %q, unreadable %v", p.Masked, p.SecretUnreadable)
		}
		if _, err := c.svc.SyncNow(ctx, c.admin, p.ID); err != nil {
			t.Fatalf("sync with the sealed secret: %v", err)
		}
		// In clear (an earlier version): still used, sealed at start.
		if _, err := db.Exec(ctx, "UPDATE federation_peers SET secret = 'secret-token' WHERE id = ?", p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.svc.SyncNow(ctx, c.admin, p.ID); err != nil {
			t.Fatalf("sync with the secret in clear: %v", err)
		}
		if err := c.svc.SealStored(ctx); err != nil {
			t.Fatal(err)
		}
		db.QueryRow(ctx, "SELECT secret FROM federation_peers WHERE id = ?", p.ID).Scan(&stored)
		if !secretbox.Sealed(stored) {
			t.Fatalf("not sealed at start: %q", stored)
		}
		// Another server's key (the database restored elsewhere).
		mine := c.svc.Secrets
		other, err := secretbox.New(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		c.svc.Secrets = other
		got, err := c.svc.Get(ctx, c.admin, p.ID)
		if err != nil || !got.SecretUnreadable || got.Masked != "" {
			t.Fatalf("peer under another key: %+v %v", got, err)
		}
		if _, err := c.svc.SyncNow(ctx, c.admin, p.ID); err == nil {
			t.Fatal("synced without a readable secret")
		}
		got, _ = c.svc.Get(ctx, c.admin, p.ID)
		if !strings.Contains(got.LastError, secretbox.KeyFile) {
			t.Fatalf("last error %q", got.LastError)
		}
		in := federation.PeerInput{OrgID: got.OrgID, ParentOrgID: got.ParentOrgID, Name: got.Name, APIRoot: got.APIRoot,
			PushCollection: got.PushCollection, PullCollections: got.PullCollections, AuthKind: got.AuthKind, Secret: "secret-token",
			Interval: got.Interval, Enabled: true}
		if _, err := c.svc.Update(ctx, c.admin, p.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := c.svc.SyncNow(ctx, c.admin, p.ID); err != nil {
			t.Fatalf("sync after the secret was entered again: %v", err)
		}
		c.svc.Secrets = mine
	})
}
