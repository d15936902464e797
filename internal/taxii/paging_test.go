package taxii_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"certnet/internal/apptest"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func malware(id, marking string, at time.Time) map[string]any {
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	return map[string]any{"type": "malware", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"name": "Mã độc " + id[len(id)-4:], "is_family": false, "object_marking_refs": []string{stix.TLPMarkingID(marking)}}
}

// walk reads a collection page by page (limit n) and returns the ids in
// order; after is called after each page.
func walk(t *testing.T, e *apptest.Env, col, tok, query string, n int, after func(page int)) []string {
	t.Helper()
	var ids []string
	next := ""
	for pg := 0; ; pg++ {
		q := fmt.Sprintf("?limit=%d%s", n, query)
		if next != "" {
			q += "&next=" + url.QueryEscape(next)
		}
		r := do(t, e, "GET", root+"collections/"+col+"/objects/"+q, "Bearer "+tok, "", nil)
		if r.Status != 200 {
			t.Fatalf("%s page %d: %d %s", col, pg, r.Status, r.Body)
		}
		var p page
		r.into(t, &p)
		if len(p.Objects) > n {
			t.Fatalf("page of %d past limit %d", len(p.Objects), n)
		}
		if len(p.Objects) > 0 && (r.Header.Get("X-TAXII-Date-Added-First") == "" || r.Header.Get("X-TAXII-Date-Added-Last") == "") {
			t.Fatalf("page %d lacks the date-added headers", pg)
		}
		for _, o := range p.Objects {
			ids = append(ids, o["id"].(string))
		}
		if after != nil {
			after(pg)
		}
		if !p.More {
			return ids
		}
		if p.Next == "" {
			t.Fatal("more without next")
		}
		next = p.Next
	}
}

// TestPagingAcrossInserts: a walk started before objects arrive and change
// still reads every object once, the new ones and the changed ones (again,
// at their new version) at the end; added_after from the last page's
// header reads only what came after.
func TestPagingAcrossInserts(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db)
		e := w.e
		post := func(objs ...map[string]any) {
			t.Helper()
			if r := do(t, e, "POST", green+"objects/", "Bearer "+w.hnAnalyst, envelope(objs...), nil); r.Status != 202 {
				t.Fatalf("post: %d %s", r.Status, r.Body)
			}
		}
		var first []string
		for i := range 10 {
			id := "indicator--" + uuid.NewString()
			first = append(first, id)
			// Two at each instant: ties are ordered by row.
			if i%2 == 0 {
				e.Clock.Advance(time.Second)
			}
			post(indicator(id, fmt.Sprintf("198.51.100.%d", i+1), "GREEN", e.Clock.Now()))
		}
		var late []string
		got := walk(t, e, "indicators-green", w.dnAnalyst, "", 4, func(pg int) {
			if pg != 0 {
				return
			}
			// After the first page: three new objects, and the first
			// object changes (seen again, after the others).
			for i := range 3 {
				e.Clock.Advance(time.Second)
				id := "malware--" + uuid.NewString()
				late = append(late, id)
				post(malware(id, "GREEN", e.Clock.Now()))
				_ = i
			}
			e.Clock.Advance(time.Second)
			o := indicator(first[0], "198.51.100.1", "GREEN", e.Clock.Now())
			o["name"] = "đổi tên"
			post(o)
		})
		want := append(append(slices.Clone(first), late...), first[0])
		if !slices.Equal(got, want) {
			t.Fatalf("walk across inserts:\n got %v\nwant %v", got, want)
		}
		// added_after the header of the last page of a complete walk: empty;
		// then one new object.
		r := do(t, e, "GET", green+"objects/", "Bearer "+w.dnAnalyst, "", nil)
		last := r.Header.Get("X-TAXII-Date-Added-Last")
		if got := walk(t, e, "indicators-green", w.dnAnalyst, "&added_after="+url.QueryEscape(last), 2, nil); len(got) != 0 {
			t.Fatalf("added_after the last: %v", got)
		}
		e.Clock.Advance(time.Second)
		id := "indicator--" + uuid.NewString()
		post(indicator(id, "203.0.113.200", "GREEN", e.Clock.Now()))
		if got := walk(t, e, "indicators-green", w.dnAnalyst, "&added_after="+url.QueryEscape(last), 2, nil); !slices.Equal(got, []string{id}) {
			t.Fatalf("added_after the last, one new: %v", got)
		}
		// Filters over pages: match[type] and match[id] walk with the cursor.
		if got := walk(t, e, "indicators-green", w.dnAnalyst, "&match[type]=malware", 2, nil); !slices.Equal(got, late) {
			t.Fatalf("match[type]=malware: %v, want %v", got, late)
		}
		ids := url.QueryEscape(first[3] + "," + first[5] + "," + late[1])
		if got := walk(t, e, "indicators-green", w.dnAnalyst, "&match[id]="+ids, 1, nil); !slices.Equal(got, []string{first[3], first[5], late[1]}) {
			t.Fatalf("match[id]: %v", got)
		}
		// A cursor of a kind certnet never made is refused.
		if r := do(t, e, "GET", green+"objects/?next=MjAyNi0xMS0yNlQwNzowMDowMFp8aW5kaWNhdG9yLS1h", "Bearer "+w.dnAnalyst, "", nil); r.Status != 400 {
			t.Fatalf("old-style cursor: %d", r.Status)
		}
	})
}

