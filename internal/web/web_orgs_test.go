package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"certnet/internal/apptest"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// orgBrowser is a browser without JavaScript for the organisation pages: a
// cookie jar, forms posted with the CSRF token of the last page read,
// redirects not followed.
type orgBrowser struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
	// chunked sends uploads without a length, as a stream.
	chunked bool
}

type orgPage struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

var (
	orgCSRFRe    = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	orgMissKeyRe = regexp.MustCompile(`\[(orgs|whois|import|org|auth|field|error)\.[a-z0-9_.]+\]`)
)

func newOrgBrowser(t *testing.T, e *apptest.Env) *orgBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &orgBrowser{t: t, base: e.URL, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *orgBrowser) do(req *http.Request) orgPage {
	b.t.Helper()
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := orgPage{Status: res.StatusCode, Body: string(body), Location: res.Header.Get("Location"), Header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if m := orgCSRFRe.FindStringSubmatch(p.Body); m != nil {
			b.csrf = m[1]
		}
		if m := orgMissKeyRe.FindString(p.Body); m != "" {
			b.t.Errorf("%s %s: untranslated key %s", req.Method, req.URL.Path, m)
		}
		if strings.Contains(p.Body, "ZgotmplZ") {
			b.t.Errorf("%s %s: a value the template refused (ZgotmplZ)", req.Method, req.URL.Path)
		}
	}
	return p
}

