package web_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/policy"
)

func init() { addWMRoutes(wmPublicAdvisoryRoutes) }

// --- scenario: a visitor (no sign-in) reads the public TLP:CLEAR
// advisories in Vietnamese and English, one by one, page by page and as an
// Atom feed; GREEN, AMBER, draft and exercise advisories never appear ---

func TestWebPublicAdvisories(t *testing.T) {
	n := newOrgNet(t)
	e := n.e
	ctx := t.Context()
	publish := func(tlp policy.TLP, title, titleEN string, publish bool) intel.Advisory {
		t.Helper()
		v, err := e.App.Intel.CreateAdvisory(ctx, e.Sys, intel.AdvisoryInput{OwnerOrgID: n.nat.ID, Title: title, TitleEN: titleEN,
			Summary: "Tóm tắt " + title, Body: "Chi tiết " + title, Actions: "Cập nhật bản vá " + title, TLP: tlp,
			Severity: intel.SeverityHigh, CVEs: []string{"CVE-2024-3400"}, DeadlineAt: e.Clock.Now().Add(72 * time.Hour),
			Targeting: intel.Targeting{Orgs: []int64{n.hanoi.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		if publish {
			if v, err = e.App.Intel.Publish(ctx, e.Sys, v.ID); err != nil {
				t.Fatal(err)
			}
		}
		e.Clock.Advance(time.Minute)
		return v
	}
	var clear []intel.Advisory
	for i := range 23 {
		clear = append(clear, publish(policy.TLPClear, fmt.Sprintf("Cảnh báo công khai %02d", i), fmt.Sprintf("Public advisory %02d", i), true))
	}
	hidden := []intel.Advisory{publish(policy.TLPGreen, "Cảnh báo XANH", "", true), publish(policy.TLPAmber, "Cảnh báo HỔ PHÁCH", "", true),
		publish(policy.TLPClear, "Bản nháp CÔNG KHAI", "", false)}
	var drill, ex int64
	if err := e.App.DB.QueryRow(ctx, `INSERT INTO readiness_drills (org_id, title, kind, starts_on, ends_on, scenario, objectives, status,
		created_at, updated_at) VALUES (?, 'Diễn tập', 'organisation', ?, ?, '', '', 'planned', ?, ?) RETURNING id`,
		n.nat.ID, e.Clock.Now(), e.Clock.Now(), e.Clock.Now(), e.Clock.Now()).Scan(&drill); err != nil {
		t.Fatal(err)
	}
	if err := e.App.DB.QueryRow(ctx, `INSERT INTO exercises (drill_id, org_id, title, status, started_at, created_at, updated_at)
		VALUES (?, ?, 'Diễn tập', 'running', ?, ?, ?) RETURNING id`, drill, n.nat.ID, e.Clock.Now(), e.Clock.Now(), e.Clock.Now()).Scan(&ex); err != nil {
		t.Fatal(err)
	}
	dv, err := e.App.Intel.PublishExercise(ctx, intel.ExerciseAdvisoryInput{ExerciseID: ex, OwnerOrgID: n.nat.ID, TargetOrgID: n.hanoi.ID,
		Title: "Cảnh báo DIỄN TẬP", Body: "Giả định", Severity: intel.SeverityHigh, DeadlineAt: e.Clock.Now().Add(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.DB.Exec(ctx, "UPDATE advisories SET tlp = 'CLEAR' WHERE id = ?", dv.ID); err != nil {
		t.Fatal(err)
	}
	hidden = append(hidden, dv)

	b := newOrgBrowser(t, e) // a visitor
	p := b.get("/login")
	orgWant(t, "login page", p.Body, `href="/public/advisories"`)
	p = b.get("/report")
	orgWant(t, "public report page", p.Body, `href="/public/advisories"`)
	p = b.get("/public/advisories")
	if p.Status != http.StatusOK {
		t.Fatalf("public list: %d", p.Status)
	}
	// Newest first, 20 a page, Vietnamese.
	orgWant(t, "first page", p.Body, `lang="vi"`, "Cảnh báo công khai 22", "Cảnh báo công khai 03", "TLP:CLEAR", `id="pubadv-next"`)
	if strings.Contains(p.Body, "Cảnh báo công khai 02") || strings.Index(p.Body, "khai 22") > strings.Index(p.Body, "khai 21") {
		t.Fatalf("first page order or size wrong")
	}
	for _, v := range hidden {
		if strings.Contains(p.Body, v.Title) {
			t.Fatalf("%s (%s, %s) on the public page", v.Title, v.TLP, v.Status)
		}
	}
	next := between(p.Body, `href="`, `" rel="next"`)
	p = b.get(strings.ReplaceAll(next, "&amp;", "&"))
	orgWant(t, "second page", p.Body, "Cảnh báo công khai 02", "Cảnh báo công khai 00", `rel="first"`)
	if strings.Contains(p.Body, "Cảnh báo công khai 03") || strings.Contains(p.Body, `id="pubadv-next"`) {
		t.Fatalf("second page repeats or goes on")
	}
	p = b.get("/public/advisories?lang=en")
	orgWant(t, "English page", p.Body, `lang="en"`, "Public advisory 22", "Public security advisories")
	// One advisory: title, summary, body, severity, CVEs, actions, date.
	p = b.get(fmt.Sprintf("/public/advisories/%d", clear[5].ID))
	orgWant(t, "advisory page", p.Body, "Cảnh báo công khai 05", "Tóm tắt Cảnh báo công khai 05", "Chi tiết Cảnh báo công khai 05",
		"CVE-2024-3400", "Cập nhật bản vá Cảnh báo công khai 05", "TLP:CLEAR", "<time datetime=")
	for _, v := range hidden {
		if p := b.get(fmt.Sprintf("/public/advisories/%d", v.ID)); p.Status != http.StatusNotFound || strings.Contains(p.Body, v.Title) {
			t.Fatalf("%s (%s, %s) one by one: %d", v.Title, v.TLP, v.Status, p.Status)
		}
	}
	for _, bad := range []string{"/public/advisories/abc", "/public/advisories/0", "/public/advisories/999999"} {
		if p := b.get(bad); p.Status != http.StatusNotFound {
			t.Fatalf("%s: %d", bad, p.Status)
		}
	}
	if p := b.get("/public/advisories?before=x-y"); p.Status != http.StatusBadRequest {
		t.Fatalf("a broken page cursor: %d", p.Status)
	}

	// The Atom feed: valid Atom 1.0, newest first, paged with next.
	p = b.get("/public/advisories/feed.atom")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	f := parseAtom(t, p.Body)
	if len(f.Entries) != 20 || !strings.Contains(f.Entries[0].Title, "22") || f.link("next") == "" || f.Lang != "vi" {
		t.Fatalf("feed first page: %d entries, first %q, next %q, lang %q", len(f.Entries), f.Entries[0].Title, f.link("next"), f.Lang)
	}
	nextFeed := strings.TrimPrefix(f.link("next"), e.URL)
	p = b.get(nextFeed)
	f2 := parseAtom(t, p.Body)
	if len(f2.Entries) != 3 || f2.link("next") != "" || !strings.Contains(f2.Entries[2].Title, "00") {
		t.Fatalf("feed second page: %d entries, next %q", len(f2.Entries), f2.link("next"))
	}
	ids := map[string]bool{}
	for _, en := range append(f.Entries, f2.Entries...) {
		if ids[en.ID] {
			t.Fatalf("entry %s twice", en.ID)
		}
		ids[en.ID] = true
		for _, v := range hidden {
			if strings.Contains(en.Title, v.Title) {
				t.Fatalf("%s in the feed", v.Title)
			}
		}
	}
	p = b.get("/public/advisories/feed.atom?lang=en")
	if f := parseAtom(t, p.Body); f.Lang != "en" || f.Entries[0].Title != "Public advisory 22" {
		t.Fatalf("English feed: %q %q", f.Lang, f.Entries[0].Title)
	}
	if p := b.get("/public/advisories/feed.atom?before=1-"); p.Status != http.StatusBadRequest {
		t.Fatalf("feed with a broken cursor: %d", p.Status)
	}
}

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  []struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Summary   string `xml:"summary"`
		Content   string `xml:"content"`
		Links     []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

func (f atomDoc) link(rel string) string {
	for _, l := range f.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// parseAtom reads a feed and checks what RFC 4287 requires: the feed's
// id, title, updated, an author and a self link; each entry's id, title,
// updated and a link; times in RFC 3339; newest first.
func parseAtom(t *testing.T, body string) atomDoc {
	t.Helper()
	var f atomDoc
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("feed is not Atom XML: %v\n%s", err, body[:min(len(body), 400)])
	}
	if f.ID == "" || f.Title == "" || len(f.Author) == 0 || f.Author[0].Name == "" || !strings.HasSuffix(strings.Split(f.link("self"), "?")[0], "/public/advisories/feed.atom") {
		t.Fatalf("feed misses id, title, author or self link: %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Fatalf("feed updated %q: %v", f.Updated, err)
	}
	var prev time.Time
	for i, en := range f.Entries {
		up, err1 := time.Parse(time.RFC3339, en.Updated)
		pub, err2 := time.Parse(time.RFC3339, en.Published)
		if en.ID == "" || !strings.HasPrefix(en.ID, "urn:uuid:") || en.Title == "" || err1 != nil || err2 != nil || len(en.Links) == 0 ||
			en.Summary == "" || en.Content == "" {
			t.Fatalf("entry %d incomplete: %+v", i, en)
		}
		if up.Before(pub) {
			t.Fatalf("entry %d updated before published", i)
		}
		if i > 0 && pub.After(prev) {
			t.Fatalf("entry %d newer than the one before", i)
		}
		prev = pub
	}
	return f
}

func between(s, a, b string) string {
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	i := strings.LastIndex(s[:j], a)
	if i < 0 {
		return ""
	}
	return s[i+len(a) : j]
}

// publicAdvisory publishes (as certnet) an advisory of the national
// coordinator to the target under the target's label (CLEAR for a
// visitor's case).
func (c *wmCase) publicAdvisory(t *testing.T) intel.Advisory {
	t.Helper()
	tlp := c.t.org.TLP
	if c.anon {
		tlp = policy.TLPClear
	}
	sys := c.m.e.Sys
	v, err := c.m.e.App.Intel.CreateAdvisory(c.m.ctx, sys, intel.AdvisoryInput{OwnerOrgID: wmAdvIssuer(c),
		Title: fmt.Sprintf("Cảnh báo công khai %d", c.n), Summary: "Tóm tắt", Actions: "Vá", TLP: tlp,
		DeadlineAt: c.m.e.Clock.Now().Add(72 * time.Hour), Targeting: intel.Targeting{Orgs: []int64{c.t.org.ID}}})
	if err != nil {
		t.Fatalf("matrix public advisory: %v", err)
	}
	if v, err = c.m.e.App.Intel.Publish(c.m.ctx, sys, v.ID); err != nil {
		t.Fatalf("matrix public publish: %v", err)
	}
	return v
}

// wmPublic: public whatever the actor, for an advisory under CLEAR only.
func wmPublic(c *wmCase) error {
	if c.anon || c.t.org.TLP == policy.TLPClear {
		return nil
	}
	return errs.NotFound("matrix: not public")
}

var wmPublicAdvisoryRoutes = map[string]wmRoute{
	"GET /public/advisories": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.publicAdvisory(t)
			return wmReq{method: http.MethodGet, path: "/public/advisories"}
		},
		shows: wmPublic,
		seen:  contains(func(c *wmCase) string { return fmt.Sprintf(">Cảnh báo công khai %d</a>", c.n) }),
		anon:  wmAnon{status: http.StatusOK},
	},
	"GET /public/advisories/feed.atom": {
		req: func(t *testing.T, c *wmCase) wmReq {
			c.publicAdvisory(t)
			return wmReq{method: http.MethodGet, path: "/public/advisories/feed.atom"}
		},
		ctype: "application/atom+xml",
		shows: wmPublic,
		seen:  contains(func(c *wmCase) string { return fmt.Sprintf("<title>Cảnh báo công khai %d</title>", c.n) }),
		anon:  wmAnon{status: http.StatusOK},
	},
	"GET /public/advisories/{id}": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: fmt.Sprintf("/public/advisories/%d", c.publicAdvisory(t).ID)}
		},
		decide: wmPublic,
		anon:   wmAnon{status: http.StatusOK},
	},
}
