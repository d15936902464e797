package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"certnet/internal/apptest"
	"certnet/internal/intel/stix"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/taxii"
	"certnet/internal/testkit"
)

type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.Body)
	}
}

// do sends a TAXII request: auth is "Bearer x", "Basic user:pass" or empty.
func do(t *testing.T, e *apptest.Env, method, path, auth, body string, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	if body != "" {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	if u, p, ok := strings.Cut(strings.TrimPrefix(auth, "Basic "), ":"); strings.HasPrefix(auth, "Basic ") && ok {
		req.SetBasicAuth(u, p)
	} else if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := e.Srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}

func indicator(id, value, marking string, at time.Time) map[string]any {
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": ts, "modified": ts,
		"pattern": fmt.Sprintf("[ipv4-addr:value = '%s']", value), "pattern_type": "stix", "valid_from": ts}
	if marking != "" {
		o["object_marking_refs"] = []string{stix.TLPMarkingID(marking)}
	}
	return o
}

func envelope(objs ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"objects": objs})
	return string(b)
}

type page struct {
	More    bool             `json:"more"`
	Next    string           `json:"next"`
	Objects []map[string]any `json:"objects"`
}

type world struct {
	e                                   *apptest.Env
	hnAnalyst, hnViewer, dnAnalyst, nat string
	hnUser                              string
}

func setup(t *testing.T, db *store.DB) *world {
	e := apptest.Start(t, db)
	nat := e.Org("VNCERT", "Trung tâm", 0, org.RoleNationalCoordinator)
	hn := e.Org("HN", "Hà Nội", nat.ID, org.RoleProvincialResponseUnit)
	dn := e.Org("DN", "Đà Nẵng", nat.ID, org.RoleProvincialResponseUnit)
	return &world{e: e,
		hnAnalyst: e.Token(e.User(hn.ID, "hn-analyst", policy.RoleAnalyst)),
		hnViewer:  e.Token(e.User(hn.ID, "hn-viewer", policy.RoleViewer)),
		dnAnalyst: e.Token(e.User(dn.ID, "dn-analyst", policy.RoleAnalyst)),
		nat:       e.Token(e.User(nat.ID, "nat-coord", policy.RoleCoordinator)),
		hnUser:    "hn-analyst",
	}
}

const root = "/taxii2/api/"
const green = root + "collections/indicators-green/"