func (b *orgBrowser) get(path string) orgPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form with the CSRF token of the last page read, unless the
// form carries its own (or an explicitly empty one, to test the refusal).
func (b *orgBrowser) post(path string, form url.Values) orgPage {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["_csrf"]; !set {
		form.Set("_csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// upload posts a multipart form with one file.
func (b *orgBrowser) upload(path string, fields url.Values, name string, data []byte) orgPage {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if fields.Get("_csrf") == "" {
		fields.Set("_csrf", b.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		b.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	var body io.Reader = &buf
	if b.chunked {
		body = io.MultiReader(&buf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// login signs in through the real form.
func (b *orgBrowser) login(username string) {
	b.t.Helper()
	if p := b.get("/login"); p.Status != http.StatusOK {
		b.t.Fatalf("GET /login: %d", p.Status)
	}
	p := b.post("/login", url.Values{"username": {username}, "password": {apptest.Password}, "next": {"/"}})
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		b.t.Fatalf("login %s: %d to %q\n%s", username, p.Status, p.Location, p.Body)
	}
	b.get("/orgs") // a page with the session's CSRF token
}

// orgNet is a small network: the national coordinator with an
// administrator, two provincial units and an ISP.
type orgNet struct {
	e                   *apptest.Env
	nat, hanoi, danang  org.Org
	isp                 org.Org
	adminName, viewerHN string
	hanoiAdmin          string
}

func newOrgNet(t *testing.T) *orgNet {
	t.Helper()
	e := apptest.StartSQLite(t)
	n := &orgNet{e: e}
	n.nat = e.Org("VNCERT", "Trung tâm Điều phối quốc gia", 0, org.RoleNationalCoordinator)
	n.hanoi = e.Org("HNI-UCSC", "Sở Khoa học và Công nghệ Hà Nội", n.nat.ID, org.RoleProvincialResponseUnit)
	n.danang = e.Org("DNG-UCSC", "Sở Khoa học và Công nghệ Đà Nẵng", n.nat.ID, org.RoleProvincialResponseUnit)
	n.isp = e.Org("ISP-SAOMAI", "Công ty Viễn thông Sao Mai", n.nat.ID, org.RoleISP)
	e.User(n.nat.ID, "quantri", policy.RoleAdmin)
	e.User(n.hanoi.ID, "xem.hanoi", policy.RoleViewer)
	e.User(n.hanoi.ID, "quantri.hanoi", policy.RoleAdmin)
	n.adminName, n.viewerHN, n.hanoiAdmin = "quantri", "xem.hanoi", "quantri.hanoi"
	return n
}

func (n *orgNet) count(t *testing.T) int {
	t.Helper()
	_, total, err := n.e.App.Orgs.List(context.Background(), n.e.Sys, org.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func orgWant(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: %q not found", what, w)
		}
	}
}

func orgWantNot(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s: %q should not be there", what, w)
		}
	}
}

func TestOrgDirectory(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)

	cases := []struct {
		name, query string
		want, not   []string
	}{
		{"search without diacritics", "q=ha+noi", []string{"HNI-UCSC", "Sở Khoa học và Công nghệ Hà Nội", "1–1 / 1"},
			[]string{"DNG-UCSC", "ISP-SAOMAI"}},
		{"search with diacritics", "q=%C4%90%C3%A0+N%E1%BA%B5ng", []string{"DNG-UCSC"}, []string{"HNI-UCSC"}},
		{"role filter", "role=isp", []string{"ISP-SAOMAI"}, []string{"HNI-UCSC", "DNG-UCSC"}},
		{"role and search", "role=provincial_response_unit&q=khoa+hoc", []string{"HNI-UCSC", "DNG-UCSC", "1–2 / 2"},
			[]string{"ISP-SAOMAI"}},
		{"sort by code", "sort=code", []string{"DNG-UCSC", "ISP-SAOMAI", "VNCERT"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.get("/orgs?" + c.query)
			if p.Status != http.StatusOK {
				t.Fatalf("status %d", p.Status)
			}
			orgWant(t, c.query, p.Body, c.want...)
			orgWantNot(t, c.query, p.Body, c.not...)
			orgWant(t, c.query, p.Body, `class="tlp tlp-green"`)
			// The export links carry the same filter.
			for _, ext := range []string{"csv", "xlsx"} {
				m := regexp.MustCompile(`href="(/orgs\.` + ext + `[^"]*)"`).FindStringSubmatch(p.Body)
				if m == nil {
					t.Fatalf("no %s export link", ext)
				}
				u, err := url.Parse(html.UnescapeString(m[1]))
				want, _ := url.ParseQuery(c.query)
				if err != nil || u.Query().Encode() != want.Encode() {
					t.Errorf("%s export link %s, want the filter %s", ext, m[1], c.query)
				}
			}
		})
	}

	t.Run("sort order", func(t *testing.T) {
		p := b.get("/orgs?sort=code")
		if i, j := strings.Index(p.Body, "DNG-UCSC"), strings.Index(p.Body, "VNCERT"); i < 0 || j < i {
			t.Errorf("DNG-UCSC should come before VNCERT when sorted by code")
		}
	})
	t.Run("filters keep their values", func(t *testing.T) {
		p := b.get("/orgs?q=ha+noi&role=isp")
		orgWant(t, "filters", p.Body, `value="ha noi"`, `<option value="isp" selected>`)
	})
	t.Run("unknown role", func(t *testing.T) {
		p := b.get("/orgs?role=bogus")
		if p.Status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", p.Status)
		}
		orgWant(t, "bad filter", p.Body, i18n.T(i18n.VI, "error.invalid"))
	})
	t.Run("paging", func(t *testing.T) {
		for i := 0; i < 52; i++ {
			n.e.Org("XA-"+strconv.Itoa(100+i), "Xã thử nghiệm "+strconv.Itoa(i), n.hanoi.ID, org.RoleSystemOwner)
		}
		p := b.get("/orgs?q=xa+thu&sort=code")
		orgWant(t, "page 1", p.Body, "1–50 / 52", `href="/orgs?page=2&amp;q=xa&#43;thu&amp;sort=code"`)
		p = b.get("/orgs?q=xa+thu&sort=code&page=2")
		orgWant(t, "page 2", p.Body, "51–52 / 52", "XA-151", `rel="prev"`)
		orgWantNot(t, "page 2", p.Body, "XA-100", `rel="next"`)
	})
	t.Run("new organisation button", func(t *testing.T) {
		orgWant(t, "admin", b.get("/orgs").Body, `href="/orgs/new"`, `href="/orgs/import"`)
		v := newOrgBrowser(t, n.e)
		v.login(n.viewerHN)
		orgWantNot(t, "viewer", v.get("/orgs").Body, `href="/orgs/new"`, `href="/orgs/import"`)
	})
}

func TestOrgExport(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)

	p := b.get("/orgs.csv?q=ha+noi")
	if p.Status != http.StatusOK {
		t.Fatalf("csv: status %d", p.Status)
	}
	if !strings.HasPrefix(p.Body, "\xef\xbb\xbf") {
		t.Errorf("csv: no UTF-8 byte order mark")
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("csv: content type %q", ct)
	}
	if cd := p.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, ".csv") {
		t.Errorf("csv: content disposition %q", cd)
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(p.Body, "\xef\xbb\xbf")), "\r\n")
	if len(lines) != 2 {
		t.Fatalf("csv: %d lines, want header and one row:\n%s", len(lines), p.Body)
	}
	orgWant(t, "csv header", lines[0], "TLP", "Mã", "Tên đơn vị")
	orgWant(t, "csv row", lines[1], "TLP:GREEN", "HNI-UCSC", "Sở Khoa học và Công nghệ Hà Nội",
		"Đơn vị chuyên trách ứng cứu sự cố của tỉnh, thành phố", "Trung tâm Điều phối quốc gia")

	p = b.get("/orgs.xlsx?role=provincial_response_unit")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Body, "PK") {
		t.Fatalf("xlsx: status %d, not a zip", p.Status)
	}
	f, err := excelize.OpenReader(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("xlsx: %d rows, want header and two", len(rows))
	}
	all := ""
	for _, r := range rows {
		all += strings.Join(r, "|") + "\n"
	}
	orgWant(t, "xlsx", all, "HNI-UCSC", "DNG-UCSC", "TLP:GREEN", "Sở Khoa học và Công nghệ Đà Nẵng")
	orgWantNot(t, "xlsx", all, "ISP-SAOMAI")
}