// TestPolicyOracle: every organisation holds an indicator and a malware
// object under each label; each caller walks each collection in pages of
// 3, and what it reads is exactly what policy.Check allows it, one object
// per STIX id; for everything else the object endpoint answers 404.
func TestPolicyOracle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := apptest.Start(t, db)
		ctx := context.Background()
		nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
		hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
		hnm := e.Org("HNM", "Ngân hàng Hà Nội", hn.ID, org.RoleSystemOwner)
		dn := e.Org("DN", "Đà Nẵng", nat.ID, org.RoleProvincialResponseUnit)
		type caller struct {
			name  string
			tok   string
			actor policy.Actor
		}
		var callers []caller
		for _, o := range []org.Org{nat, hn, hnm, dn} {
			u := e.User(o.ID, "an-"+o.Code, policy.RoleAnalyst)
			a, err := e.App.Auth.ActorFor(ctx, u, "")
			if err != nil {
				t.Fatal(err)
			}
			callers = append(callers, caller{o.Code, e.Token(u), a})
		}
		type held struct {
			id    string
			owner int64
			tlp   policy.TLP
		}
		var all []held
		labels := []string{"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"}
		shared := "indicator--" + uuid.NewString() // held by HN (AMBER) and DN (GREEN)
		for i, c := range callers {
			var objs []map[string]any
			for j, l := range labels {
				id := "indicator--" + uuid.NewString()
				objs = append(objs, indicator(id, fmt.Sprintf("10.%d.%d.1", i, j), l, e.Clock.Now()))
				all = append(all, held{id, c.actor.OrgID, policy.TLP(l)})
				mid := "malware--" + uuid.NewString()
				objs = append(objs, malware(mid, l, e.Clock.Now()))
				all = append(all, held{mid, c.actor.OrgID, policy.TLP(l)})
			}
			switch c.name {
			case "HN":
				objs = append(objs, indicator(shared, "192.0.2.200", "AMBER", e.Clock.Now()))
				all = append(all, held{shared, c.actor.OrgID, policy.TLPAmber})
			case "DN":
				objs = append(objs, indicator(shared, "192.0.2.200", "GREEN", e.Clock.Now()))
				all = append(all, held{shared, c.actor.OrgID, policy.TLPGreen})
			}
			if r := do(t, e, "POST", root+"collections/amber/objects/", "Bearer "+c.tok, envelope(objs...), nil); r.Status != 202 {
				t.Fatalf("seed %s: %d %s", c.name, r.Status, r.Body)
			}
			e.Clock.Advance(time.Millisecond)
		}
		cols := map[string][]policy.TLP{"indicators-clear": {policy.TLPClear}, "indicators-green": {policy.TLPGreen},
			"amber": {policy.TLPAmber, policy.TLPAmberStrict}}
		for _, c := range callers {
			for col, tlps := range cols {
				want := map[string]bool{}
				for _, h := range all {
					if slices.Contains(tlps, h.tlp) && policy.Check(c.actor, policy.IntelRead, policy.Resource{OwnerOrg: h.owner, TLP: h.tlp}) == nil {
						want[h.id] = true
					}
				}
				got := walk(t, e, col, c.tok, "", 3, nil)
				seen := map[string]bool{}
				for _, id := range got {
					if seen[id] {
						t.Errorf("%s %s: %s twice", c.name, col, id)
					}
					seen[id] = true
					if !want[id] {
						t.Errorf("%s %s: reads %s, which policy refuses", c.name, col, id)
					}
				}
				for id := range want {
					if !seen[id] {
						t.Errorf("%s %s: misses %s", c.name, col, id)
					}
				}
				for _, h := range all {
					if slices.Contains(tlps, h.tlp) && !want[h.id] {
						if r := do(t, e, "GET", root+"collections/"+col+"/objects/"+h.id+"/", "Bearer "+c.tok, "", nil); r.Status != 404 {
							t.Errorf("%s %s: object %s it may not know: %d", c.name, col, h.id, r.Status)
						}
					}
				}
			}
		}
	})
}