func TestTAXII(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db)
		e := w.e
		B := func(tok string) string { return "Bearer " + tok }

		// Discovery, media type and authentication.
		r := do(t, e, "GET", "/taxii2/", B(w.hnViewer), "", nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != taxii.MediaType || !strings.Contains(string(r.Body), `"/taxii2/api/"`) {
			t.Fatalf("discovery: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		if r = do(t, e, "GET", "/taxii2/", B(w.hnViewer), "", map[string]string{"Accept": "application/json"}); r.Status != 406 {
			t.Fatalf("bad accept: %d", r.Status)
		}
		var te taxii.Error
		r.into(t, &te)
		if te.HTTPStatus != "406" || te.Title == "" || te.ErrorCode == "" {
			t.Fatalf("error body: %s", r.Body)
		}
		if r = do(t, e, "GET", "/taxii2/", "", "", nil); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("no credentials: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		if r = do(t, e, "GET", "/taxii2/", "Bearer nope", "", nil); r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("bad token: %d", r.Status)
		}
		if r = do(t, e, "GET", "/taxii2/", "Basic "+w.hnUser+":"+w.hnAnalyst, "", nil); r.Status != 200 {
			t.Fatalf("basic: %d %s", r.Status, r.Body)
		}
		if r = do(t, e, "GET", "/taxii2/", "Basic someone-else:"+w.hnAnalyst, "", nil); r.Status != 401 {
			t.Fatalf("basic with another username: %d", r.Status)
		}
		if r = do(t, e, "GET", root, B(w.hnViewer), "", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"max_content_length":1048576`) {
			t.Fatalf("api root: %d %s", r.Status, r.Body)
		}
		if r = do(t, e, "GET", "/taxii2/other/", B(w.hnViewer), "", nil); r.Status != 404 {
			t.Fatalf("unknown root: %d", r.Status)
		}

		// Collections and rights.
		var cols struct {
			Collections []struct {
				Alias    string `json:"alias"`
				ID       string `json:"id"`
				CanRead  bool   `json:"can_read"`
				CanWrite bool   `json:"can_write"`
			} `json:"collections"`
		}
		do(t, e, "GET", root+"collections/", B(w.hnViewer), "", nil).into(t, &cols)
		if len(cols.Collections) != 3 || !cols.Collections[1].CanRead || cols.Collections[1].CanWrite {
			t.Fatalf("viewer collections: %+v", cols)
		}
		do(t, e, "GET", root+"collections/", B(w.hnAnalyst), "", nil).into(t, &cols)
		if !cols.Collections[1].CanWrite {
			t.Fatalf("analyst may write: %+v", cols)
		}
		if r = do(t, e, "GET", root+"collections/"+cols.Collections[0].ID+"/", B(w.hnViewer), "", nil); r.Status != 200 {
			t.Fatalf("collection by id: %d", r.Status)
		}
		if r = do(t, e, "GET", root+"collections/red/", B(w.hnViewer), "", nil); r.Status != 404 {
			t.Fatalf("no red collection: %d", r.Status)
		}

		// POST: seven good indicators and one bad; 202 with a status.
		var objs []map[string]any
		var ids []string
		for i := range 7 {
			id := "indicator--" + uuid.NewString()
			ids = append(ids, id)
			objs = append(objs, indicator(id, fmt.Sprintf("198.51.100.%d", i+1), "GREEN", e.Clock.Now()))
		}
		bad := map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uuid.NewString(), "pattern": "[nonsense"}
		body := envelope(append(objs, bad)...)
		if r = do(t, e, "POST", green+"objects/", B(w.hnViewer), body, nil); r.Status != 403 {
			t.Fatalf("viewer post: %d", r.Status)
		}
		if r = do(t, e, "POST", green+"objects/", B(w.hnAnalyst), body, map[string]string{"Content-Type": "application/json"}); r.Status != 415 {
			t.Fatalf("bad content type: %d", r.Status)
		}
		if r = do(t, e, "POST", green+"objects/", B(w.hnAnalyst), `{"objects":[`+strings.Repeat(" ", 1<<20)+`]}`, nil); r.Status != 413 {
			t.Fatalf("too large: %d", r.Status)
		}
		if r = do(t, e, "POST", green+"objects/", B(w.hnAnalyst), `{"nothing":1}`, nil); r.Status != 400 {
			t.Fatalf("not an envelope: %d", r.Status)
		}
		r = do(t, e, "POST", green+"objects/", B(w.hnAnalyst), body, nil)
		if r.Status != 202 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
		var st taxii.Status
		r.into(t, &st)
		if st.Status != "complete" || st.TotalCount != 8 || st.SuccessCount != 7 || st.FailureCount != 1 ||
			st.Failures[0].ID != bad["id"] || st.Failures[0].Message == "" || st.Successes[0].ID != ids[0] || st.Successes[0].Version == "" {
			t.Fatalf("status: %+v", st)
		}
		var again taxii.Status
		r = do(t, e, "GET", root+"status/"+st.ID+"/", B(w.hnViewer), "", nil)
		r.into(t, &again)
		if r.Status != 200 || again.ID != st.ID || again.SuccessCount != 7 || len(again.Failures) != 1 {
			t.Fatalf("status after: %d %s", r.Status, r.Body)
		}
		if r = do(t, e, "GET", root+"status/"+st.ID+"/", B(w.dnAnalyst), "", nil); r.Status != 404 {
			t.Fatalf("another organisation's status: %d", r.Status)
		}

		// Paging: limit 3 over 7, no duplicates or gaps, headers.
		seen := map[string]bool{}
		next := ""
		pages := 0
		for {
			q := "?limit=3"
			if next != "" {
				q += "&next=" + next
			}
			r = do(t, e, "GET", green+"objects/"+q, B(w.dnAnalyst), "", nil)
			var p page
			r.into(t, &p)
			if r.Status != 200 || len(p.Objects) == 0 || len(p.Objects) > 3 {
				t.Fatalf("page %d: %d %s", pages, r.Status, r.Body)
			}
			if r.Header.Get("X-TAXII-Date-Added-First") == "" || r.Header.Get("X-TAXII-Date-Added-Last") == "" {
				t.Fatalf("page %d lacks date-added headers", pages)
			}
			for _, o := range p.Objects {
				id := o["id"].(string)
				if seen[id] {
					t.Fatalf("%s twice", id)
				}
				seen[id] = true
			}
			pages++
			if !p.More {
				if p.Next != "" {
					t.Fatal("next without more")
				}
				break
			}
			next = p.Next
		}
		if pages != 3 || len(seen) != 7 {
			t.Fatalf("pages %d, objects %d", pages, len(seen))
		}
		for _, id := range ids {
			if !seen[id] {
				t.Fatalf("%s missing", id)
			}
		}

		// added_after: only what came after the last sync.
		r = do(t, e, "GET", green+"manifest/", B(w.dnAnalyst), "", nil)
		last := r.Header.Get("X-TAXII-Date-Added-Last")
		var man struct {
			Objects []struct {
				ID, DateAdded, Version, MediaType string
			} `json:"objects"`
		}
		r.into(t, &man)
		if len(man.Objects) != 7 {
			t.Fatalf("manifest: %s", r.Body)
		}
		e.Clock.Advance(time.Minute)
		newID := "indicator--" + uuid.NewString()
		if r = do(t, e, "POST", green+"objects/", B(w.hnAnalyst), envelope(indicator(newID, "203.0.113.77", "GREEN", e.Clock.Now())), nil); r.Status != 202 {
			t.Fatalf("post 2: %d %s", r.Status, r.Body)
		}
		var p page
		do(t, e, "GET", green+"objects/?added_after="+last, B(w.dnAnalyst), "", nil).into(t, &p)
		if len(p.Objects) != 1 || p.Objects[0]["id"] != newID {
			t.Fatalf("added_after: %+v", p)
		}

		// Filters.
		count := func(q string) int {
			t.Helper()
			r := do(t, e, "GET", green+"objects/"+q, B(w.dnAnalyst), "", nil)
			if r.Status != 200 {
				t.Fatalf("%s: %d %s", q, r.Status, r.Body)
			}
			var p page
			r.into(t, &p)
			return len(p.Objects)
		}
		for q, want := range map[string]int{
			"?match[id]=" + ids[0] + "," + ids[1]:                2,
			"?match[type]=indicator":                             8,
			"?match[type]=malware":                               0,
			"?match[type]=malware,indicator&match[id]=" + ids[2]: 1,
			"?match[version]=first":                              8,
			"?match[version]=all":                                8,
			"?match[version]=2001-01-01T00:00:00Z":               0,
			"?match[spec_version]=2.0":                           0,
			"?match[spec_version]=2.1&match[id]=" + newID:        1,
			"?match[id]=" + ids[0] + "&added_after=" + last:      0,
			"?match[version]=last&match[type]=indicator&limit=2": 2,
		} {
			if got := count(q); got != want {
				t.Errorf("%s: %d objects, want %d", q, got, want)
			}
		}
		for _, q := range []string{"?limit=0", "?limit=x", "?match[type]=BAD!", "?added_after=yesterday", "?next=%%%", "?match[colour]=red", "?match[version]=newest"} {
			if r = do(t, e, "GET", green+"objects/"+q, B(w.dnAnalyst), "", nil); r.Status != 400 {
				t.Errorf("%s: %d, want 400", q, r.Status)
			}
		}
		var vs struct {
			Versions []string `json:"versions"`
		}
		r = do(t, e, "GET", green+"objects/"+ids[0]+"/versions/", B(w.dnAnalyst), "", nil)
		r.into(t, &vs)
		if r.Status != 200 || len(vs.Versions) != 1 {
			t.Fatalf("versions: %d %s", r.Status, r.Body)
		}
		if r = do(t, e, "GET", green+"objects/"+ids[0]+"/?match[version]="+vs.Versions[0], B(w.dnAnalyst), "", nil); r.Status != 200 || !strings.Contains(string(r.Body), ids[0]) {
			t.Fatalf("object at its version: %d %s", r.Status, r.Body)
		}

		// Visibility: AMBER+STRICT of HN is not DN's (404), nor is it in a
		// GREEN collection.
		strict := "indicator--" + uuid.NewString()
		if r = do(t, e, "POST", root+"collections/amber/objects/", B(w.hnAnalyst), envelope(indicator(strict, "192.0.2.55", "AMBER+STRICT", e.Clock.Now())), nil); r.Status != 202 {
			t.Fatalf("post strict: %d %s", r.Status, r.Body)
		}
		if r = do(t, e, "GET", root+"collections/amber/objects/"+strict+"/", B(w.hnViewer), "", nil); r.Status != 200 {
			t.Fatalf("owner reads strict: %d %s", r.Status, r.Body)
		}
		for _, tok := range []string{w.dnAnalyst, w.nat} {
			if r = do(t, e, "GET", root+"collections/amber/objects/"+strict+"/", B(tok), "", nil); r.Status != 404 {
				t.Fatalf("other organisation reads strict: %d", r.Status)
			}
		}
		if r = do(t, e, "GET", green+"objects/"+strict+"/", B(w.hnViewer), "", nil); r.Status != 404 {
			t.Fatalf("strict in green: %d", r.Status)
		}

		// DELETE: only the owner's writers.
		if r = do(t, e, "DELETE", green+"objects/"+ids[0]+"/", B(w.dnAnalyst), "", nil); r.Status != 403 {
			t.Fatalf("other org delete: %d", r.Status)
		}
		if r = do(t, e, "DELETE", green+"objects/"+ids[0]+"/", B(w.hnViewer), "", nil); r.Status != 403 {
			t.Fatalf("viewer delete: %d", r.Status)
		}
		if r = do(t, e, "DELETE", root+"collections/amber/objects/"+strict+"/", B(w.dnAnalyst), "", nil); r.Status != 404 {
			t.Fatalf("delete what one cannot see: %d", r.Status)
		}
		if r = do(t, e, "DELETE", green+"objects/"+ids[0]+"/", B(w.hnAnalyst), "", nil); r.Status != 200 {
			t.Fatalf("owner delete: %d %s", r.Status, r.Body)
		}
		if r = do(t, e, "GET", green+"objects/"+ids[0]+"/", B(w.dnAnalyst), "", nil); !strings.Contains(string(r.Body), `"revoked":true`) {
			t.Fatalf("deleted indicator is not revoked: %s", r.Body)
		}
	})
}

// TestRoundTrip: what one certnet serves by TAXII, another imports by
// TAXII, and the indicators are the same.
func TestRoundTrip(t *testing.T) {
	a := setup(t, testkit.NewSQLite(t))
	b := setup(t, testkit.NewSQLite(t))
	var objs []map[string]any
	for i := range 5 {
		objs = append(objs, indicator("indicator--"+uuid.NewString(), fmt.Sprintf("198.51.100.%d", 10+i), "GREEN", a.e.Clock.Now()))
	}
	if r := do(t, a.e, "POST", green+"objects/", "Bearer "+a.hnAnalyst, envelope(objs...), nil); r.Status != 202 {
		t.Fatalf("seed: %d %s", r.Status, r.Body)
	}
	var p page
	do(t, a.e, "GET", green+"objects/", "Bearer "+a.dnAnalyst, "", nil).into(t, &p)
	if r := do(t, b.e, "POST", green+"objects/", "Bearer "+b.hnAnalyst, envelope(p.Objects...), nil); r.Status != 202 || !strings.Contains(string(r.Body), `"success_count":5`) {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	var q page
	do(t, b.e, "GET", green+"objects/", "Bearer "+b.dnAnalyst, "", nil).into(t, &q)
	set := func(p page) map[string]string {
		m := map[string]string{}
		for _, o := range p.Objects {
			m[o["id"].(string)] = o["pattern"].(string)
		}
		return m
	}
	x, y := set(p), set(q)
	if len(x) != 5 || fmt.Sprint(x) != fmt.Sprint(y) {
		t.Fatalf("round trip differs:\n%v\n%v", x, y)
	}
}