func TestOrgCreateAndEdit(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)

	p := b.get("/orgs/new")
	if p.Status != http.StatusOK {
		t.Fatalf("new form: %d", p.Status)
	}
	orgWant(t, "new form", p.Body, `name="roles"`, `name="sector"`, `name="province_code"`, `name="cluster_id"`,
		`name="parent_id"`, `id="profile"`, `name="staff.incident_response"`, `name="systems.5"`, `name="cert_name"`)

	before := n.count(t)
	form := url.Values{"code": {"hni-ucsc"}, "name": {"Đơn vị trùng mã"}, "roles": {"isp"}, "tlp": {"GREEN"},
		"parent_id": {orgID(n.nat.ID)}, "active": {"1"}}
	p = b.post("/orgs", form)
	if p.Status != http.StatusConflict {
		t.Fatalf("duplicate code: status %d, want 409\n%s", p.Status, p.Body)
	}
	orgWant(t, "duplicate code", p.Body, html.EscapeString(i18n.T(i18n.VI, "org.err.code_taken", "HNI-UCSC")),
		`id="f-code" name="code" type="text" value="hni-ucsc" autocomplete="off" required aria-invalid="true"`,
		`value="Đơn vị trùng mã"`, `<input type="checkbox" name="roles" value="isp" checked>`)
	if after := n.count(t); after != before {
		t.Errorf("a refused creation changed the registry: %d → %d organisations", before, after)
	}

	// A count that is not a number is refused next to its field, as typed.
	form = url.Values{"code": {"hue-ucsc"}, "name": {"Sở Khoa học và Công nghệ Huế"}, "roles": {"provincial_response_unit"},
		"tlp": {"GREEN"}, "parent_id": {orgID(n.nat.ID)}, "active": {"1"}, "staff.forensics": {"ba"}}
	p = b.post("/orgs", form)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad number: status %d", p.Status)
	}
	orgWant(t, "bad number", p.Body, `value="ba"`, html.EscapeString(i18n.T(i18n.VI, "orgs.err.whole_number")))

	form.Set("staff.forensics", "3")
	form.Set("profile.security_lead.name", "Nguyễn Văn An")
	form["cert_name"] = []string{"CISSP", ""}
	form["cert_count"] = []string{"2", ""}
	form.Set("systems.3", "4")
	form.Set("profile_year", strconv.Itoa(n.e.Clock.Now().Year()))
	p = b.post("/orgs", form)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/orgs/") {
		t.Fatalf("create: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	o, err := n.e.App.Orgs.GetByCode(context.Background(), n.e.Sys, "HUE-UCSC")
	if err != nil {
		t.Fatal(err)
	}
	if o.Profile.SecurityLead.Name != "Nguyễn Văn An" || o.Profile.SystemsByLevel[2] != 4 ||
		len(o.Profile.Certificates) != 1 || len(o.Profile.Staff) != 1 || o.Profile.Staff[0].Count != 3 {
		t.Errorf("profile not saved as typed: %+v", o.Profile)
	}
	page := b.get(p.Location)
	orgWant(t, "org page", page.Body, "Sở Khoa học và Công nghệ Huế", "flash", "CISSP", `class="tlp tlp-green"`,
		"Trung tâm Điều phối quốc gia")

	// The edit form shows what is stored and saves a change.
	id := orgID(o.ID)
	p = b.get("/orgs/" + id + "/edit")
	orgWant(t, "edit form", p.Body, `value="HUE-UCSC"`, `value="Nguyễn Văn An"`, `value="CISSP"`,
		`<input type="checkbox" name="roles" value="provincial_response_unit" checked>`)
	form.Set("name", "Sở Khoa học và Công nghệ thành phố Huế")
	p = b.post("/orgs/"+id, form)
	if p.Status != http.StatusSeeOther || p.Location != "/orgs/"+id {
		t.Fatalf("update: %d to %q", p.Status, p.Location)
	}
	if o, _ = n.e.App.Orgs.Get(context.Background(), n.e.Sys, o.ID); o.Name != "Sở Khoa học và Công nghệ thành phố Huế" {
		t.Errorf("name not changed: %q", o.Name)
	}
}

func TestOrgPermissions(t *testing.T) {
	n := newOrgNet(t)
	v := newOrgBrowser(t, n.e)
	v.login(n.viewerHN)
	id := orgID(n.hanoi.ID)

	p := v.get("/orgs/" + id)
	if p.Status != http.StatusOK {
		t.Fatalf("viewer reads own org: %d", p.Status)
	}
	orgWantNot(t, "viewer's org page", p.Body, `href="/orgs/`+id+`/edit"`, `action="/orgs/`+id+`/contacts"`,
		`action="/orgs/`+id+`/ranges"`, `/delete"`)
	orgWant(t, "viewer's org page", p.Body, `class="tlp tlp-green"`, `id="contacts"`, `id="ranges"`)

	if p := v.get("/orgs/" + id + "/edit"); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("viewer GET edit: %d", p.Status)
	}
	form := url.Values{"code": {"HNI-UCSC"}, "name": {"Đổi tên trái phép"}, "roles": {"provincial_response_unit"},
		"tlp": {"GREEN"}, "parent_id": {orgID(n.nat.ID)}, "active": {"1"}}
	if p := v.post("/orgs/"+id, form); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("viewer POST edit: %d", p.Status)
	}
	if p := v.post("/orgs/"+id+"/ranges", url.Values{"value": {"198.51.100.0/24"}}); p.Status != http.StatusForbidden &&
		p.Status != http.StatusNotFound {
		t.Errorf("viewer adds a range: %d", p.Status)
	}
	if p := v.get("/orgs/import"); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("viewer opens the import: %d", p.Status)
	}
	if o, _ := n.e.App.Orgs.Get(context.Background(), n.e.Sys, n.hanoi.ID); o.Name != n.hanoi.Name {
		t.Errorf("a viewer renamed the organisation to %q", o.Name)
	}

	// Without the CSRF token, even an administrator is refused.
	a := newOrgBrowser(t, n.e)
	a.login(n.adminName)
	if p := a.post("/orgs/"+id, url.Values{"_csrf": {""}, "code": {"HNI-UCSC"}, "name": {"X"}}); p.Status != http.StatusForbidden {
		t.Errorf("POST without _csrf: %d, want 403", p.Status)
	}
	if p := a.post("/orgs/"+id+"/contacts", url.Values{"_csrf": {"forged"}, "kind": {"primary"}, "name": {"X"},
		"phone": {"0912345678"}}); p.Status != http.StatusForbidden {
		t.Errorf("POST with a forged _csrf: %d, want 403", p.Status)
	}
	if o, _ := n.e.App.Orgs.Get(context.Background(), n.e.Sys, n.hanoi.ID); o.Name != n.hanoi.Name {
		t.Errorf("a POST without CSRF token renamed the organisation to %q", o.Name)
	}

	// The organisation's users are listed for its administrators, not for
	// its viewers.
	orgWant(t, "admin sees users", a.get("/orgs/"+id).Body, `id="users"`, "xem.hanoi")
	orgWantNot(t, "viewer sees no users", v.get("/orgs/"+id).Body, `id="users"`)
}

func TestOrgConstituency(t *testing.T) {
	n := newOrgNet(t)
	ctx := context.Background()
	if _, err := n.e.App.Orgs.AddRange(ctx, n.e.Sys, n.isp.ID, "203.0.113.0/24", "khách hàng"); err != nil {
		t.Fatal(err)
	}
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)
	id := orgID(n.hanoi.ID)
	b.get("/orgs/" + id)

	cases := []struct {
		name, value string
		status      int
		want        []string
	}{
		{"overlap names the other organisation", "203.0.113.128/25", http.StatusConflict,
			[]string{html.EscapeString(i18n.T(i18n.VI, "org.err.range_overlaps_other", "203.0.113.128/25", "203.0.113.0/24",
				n.isp.Name))}},
		{"malformed CIDR", "203.0.113.0/33", http.StatusBadRequest,
			[]string{html.EscapeString(i18n.T(i18n.VI, "org.err.cidr_format"))}},
		{"empty value", "", http.StatusBadRequest, []string{html.EscapeString(i18n.T(i18n.VI, "field.required"))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.post("/orgs/"+id+"/ranges", url.Values{"value": {c.value}, "note": {"ghi chú"}})
			if p.Status != c.status {
				t.Fatalf("status %d, want %d", p.Status, c.status)
			}
			orgWant(t, c.name, p.Body, c.want...)
			orgWant(t, c.name, p.Body, `id="r-value" name="value" type="text" value="`+c.value+`"`, `aria-invalid="true"`,
				`value="ghi chú"`)
		})
	}
	rs, _ := n.e.App.Orgs.Ranges(ctx, n.e.Sys, n.hanoi.ID)
	if len(rs) != 0 {
		t.Errorf("refused ranges were stored: %v", rs)
	}

	// One field takes a range, an address, an AS number or a domain.
	for _, v := range []string{"198.51.100.0/24", "192.0.2.7", "AS64501", "hanoi.gov.vn.example"} {
		p := b.post("/orgs/"+id+"/ranges", url.Values{"value": {v}})
		if p.Status != http.StatusSeeOther || p.Location != "/orgs/"+id+"#ranges" {
			t.Fatalf("add %s: %d to %q\n%s", v, p.Status, p.Location, p.Body)
		}
	}
	p := b.get("/orgs/" + id)
	orgWant(t, "constituency", p.Body, "198.51.100.0/24", "192.0.2.7/32", "AS64501", "hanoi.gov.vn.example")
	del := regexp.MustCompile(`action="(/orgs/` + id + `/asns/\d+/delete)"`).FindStringSubmatch(p.Body)
	if del == nil {
		t.Fatal("no delete form for the AS number")
	}
	if p := b.post(del[1], nil); p.Status != http.StatusSeeOther {
		t.Fatalf("delete asn: %d", p.Status)
	}
	if asns, _ := n.e.App.Orgs.ASNs(ctx, n.e.Sys, n.hanoi.ID); len(asns) != 0 {
		t.Errorf("AS number not deleted: %v", asns)
	}
	if p := b.get("/orgs/" + id + "/ranges"); p.Status != http.StatusSeeOther || p.Location != "/orgs/"+id+"#ranges" {
		t.Errorf("GET ranges: %d to %q", p.Status, p.Location)
	}
}

func TestOrgContacts(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.hanoiAdmin)
	id := orgID(n.hanoi.ID)
	b.get("/orgs/" + id)

	// Unreachable contact: the message is next to the field, what was
	// typed stays.
	p := b.post("/orgs/"+id+"/contacts", url.Values{"kind": {"primary"}, "name": {"Ngô Anh Dũng"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("unreachable contact: %d", p.Status)
	}
	orgWant(t, "unreachable contact", p.Body, html.EscapeString(i18n.T(i18n.VI, "org.err.contact_unreachable")),
		`value="Ngô Anh Dũng"`, `<details class="add" open>`)

	p = b.post("/orgs/"+id+"/contacts", url.Values{"kind": {"primary"}, "name": {"Ngô Anh Dũng"},
		"phone_247": {"0936 927 691"}, "email": {"dungna@hanoi.example"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("add contact: %d\n%s", p.Status, p.Body)
	}
	p = b.get("/orgs/" + id)
	orgWant(t, "contacts", p.Body, "Ngô Anh Dũng", `href="tel:0936%20927%20691"`, "0936 927 691",
		i18n.T(i18n.VI, "orgs.contacts_changed"))
	m := regexp.MustCompile(`action="/orgs/` + id + `/contacts/(\d+)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no edit form for the contact")
	}
	cid := m[1]
	p = b.post("/orgs/"+id+"/contacts/"+cid, url.Values{"kind": {"primary"}, "name": {"Ngô Anh Dũng"},
		"phone_247": {"0977 717 818"}, "email": {"dungna@hanoi.example"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("edit contact: %d", p.Status)
	}
	p = b.get("/orgs/" + id + "/contacts/history")
	if p.Status != http.StatusOK {
		t.Fatalf("history: %d", p.Status)
	}
	orgWant(t, "history", p.Body, "<del>0936 927 691</del>", "<ins>0977 717 818</ins>",
		i18n.T(i18n.VI, "orgs.change.update"), i18n.T(i18n.VI, "orgs.change.create"), "quantri.hanoi")
	if p := b.post("/orgs/"+id+"/contacts/"+cid+"/delete", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("delete contact: %d", p.Status)
	}
	if cs, _ := n.e.App.Orgs.Contacts(context.Background(), n.e.Sys, n.hanoi.ID); len(cs) != 0 {
		t.Errorf("contact not deleted: %v", cs)
	}
}

func TestWhoisPage(t *testing.T) {
	n := newOrgNet(t)
	ctx := context.Background()
	sao := n.e.Org("ISP-SAOMAI-HN", "Chi nhánh Sao Mai Hà Nội", n.isp.ID, org.RoleISP)
	if _, err := n.e.App.Orgs.AddRange(ctx, n.e.Sys, sao.ID, "203.0.113.0/24", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.e.App.Orgs.SaveContact(ctx, n.e.Sys, sao.ID, org.ContactInput{Kind: org.ContactPrimary,
		Name: "Trần Thị Trực", Phone247: "0912 000 247"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.e.App.Orgs.SaveContact(ctx, n.e.Sys, sao.ID, org.ContactInput{Kind: org.ContactBackup,
		Name: "Lê Văn Dự", Phone: "024 3999 0000"}); err != nil {
		t.Fatal(err)
	}
	b := newOrgBrowser(t, n.e)
	b.login(n.viewerHN)

	p := b.get("/whois")
	orgWant(t, "empty whois", p.Body, `<label for="q">`, `name="q"`)
	p = b.get("/whois?q=203.0.113.77")
	if p.Status != http.StatusOK {
		t.Fatalf("whois: %d", p.Status)
	}
	orgWant(t, "whois answer", p.Body, "203.0.113.0/24", `href="/orgs/`+orgID(sao.ID)+`"`, "Chi nhánh Sao Mai Hà Nội",
		"Công ty Viễn thông Sao Mai", "Trung tâm Điều phối quốc gia", "Trần Thị Trực", "0912 000 247", "Lê Văn Dự",
		i18n.T(i18n.VI, "org.contact_kind.primary"), i18n.T(i18n.VI, "org.contact_kind.backup"), `class="tlp tlp-green"`)
	chain := p.Body[strings.Index(p.Body, i18n.T(i18n.VI, "whois.chain")):]
	if i, j := strings.Index(chain, "Trung tâm Điều phối quốc gia"), strings.Index(chain, "Công ty Viễn thông Sao Mai"); i < 0 || j < i {
		t.Errorf("the chain should run from the root down")
	}

	p = b.get("/whois?q=not+an+address!")
	if p.Status != http.StatusBadRequest {
		t.Errorf("bad query: %d", p.Status)
	}
	orgWant(t, "bad query", p.Body, html.EscapeString(i18n.T(i18n.VI, "org.whois.bad_query")), `aria-invalid="true"`,
		`value="not an address!"`)
	p = b.get("/whois?q=8.8.8.8")
	orgWant(t, "nobody owns it", p.Body, html.EscapeString(i18n.T(i18n.VI, "org.whois.not_found", "8.8.8.8")))
}

func TestOrgImport(t *testing.T) {
	n := newOrgNet(t)
	b := newOrgBrowser(t, n.e)
	b.login(n.adminName)
	p := b.get("/orgs/import")
	if p.Status != http.StatusOK {
		t.Fatalf("import form: %d", p.Status)
	}
	orgWant(t, "import form", p.Body, `enctype="multipart/form-data"`, "<code>parent_code</code>", "<code>phone_247</code>",
		`name="skip_bad"`, `name="dry_run"`)

	before := n.count(t)
	csv := "code,name,roles,parent_code\nQNI-UCSC,Sở Khoa học và Công nghệ Quảng Ninh,provincial_response_unit,VNCERT\n" +
		"QNG-UCSC,Sở Khoa học và Công nghệ Quảng Ngãi,khong_co_vai_tro,VNCERT\n"
	p = b.upload("/orgs/import", url.Values{"kind": {"orgs"}}, "thanh-vien.csv", []byte(csv))
	if p.Status != http.StatusOK {
		t.Fatalf("import: %d\n%s", p.Status, p.Body)
	}
	orgWant(t, "import report", p.Body, `<td class="num">3</td>`, "<code>roles</code>",
		html.EscapeString(i18n.T(i18n.VI, "org.err.role_unknown", "khong_co_vai_tro")),
		html.EscapeString(i18n.T(i18n.VI, "import.sum.none", "1", "2")))
	if after := n.count(t); after != before {
		t.Errorf("an import with a bad row changed the registry: %d → %d", before, after)
	}

	// Skipping bad rows imports the good one.
	b.get("/orgs/import")
	p = b.upload("/orgs/import", url.Values{"kind": {"orgs"}, "skip_bad": {"1"}}, "thanh-vien.csv", []byte(csv))
	orgWant(t, "partial import", p.Body, html.EscapeString(i18n.T(i18n.VI, "import.sum.partial", "1", "1")))
	if after := n.count(t); after != before+1 {
		t.Errorf("skip bad rows: %d → %d organisations", before, after)
	}

	// A file without a required column is refused next to the file field.
	b.get("/orgs/import")
	p = b.upload("/orgs/import", url.Values{"kind": {"ranges"}}, "pham-vi.csv", []byte("org_code\nVNCERT\n"))
	if p.Status != http.StatusBadRequest {
		t.Errorf("missing column: %d", p.Status)
	}
	orgWant(t, "missing column", p.Body, html.EscapeString(i18n.T(i18n.VI, "org.import.missing_column", "value")),
		`id="file"`, `aria-invalid="true"`)

	// A visitor who is not signed in is sent to the login page, the upload
	// unread.
	anon := newOrgBrowser(t, n.e)
	if p := anon.upload("/orgs/import", url.Values{"kind": {"orgs"}}, "thanh-vien.csv", []byte(csv)); p.Status != http.StatusSeeOther ||
		!strings.HasPrefix(p.Location, "/login") {
		t.Errorf("anonymous upload: %d to %q", p.Status, p.Location)
	}

	// Larger than the upload limit: refused before anything is parsed.
	b.get("/orgs/import")
	big := bytes.Repeat([]byte("a,b\n"), 6<<20)
	for _, chunked := range []bool{false, true} {
		b.chunked = chunked
		p = b.upload("/orgs/import", url.Values{"kind": {"orgs"}}, "big.csv", big)
		if p.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("too large (chunked %v): %d, want 413", chunked, p.Status)
		}
		orgWant(t, "too large", p.Body, html.EscapeString(i18n.T(i18n.VI, "error.too_large")))
	}
}

// TestOrgCatalogue checks that every message key the organisation pages use
// exists in Vietnamese and in English.
func TestOrgCatalogue(t *testing.T) {
	keyRe := regexp.MustCompile(`"((?:orgs|whois|import)\.[a-z0-9_.]*[a-z0-9_])"`)
	files, _ := filepath.Glob("orgs*.go")
	more, _ := filepath.Glob("templates/org*.html")
	files = append(append(files, more...), "whois.go", "import.go", "templates/whois.html", "templates/import.html")
	keys := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".html") {
				keys[m[1]] = true
			}
		}
	}
	// Keys made from a prefix and a value.
	for _, r := range org.Roles {
		keys["orgs.role_short."+string(r)] = true
	}
	for _, s := range []string{"name", "code", "province", "updated"} {
		keys["orgs.sort."+s] = true
	}
	for _, c := range []string{"create", "update", "delete"} {
		keys["orgs.change."+c] = true
	}
	for _, c := range []string{"tlp", "code", "name", "name_en", "short_name", "roles", "parent", "province", "region",
		"cluster", "sector", "address", "intake_email", "intake_phone", "website", "active", "contacts_updated", "updated"} {
		keys["orgs.col."+c] = true
	}
	for _, k := range []string{org.ImportOrgs, org.ImportContacts, org.ImportRanges} {
		keys["import.kind."+k] = true
		for _, c := range org.ImportColumns(k) {
			keys["import.col."+k+"."+c] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("only %d keys found: is the test reading the right files?", len(keys))
	}
	for k := range keys {
		for _, l := range i18n.Langs {
			if !i18n.Has(l, k) {
				t.Errorf("%s: key %q missing", l, k)
			}
		}
	}
}

func orgID(n int64) string { return strconv.FormatInt(n, 10) }
