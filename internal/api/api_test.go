package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// world is a small network for the scenarios:
//
//	VNCERT (national coordinator)
//	├── HN-SO (Hà Nội provincial response unit)
//	│   ├── HN-BV (a member: hospital)
//	│   └── HN-ISP (an ISP)
//	│       └── HN-KH (a customer of the ISP)
//	└── DN-SO (Đà Nẵng provincial response unit, the sibling)
type world struct {
	e                                 *apptest.Env
	nc, hn, member, isp, customer, dn org.Org

	ncAdmin, hnAdmin, hnViewer, memberUser, dnAdmin auth.User

	ncAdminTok, hnAdminTok, hnViewerTok, hnReadOnlyTok, memberTok, dnAdminTok string
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	e := apptest.Start(t, db)
	w := &world{e: e}
	w.nc = e.Org("VNCERT", "Trung tâm Ứng cứu khẩn cấp không gian mạng Việt Nam", 0, org.RoleNationalCoordinator)
	w.hn = e.Org("HN-SO", "Sở Thông tin và Truyền thông Hà Nội", w.nc.ID, org.RoleProvincialResponseUnit)
	w.member = e.Org("HN-BV", "Bệnh viện Bạch Mai", w.hn.ID, org.RoleSystemOwner)
	w.isp = e.Org("HN-ISP", "Công ty Viễn thông Thủ đô", w.hn.ID, org.RoleISP)
	w.customer = e.Org("HN-KH", "Công ty Khách hàng Thủ đô", w.isp.ID, org.RoleSystemOwner)
	w.dn = e.Org("DN-SO", "Sở Thông tin và Truyền thông Đà Nẵng", w.nc.ID, org.RoleProvincialResponseUnit)

	w.ncAdmin = e.User(w.nc.ID, "nc.admin", policy.RoleAdmin)
	w.hnAdmin = e.User(w.hn.ID, "hn.admin", policy.RoleAdmin)
	w.hnViewer = e.User(w.hn.ID, "hn.viewer", policy.RoleViewer)
	w.memberUser = e.User(w.member.ID, "bv.reporter", policy.RoleReporter)
	w.dnAdmin = e.User(w.dn.ID, "dn.admin", policy.RoleAdmin)

	w.ncAdminTok = e.Token(w.ncAdmin)
	w.hnAdminTok = e.Token(w.hnAdmin)
	w.hnViewerTok = e.Token(w.hnViewer)
	w.hnReadOnlyTok = e.Token(w.hnAdmin, auth.ScopeRead)
	w.memberTok = e.Token(w.memberUser)
	w.dnAdminTok = e.Token(w.dnAdmin)
	return w
}

func (w *world) orgPath(o org.Org, rest string) string {
	return fmt.Sprintf("/api/v1/orgs/%d%s", o.ID, rest)
}

// TestAPI runs the scenarios on every engine.
func TestAPI(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		t.Run("auth", w.testAuth)
		t.Run("body", w.testBody)
		t.Run("orgs", w.testOrgs)
		t.Run("list", w.testList)
		t.Run("constituency", w.testConstituency)
		t.Run("whois", w.testWhois)
		t.Run("language", w.testLanguage)
		t.Run("users", w.testUsers)
		t.Run("tokens", w.testTokens)
		t.Run("meta", w.testMeta)
		t.Run("concurrent writes", w.testConcurrent)
		// Last: it moves the clock past every token's expiry.
		t.Run("expired token", w.testExpiredToken)
		auditClean(t, w.e)
	})
}

func (w *world) testAuth(t *testing.T) {
	e := w.e
	contacts := count(e, "contacts")
	unauth := func(t *testing.T, r reply) {
		t.Helper()
		if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") || !strings.Contains(h, `realm="certnet"`) {
			t.Errorf("WWW-Authenticate %q", h)
		}
	}
	runScenarios(t, e, []scenario{
		{name: "no token", method: "GET", path: "/api/v1/orgs", wantStatus: 401, wantCode: "unauthenticated",
			wantBody: []string{"Thiếu mã truy cập API"}, check: unauth},
		{name: "no token on a write changes nothing", method: "POST", path: w.orgPath(w.member, "/contacts"),
			body: `{"kind":"primary","name":"A","email":"a@bachmai.vn"}`, wantStatus: 401, wantCode: "unauthenticated",
			unchanged: contacts, check: unauth},
		{name: "garbage token", method: "GET", path: "/api/v1/orgs", token: "garbage", wantStatus: 401,
			wantCode: "unauthenticated", wantBody: []string{"không hợp lệ"}, check: func(t *testing.T, r reply) {
				unauth(t, r)
				if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate %q lacks error=invalid_token", h)
				}
			}},
		{name: "well-formed unknown token", method: "GET", path: "/api/v1/orgs",
			token: "cn_" + strings.Repeat("a", len(w.hnAdminTok)-3), wantStatus: 401, wantCode: "unauthenticated", check: unauth},
		{name: "other scheme", method: "GET", path: "/api/v1/orgs", header: map[string]string{"Authorization": "Token " + w.hnAdminTok},
			wantStatus: 401, wantCode: "unauthenticated", check: unauth},
		{name: "bearer scheme in lower case", method: "GET", path: "/api/v1/me",
			header: map[string]string{"Authorization": "bearer " + w.hnAdminTok}, wantStatus: 200, wantBody: []string{`"hn.admin"`}},
		{name: "HTTP Basic with the token as password", method: "GET", path: "/api/v1/me",
			header: map[string]string{"Authorization": basic("anything", w.hnAdminTok)}, wantStatus: 200, wantBody: []string{`"hn.admin"`}},
		{name: "me", method: "GET", path: "/api/v1/me", token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"username":"hn.viewer"`, `"roles":["viewer"]`}, notBody: []string{"password", "hash"}},
		{name: "read-only token reads", method: "GET", path: w.orgPath(w.member, "/contacts"), token: w.hnReadOnlyTok, wantStatus: 200},
		{name: "read-only token may not write", method: "POST", path: w.orgPath(w.member, "/contacts"), token: w.hnReadOnlyTok,
			body: `{"kind":"primary","name":"A","email":"a@bachmai.vn"}`, wantStatus: 403, wantCode: "forbidden", unchanged: contacts},
		{name: "read-only token may not mint a write token", method: "POST", path: fmt.Sprintf("/api/v1/users/%d/tokens", w.hnAdmin.ID),
			token: w.hnReadOnlyTok, body: `{"name":"escalate","scopes":["read","write"]}`, wantStatus: 403, unchanged: count(e, "api_tokens")},
		{name: "viewer may not write", method: "POST", path: w.orgPath(w.member, "/contacts"), token: w.hnViewerTok,
			body: `{"kind":"primary","name":"A","email":"a@bachmai.vn"}`, wantStatus: 403, wantCode: "forbidden", unchanged: contacts},
	})
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func (w *world) testBody(t *testing.T) {
	e := w.e
	path := w.orgPath(w.member, "/contacts")
	contacts := count(e, "contacts")
	big := `{"kind":"primary","name":"` + strings.Repeat("x", 10<<20) + `","email":"a@bachmai.vn"}`
	bad := func(name, body string, fields ...string) scenario {
		return scenario{name: name, method: "POST", path: path, token: w.hnAdminTok, body: body, wantStatus: 400,
			wantCode: "invalid", wantFields: fields, unchanged: contacts}
	}
	runScenarios(t, e, []scenario{
		bad("unknown field", `{"kind":"primary","name":"A","email":"a@bachmai.vn","colour":"red"}`, "colour"),
		bad("trailing object", `{"kind":"primary","name":"A","email":"a@bachmai.vn"}{"kind":"backup"}`, "body"),
		bad("trailing garbage", `{"kind":"primary","name":"A","email":"a@bachmai.vn"} x`, "body"),
		func() scenario {
			s := bad("wrong type", `{"kind":"primary","name":5,"email":"a@bachmai.vn"}`, "name")
			s.wantBody, s.notBody = []string{"cần string"}, []string{"api.", "contactBody"}
			return s
		}(),
		func() scenario {
			s := bad("array instead of object", `[{"kind":"primary"}]`, "body")
			s.notBody = []string{"api.", "contactBody"}
			return s
		}(),
		bad("string instead of object", `"primary"`, "body"),
		bad("malformed JSON", `{"kind":"primary",`, "body"),
		bad("syntax error", `{"kind" "primary"}`, "body"),
		bad("empty body", ``, "body"),
		bad("valid JSON, invalid contact", `{"kind":"nope","name":""}`, "kind", "name"),
		{name: "unknown field nested", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"X1","name":"X","parent_id":%d,"roles":["isp"],"profile":{"shoe_size":42}}`, w.hn.ID),
			wantStatus: 400, wantFields: []string{"shoe_size"}, unchanged: count(e, "organisations")},
		{name: "text/plain", method: "POST", path: path, token: w.hnAdminTok, body: `{"kind":"primary","name":"A","email":"a@bachmai.vn"}`,
			header: map[string]string{"Content-Type": "text/plain"}, wantStatus: 400, wantCode: "invalid", wantFields: []string{"body"},
			unchanged: contacts},
		{name: "look-alike media type", method: "POST", path: path, token: w.hnAdminTok, body: `{"kind":"primary","name":"A","email":"a@bachmai.vn"}`,
			header: map[string]string{"Content-Type": "application/jsonp"}, wantStatus: 400, wantFields: []string{"body"}, unchanged: contacts},
		{name: "10 MB body", method: "POST", path: path, token: w.hnAdminTok, body: big, wantStatus: 413, wantCode: "too_large",
			unchanged: contacts},
		{name: "10 MB body on an organisation", method: "PUT", path: w.orgPath(w.member, ""), token: w.hnAdminTok,
			body: `{"address":"` + strings.Repeat("x", 10<<20) + `"}`, wantStatus: 413, wantCode: "too_large",
			unchanged: func(t *testing.T) any { return getOrg(t, w, w.member).UpdatedAt }},
		{name: "charset parameter accepted", method: "POST", path: path, token: w.hnAdminTok,
			body:   `{"kind":"primary","name":"Nguyễn Văn A","email":"a@bachmai.vn"}`,
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, wantStatus: 201,
			wantBody: []string{`"name":"Nguyễn Văn A"`}},
	})
}

func getOrg(t *testing.T, w *world, o org.Org) org.Org {
	t.Helper()
	got, err := w.e.App.Orgs.Get(context.Background(), w.e.Sys, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (w *world) testOrgs(t *testing.T) {
	e := w.e
	orgs := count(e, "organisations")
	runScenarios(t, e, []scenario{
		{name: "create", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"HN-UBND","name":"Ủy ban nhân dân thành phố Hà Nội","parent_id":%d,"roles":["system_owner"]}`, w.hn.ID),
			wantStatus: 201, wantBody: []string{`"code":"HN-UBND"`, `"tlp":"GREEN"`, `"active":true`},
			check: func(t *testing.T, r reply) {
				var o org.Org
				r.into(t, &o)
				if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/orgs/%d", o.ID) {
					t.Errorf("Location %q for org %d", loc, o.ID)
				}
				if o.ParentID != w.hn.ID {
					t.Errorf("parent %d", o.ParentID)
				}
				// The audit entry carries the actor and the request id.
				var actor, rid string
				if err := e.DB.QueryRow(context.Background(), "SELECT actor, request_id FROM audit_log WHERE action = 'org.create' AND entity_id = ?",
					fmt.Sprint(o.ID)).Scan(&actor, &rid); err != nil {
					t.Fatal(err)
				}
				if actor != "hn.admin" || rid == "" || rid != r.Header.Get("X-Request-Id") {
					t.Errorf("audit entry by %q with request id %q; answer's X-Request-Id %q", actor, rid, r.Header.Get("X-Request-Id"))
				}
			}},
		{name: "duplicate member code", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"HN-BV","name":"Another","parent_id":%d,"roles":["system_owner"]}`, w.hn.ID),
			wantStatus: 409, wantCode: "conflict", wantFields: []string{"code"}, wantBody: []string{"HN-BV"}, unchanged: orgs},
		{name: "duplicate member code in other case", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"hn-bv","name":"Another","parent_id":%d,"roles":["system_owner"]}`, w.hn.ID),
			wantStatus: 409, wantFields: []string{"code"}, unchanged: orgs},
		{name: "invalid organisation", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"bad code!","name":"","parent_id":%d,"roles":[],"tlp":"RED"}`, w.hn.ID),
			wantStatus: 400, wantFields: []string{"code", "name", "roles", "tlp"}, unchanged: orgs},
		{name: "create outside scope", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"DN-X","name":"X","parent_id":%d,"roles":["system_owner"]}`, w.dn.ID),
			wantStatus: 403, unchanged: orgs},
		{name: "create a root only nationally", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body: `{"code":"ROOT2","name":"X","roles":["system_owner"]}`, wantStatus: 403, unchanged: orgs},
		{name: "grant a national role only nationally", method: "POST", path: "/api/v1/orgs", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"code":"HN-NC","name":"X","parent_id":%d,"roles":["national_coordinator"]}`, w.hn.ID),
			wantStatus: 403, wantFields: []string{"roles"}, unchanged: orgs},
		{name: "get", method: "GET", path: w.orgPath(w.member, ""), token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"code":"HN-BV"`, `"parent_name":"Sở Thông tin và Truyền thông Hà Nội"`}},
		{name: "get a GREEN org outside scope", method: "GET", path: w.orgPath(w.hn, ""), token: w.dnAdminTok, wantStatus: 200},
		{name: "get unknown", method: "GET", path: "/api/v1/orgs/999999", token: w.hnViewerTok, wantStatus: 404, wantCode: "not_found"},
		{name: "get non-numeric id", method: "GET", path: "/api/v1/orgs/abc", token: w.hnViewerTok, wantStatus: 404, wantCode: "not_found"},
		{name: "update keeps fields left out", method: "PUT", path: w.orgPath(w.member, ""), token: w.hnAdminTok,
			body: `{"address":"78 Giải Phóng, Đống Đa, Hà Nội"}`, wantStatus: 200,
			wantBody: []string{`"address":"78 Giải Phóng, Đống Đa, Hà Nội"`, `"code":"HN-BV"`, `"name":"Bệnh viện Bạch Mai"`, `"system_owner"`}},
		{name: "update by a viewer", method: "PUT", path: w.orgPath(w.member, ""), token: w.hnViewerTok,
			body: `{"address":"elsewhere"}`, wantStatus: 403,
			unchanged: func(t *testing.T) any { return getOrg(t, w, w.member).Address }},
		{name: "update outside scope", method: "PUT", path: w.orgPath(w.hn, ""), token: w.dnAdminTok,
			body: `{"address":"elsewhere"}`, wantStatus: 403,
			unchanged: func(t *testing.T) any { return getOrg(t, w, w.hn).Address }},
		{name: "update to a duplicate code", method: "PUT", path: w.orgPath(w.member, ""), token: w.hnAdminTok,
			body: `{"code":"HN-ISP"}`, wantStatus: 409, wantFields: []string{"code"},
			unchanged: func(t *testing.T) any { return getOrg(t, w, w.member).Code }},
		{name: "update into its own subtree", method: "PUT", path: w.orgPath(w.isp, ""), token: w.hnAdminTok,
			body: fmt.Sprintf(`{"parent_id":%d}`, w.customer.ID), wantStatus: 400, wantFields: []string{"parent_id"},
			unchanged: func(t *testing.T) any { return getOrg(t, w, w.isp).ParentID }},
		{name: "children", method: "GET", path: w.orgPath(w.hn, "/children"), token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"HN-BV"`, `"HN-ISP"`}, notBody: []string{`"HN-KH"`}},
		{name: "contacts: add", method: "POST", path: w.orgPath(w.member, "/contacts"), token: w.hnAdminTok,
			body: `{"kind":"backup","name":"Trần Thị B","email":"b@bachmai.vn","phone":"0243 869 3731"}`, wantStatus: 201,
			wantBody: []string{`"kind":"backup"`}},
		{name: "contacts: list", method: "GET", path: w.orgPath(w.member, "/contacts"), token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"b@bachmai.vn"`}},
		{name: "contacts: history", method: "GET", path: w.orgPath(w.member, "/contacts/history"), token: w.hnAdminTok, wantStatus: 200,
			wantBody: []string{`"b@bachmai.vn"`}},
		{name: "contacts: history is not for viewers", method: "GET", path: w.orgPath(w.member, "/contacts/history"), token: w.hnViewerTok,
			wantStatus: 403},
		{name: "contacts: change one of another org", method: "PUT", path: w.orgPath(w.isp, "/contacts/1"), token: w.hnAdminTok,
			body: `{"name":"X"}`, wantStatus: 404,
			unchanged: func(t *testing.T) any {
				return call(t, e, "GET", w.orgPath(w.member, "/contacts"), w.hnAdminTok, "", nil).Body
			}},
		{name: "contacts: delete unknown", method: "DELETE", path: w.orgPath(w.member, "/contacts/999999"), token: w.hnAdminTok,
			wantStatus: 404, unchanged: count(e, "contacts")},
	})

	// Change and delete a contact through the API.
	r := call(t, e, "POST", w.orgPath(w.member, "/contacts"), w.hnAdminTok,
		`{"kind":"intake","name":"Bàn tiếp nhận","email":"soc@bachmai.vn"}`, nil)
	if r.Status != 201 {
		t.Fatalf("add contact: %d %s", r.Status, r.Body)
	}
	var c org.Contact
	r.into(t, &c)
	runScenarios(t, e, []scenario{
		{name: "contacts: change keeps fields left out", method: "PUT", path: w.orgPath(w.member, fmt.Sprintf("/contacts/%d", c.ID)),
			token: w.hnAdminTok, body: `{"phone_247":"0912 345 678"}`, wantStatus: 200,
			wantBody: []string{`"soc@bachmai.vn"`, `"0912 345 678"`, `"Bàn tiếp nhận"`}},
		{name: "contacts: change by a viewer", method: "PUT", path: w.orgPath(w.member, fmt.Sprintf("/contacts/%d", c.ID)),
			token: w.hnViewerTok, body: `{"phone_247":"1"}`, wantStatus: 403,
			unchanged: func(t *testing.T) any {
				return call(t, e, "GET", w.orgPath(w.member, "/contacts"), w.hnAdminTok, "", nil).Body
			}},
		{name: "contacts: delete under the wrong org", method: "DELETE", path: w.orgPath(w.isp, fmt.Sprintf("/contacts/%d", c.ID)),
			token: w.hnAdminTok, wantStatus: 404, unchanged: count(e, "contacts")},
		{name: "contacts: delete", method: "DELETE", path: w.orgPath(w.member, fmt.Sprintf("/contacts/%d", c.ID)),
			token: w.hnAdminTok, wantStatus: 204, check: func(t *testing.T, r reply) {
				if len(r.Body) != 0 {
					t.Errorf("204 with a body: %s", r.Body)
				}
				if l := call(t, e, "GET", w.orgPath(w.member, "/contacts"), w.hnAdminTok, "", nil); strings.Contains(string(l.Body), "soc@bachmai.vn") {
					t.Errorf("deleted contact still listed")
				}
			}},
	})
}

// orgList is the list envelope of organisations.
type orgList struct {
	Items  []org.Org `json:"items"`
	Total  int       `json:"total"`
	Limit  int       `json:"limit"`
	Offset int       `json:"offset"`
}

func (w *world) testList(t *testing.T) {
	e := w.e
	ctx := context.Background()
	for i := 1; i <= 7; i++ {
		if _, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: fmt.Sprintf("PG-%d", i), Name: fmt.Sprintf("Trường Phân trang %d", i),
			ParentID: w.hn.ID, Roles: []org.Role{org.RoleSystemOwner}, Active: true, TLP: policy.TLPGreen}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(want func(t *testing.T, l orgList)) func(t *testing.T, r reply) {
		return func(t *testing.T, r reply) {
			var l orgList
			r.into(t, &l)
			want(t, l)
		}
	}
	codes := func(l orgList) []string {
		var out []string
		for _, o := range l.Items {
			out = append(out, o.Code)
		}
		return out
	}
	runScenarios(t, e, []scenario{
		{name: "all", method: "GET", path: "/api/v1/orgs", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if l.Total < 13 || len(l.Items) != l.Total || l.Limit != 50 || l.Offset != 0 {
					t.Errorf("total %d, items %d, limit %d, offset %d", l.Total, len(l.Items), l.Limit, l.Offset)
				}
			})},
		{name: "without diacritics", method: "GET", path: "/api/v1/orgs?q=ha+noi", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				// Sở … Hà Nội and Ủy ban nhân dân thành phố Hà Nội.
				if l.Total != 2 || strings.Join(codes(l), ",") != "HN-SO,HN-UBND" {
					t.Errorf("q=ha noi: %v (total %d)", codes(l), l.Total)
				}
			})},
		{name: "with diacritics and case", method: "GET", path: "/api/v1/orgs?q=B%E1%BA%A0CH+mai", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if l.Total != 1 || l.Items[0].Code != "HN-BV" {
					t.Errorf("q=BẠCH mai: %v", codes(l))
				}
			})},
		{name: "d with stroke", method: "GET", path: "/api/v1/orgs?q=da+nang", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if l.Total != 1 || l.Items[0].Code != "DN-SO" {
					t.Errorf("q=da nang: %v", codes(l))
				}
			})},
		{name: "LIKE wildcards are literal", method: "GET", path: "/api/v1/orgs?q=%25", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if l.Total != 0 {
					t.Errorf("q=%%: %v", codes(l))
				}
			})},
		{name: "page 1", method: "GET", path: "/api/v1/orgs?q=phan+trang&limit=3", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if l.Total != 7 || len(l.Items) != 3 || l.Limit != 3 || strings.Join(codes(l), ",") != "PG-1,PG-2,PG-3" {
					t.Errorf("page 1: %v total %d limit %d", codes(l), l.Total, l.Limit)
				}
			})},
		{name: "page 3", method: "GET", path: "/api/v1/orgs?q=phan+trang&limit=3&offset=6", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if l.Total != 7 || strings.Join(codes(l), ",") != "PG-7" || l.Offset != 6 {
					t.Errorf("page 3: %v total %d offset %d", codes(l), l.Total, l.Offset)
				}
			})},
		{name: "past the end", method: "GET", path: "/api/v1/orgs?q=phan+trang&limit=3&offset=30", token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"items":[]`, `"total":7`}},
		{name: "sort by code", method: "GET", path: "/api/v1/orgs?sort=code&limit=2", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if strings.Join(codes(l), ",") != "DN-SO,HN-BV" {
					t.Errorf("sort=code: %v", codes(l))
				}
			})},
		{name: "by parent", method: "GET", path: fmt.Sprintf("/api/v1/orgs?parent=%d", w.isp.ID), token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if strings.Join(codes(l), ",") != "HN-KH" {
					t.Errorf("parent=isp: %v", codes(l))
				}
			})},
		{name: "by role", method: "GET", path: "/api/v1/orgs?role=isp", token: w.hnViewerTok, wantStatus: 200,
			check: list(func(t *testing.T, l orgList) {
				if strings.Join(codes(l), ",") != "HN-ISP" {
					t.Errorf("role=isp: %v", codes(l))
				}
			})},
		{name: "limit=0", method: "GET", path: "/api/v1/orgs?limit=0", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"limit"}},
		{name: "limit=501", method: "GET", path: "/api/v1/orgs?limit=501", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"limit"}},
		{name: "limit=500", method: "GET", path: "/api/v1/orgs?limit=500", token: w.hnViewerTok, wantStatus: 200},
		{name: "limit not a number", method: "GET", path: "/api/v1/orgs?limit=ten", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"limit"}},
		{name: "offset=-1", method: "GET", path: "/api/v1/orgs?offset=-1", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"offset"}},
		{name: "unknown sort", method: "GET", path: "/api/v1/orgs?sort=nope", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"sort"}},
		{name: "unknown role", method: "GET", path: "/api/v1/orgs?role=nope", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"role"}},
		{name: "bad parent", method: "GET", path: "/api/v1/orgs?parent=x", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"parent"}},
		{name: "bad cluster", method: "GET", path: "/api/v1/orgs?cluster=x", token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"cluster"}},
		{name: "q too long", method: "GET", path: "/api/v1/orgs?q=" + strings.Repeat("a", 501), token: w.hnViewerTok, wantStatus: 400, wantFields: []string{"q"}},
	})
	t.Run("q of 200 Vietnamese characters", func(t *testing.T) {
		runScenarios(t, e, []scenario{{name: "accepted", method: "GET", path: "/api/v1/orgs?q=" + strings.Repeat("%E1%BB%87", 200),
			token: w.hnViewerTok, wantStatus: 200, wantBody: []string{`"total":0`}}})
	})
}

func (w *world) testConstituency(t *testing.T) {
	e := w.e
	ranges := count(e, "org_ranges")
	post := func(name string, o org.Org, kind, value string, status int, more ...func(*scenario)) scenario {
		body, _ := json.Marshal(map[string]string{"value": value})
		s := scenario{name: name, method: "POST", path: w.orgPath(o, "/"+kind), token: w.hnAdminTok, body: string(body), wantStatus: status}
		for _, m := range more {
			m(&s)
		}
		return s
	}
	invalid := func(s *scenario) {
		s.wantCode, s.wantFields, s.unchanged = "invalid", []string{"value"}, counts(e, "org_ranges", "org_asns", "org_domains")
	}
	runScenarios(t, e, []scenario{
		post("ISP block", w.isp, "ranges", "198.51.0.0/16", 201),
		post("customer /24 inside the ISP block", w.customer, "ranges", "198.51.100.0/24", 201),
		post("member range", w.member, "ranges", "203.0.113.0/24", 201),
		post("member IPv6", w.member, "ranges", "2001:db8:42::/48", 201),
		post("bare address", w.member, "ranges", "192.0.2.7", 201, func(s *scenario) { s.wantBody = []string{`"cidr":"192.0.2.7/32"`} }),
		post("/33", w.member, "ranges", "10.0.0.0/33", 400, invalid),
		post("octet over 255", w.member, "ranges", "300.1.1.1", 400, invalid),
		post("not an address", w.member, "ranges", "abc", 400, invalid),
		post("empty", w.member, "ranges", "", 400, invalid),
		post("too broad", w.member, "ranges", "11.0.0.0/7", 400, invalid),
		post("loopback", w.member, "ranges", "127.0.0.0/8", 400, invalid),
		post("duplicate of its own", w.member, "ranges", "203.0.113.0/24", 409, func(s *scenario) {
			s.wantFields, s.unchanged = []string{"value"}, ranges
		}),
		{name: "sibling range", method: "POST", path: w.orgPath(w.dn, "/ranges"), token: w.dnAdminTok,
			body: `{"value":"100.64.0.0/24","note":"Đà Nẵng"}`, wantStatus: 201},
		post("overlap with another org", w.member, "ranges", "100.64.0.128/25", 409, func(s *scenario) {
			s.wantCode, s.wantFields, s.unchanged = "conflict", []string{"value"}, ranges
			s.wantBody = []string{"Sở Thông tin và Truyền thông Đà Nẵng", "100.64.0.0/24"}
		}),
		post("overlap containing another org's", w.member, "ranges", "100.64.0.0/16", 409, func(s *scenario) {
			s.wantFields, s.unchanged = []string{"value"}, ranges
			s.wantBody = []string{"Sở Thông tin và Truyền thông Đà Nẵng"}
		}),
		post("write outside scope", w.dn, "ranges", "100.65.0.0/24", 403, func(s *scenario) { s.unchanged = ranges }),
		post("ASN", w.isp, "asns", "AS64500", 201, func(s *scenario) { s.wantBody = []string{`"asn":64500`} }),
		post("ASN taken", w.member, "asns", "64500", 409, func(s *scenario) {
			s.wantFields, s.unchanged = []string{"value"}, count(e, "org_asns")
			s.wantBody = []string{"Công ty Viễn thông Thủ đô"}
		}),
		post("ASN malformed", w.member, "asns", "AS-x", 400, invalid),
		post("ASN reserved", w.member, "asns", "AS23456", 400, invalid),
		post("domain", w.member, "domains", "BachMai.vn", 201, func(s *scenario) { s.wantBody = []string{`"domain":"bachmai.vn"`} }),
		post("domain malformed", w.member, "domains", "not a domain", 400, invalid),
		post("domain taken", w.isp, "domains", "bachmai.vn", 409, func(s *scenario) {
			s.wantFields, s.unchanged = []string{"value"}, count(e, "org_domains")
		}),
		{name: "unknown field", method: "POST", path: w.orgPath(w.member, "/ranges"), token: w.hnAdminTok,
			body: `{"value":"203.0.114.0/24","cidr":"x"}`, wantStatus: 400, wantFields: []string{"cidr"}, unchanged: ranges},
		{name: "list ranges", method: "GET", path: w.orgPath(w.member, "/ranges"), token: w.hnViewerTok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				var l struct{ Items []org.Range }
				r.into(t, &l)
				var got []string
				for _, x := range l.Items {
					got = append(got, x.CIDR)
				}
				if strings.Join(got, " ") != "192.0.2.7/32 203.0.113.0/24 2001:db8:42::/48" {
					t.Errorf("ranges %v", got)
				}
			}},
		{name: "list ASNs", method: "GET", path: w.orgPath(w.isp, "/asns"), token: w.hnViewerTok, wantStatus: 200, wantBody: []string{"64500"}},
		{name: "list domains", method: "GET", path: w.orgPath(w.member, "/domains"), token: w.hnViewerTok, wantStatus: 200, wantBody: []string{"bachmai.vn"}},
	})

	// Delete through the API: the whois answer follows.
	r := call(t, e, "POST", w.orgPath(w.member, "/ranges"), w.hnAdminTok, `{"value":"203.0.114.0/24"}`, nil)
	if r.Status != 201 {
		t.Fatalf("add range: %d %s", r.Status, r.Body)
	}
	var rg org.Range
	r.into(t, &rg)
	del := w.orgPath(w.member, fmt.Sprintf("/ranges/%d", rg.ID))
	runScenarios(t, e, []scenario{
		{name: "whois before delete", method: "GET", path: "/api/v1/whois?q=203.0.114.9", token: w.hnViewerTok, wantStatus: 200},
		{name: "delete by a viewer", method: "DELETE", path: del, token: w.hnViewerTok, wantStatus: 403, unchanged: ranges},
		{name: "delete under the wrong org", method: "DELETE", path: w.orgPath(w.isp, fmt.Sprintf("/ranges/%d", rg.ID)),
			token: w.hnAdminTok, wantStatus: 404, unchanged: ranges},
		{name: "delete", method: "DELETE", path: del, token: w.hnAdminTok, wantStatus: 204},
		{name: "delete again", method: "DELETE", path: del, token: w.hnAdminTok, wantStatus: 404, unchanged: ranges},
		{name: "whois after delete", method: "GET", path: "/api/v1/whois?q=203.0.114.9", token: w.hnViewerTok, wantStatus: 404},
	})
}

func (w *world) testWhois(t *testing.T) {
	e := w.e
	whois := func(name, q string, owner org.Org, matched string, chain ...org.Org) scenario {
		tok := w.memberTok
		if strings.HasPrefix(name, "from the sibling") {
			tok = w.dnAdminTok
		}
		return scenario{name: name, method: "GET", path: "/api/v1/whois?q=" + q, token: tok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				var res org.WhoisResult
				r.into(t, &res)
				if res.Org.ID != owner.ID || res.Matched != matched {
					t.Errorf("whois %s: owner %s matched %q, want %s %q", q, res.Org.Code, res.Matched, owner.Code, matched)
				}
				var got, want []string
				for _, o := range res.Chain {
					got = append(got, o.Code)
				}
				for _, o := range chain {
					want = append(want, o.Code)
				}
				if strings.Join(got, ">") != strings.Join(want, ">") {
					t.Errorf("whois %s: chain %v, want %v", q, got, want)
				}
			}}
	}
	runScenarios(t, e, []scenario{
		whois("IP in the customer /24: longest prefix wins", "198.51.100.23", w.customer, "198.51.100.0/24", w.isp, w.hn, w.nc),
		whois("IP elsewhere in the ISP /16", "198.51.7.7", w.isp, "198.51.0.0/16", w.hn, w.nc),
		whois("CIDR inside the customer /24", "198.51.100.0/25", w.customer, "198.51.100.0/24", w.isp, w.hn, w.nc),
		whois("CIDR spanning the ISP block", "198.51.0.0/20", w.isp, "198.51.0.0/16", w.hn, w.nc),
		whois("IPv6", "2001:db8:42::1", w.member, "2001:db8:42::/48", w.hn, w.nc),
		whois("ASN", "AS64500", w.isp, "AS64500", w.hn, w.nc),
		whois("ASN as a number", "64500", w.isp, "AS64500", w.hn, w.nc),
		whois("domain", "bachmai.vn", w.member, "bachmai.vn", w.hn, w.nc),
		whois("subdomain", "mail.BachMai.vn", w.member, "bachmai.vn", w.hn, w.nc),
		whois("URL", "https%3A%2F%2Fportal.bachmai.vn%2Flogin", w.member, "bachmai.vn", w.hn, w.nc),
		whois("sibling's range, outside scope but GREEN", "100.64.0.1", w.dn, "100.64.0.0/24", w.nc),
		{name: "unowned address", method: "GET", path: "/api/v1/whois?q=8.8.8.8", token: w.memberTok, wantStatus: 404,
			wantCode: "not_found", wantBody: []string{"8.8.8.8"}},
		{name: "unowned domain", method: "GET", path: "/api/v1/whois?q=example.com", token: w.memberTok, wantStatus: 404},
		{name: "unowned ASN", method: "GET", path: "/api/v1/whois?q=AS64999", token: w.memberTok, wantStatus: 404},
		{name: "not a query", method: "GET", path: "/api/v1/whois?q=300.1.1.1", token: w.memberTok, wantStatus: 400, wantFields: []string{"q"}},
		{name: "no query", method: "GET", path: "/api/v1/whois", token: w.memberTok, wantStatus: 400, wantFields: []string{"q"}},
		{name: "no token", method: "GET", path: "/api/v1/whois?q=198.51.100.23", wantStatus: 401},
	})

	// A customer the asker may not see holds a /24 inside the ISP's /16:
	// whois must answer as if that /24 did not exist — the ISP — and not
	// "nobody registered it", which is false and betrays the hidden range.
	t.Run("hidden longer prefix", func(t *testing.T) {
		ctx := context.Background()
		hidden, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: "HN-KH2", Name: "Khách hàng kín", ParentID: w.isp.ID,
			Roles: []org.Role{org.RoleSystemOwner}, Active: true, TLP: policy.TLPAmberStrict})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Orgs.AddRange(ctx, e.Sys, hidden.ID, "198.51.200.0/24", ""); err != nil {
			t.Fatal(err)
		}
		runScenarios(t, e, []scenario{
			whois("from the sibling province", "198.51.200.5", w.isp, "198.51.0.0/16", w.hn, w.nc),
		})
	})
}

func (w *world) testLanguage(t *testing.T) {
	e := w.e
	runScenarios(t, e, []scenario{
		{name: "default is Vietnamese", method: "GET", path: "/api/v1/orgs?limit=0", token: w.hnViewerTok, wantStatus: 400,
			wantBody: []string{"limit phải từ 1 đến 500", "Dữ liệu chưa hợp lệ"}},
		{name: "English", method: "GET", path: "/api/v1/orgs?limit=0", token: w.hnViewerTok,
			header: map[string]string{"Accept-Language": "en"}, wantStatus: 400, wantBody: []string{"limit must be between 1 and 500"}},
		{name: "English with region and weights", method: "GET", path: "/api/v1/whois?q=8.8.8.8", token: w.hnViewerTok,
			header: map[string]string{"Accept-Language": "en-GB,en;q=0.9,vi;q=0.5"}, wantStatus: 404,
			wantBody: []string{"No network member has registered 8.8.8.8."}},
		{name: "Vietnamese asked", method: "GET", path: "/api/v1/whois?q=8.8.8.8", token: w.hnViewerTok,
			header: map[string]string{"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"}, wantStatus: 404,
			wantBody: []string{"Chưa có thành viên mạng lưới nào đăng ký quản lý 8.8.8.8."}},
		{name: "English preferred after an unsupported language", method: "GET", path: "/api/v1/orgs?limit=0", token: w.hnViewerTok,
			header: map[string]string{"Accept-Language": "fr-FR, en;q=0.8"}, wantStatus: 400,
			wantBody: []string{"limit must be between 1 and 500"}},
		{name: "unauthenticated in English", method: "GET", path: "/api/v1/me",
			header: map[string]string{"Accept-Language": "en-US"}, wantStatus: 401, wantBody: []string{"Missing API token"}},
		{name: "field messages in English", method: "POST", path: w.orgPath(w.member, "/ranges"), token: w.hnAdminTok,
			body: `{"value":"abc"}`, header: map[string]string{"Accept-Language": "en"}, wantStatus: 400, unchanged: count(e, "org_ranges"),
			check: func(t *testing.T, r reply) {
				d := r.errDetail(t)
				if d.Message != "Some fields need attention." || d.Fields["value"] == "" || hasVietnamese(d.Fields["value"]) {
					t.Errorf("English error: %+v", d)
				}
			}},
	})
}

func hasVietnamese(s string) bool {
	return strings.ContainsAny(s, "ạảãàáâậầấẩẫăắằặẳẵđêếềệểễôốồộổỗơớờợởỡưứừựửữ")
}

// userList is the list envelope of users.
type userList struct {
	Items []struct {
		ID       int64  `json:"id"`
		OrgID    int64  `json:"org_id"`
		Username string `json:"username"`
	} `json:"items"`
	Total int `json:"total"`
}

func (w *world) testUsers(t *testing.T) {
	e := w.e
	users := count(e, "users")
	names := func(r reply, t *testing.T) []string {
		var l userList
		r.into(t, &l)
		var out []string
		for _, u := range l.Items {
			out = append(out, u.Username)
		}
		if l.Total != len(out) {
			t.Errorf("total %d for %d items", l.Total, len(out))
		}
		return out
	}
	runScenarios(t, e, []scenario{
		{name: "create", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body: fmt.Sprintf(`{"org_id":%d,"username":"BV.Analyst","display_name":"Lê Văn C","email":"c@bachmai.vn","roles":["analyst"],"password":"%s"}`,
				w.member.ID, apptest.Password),
			wantStatus: 201, wantBody: []string{`"username":"bv.analyst"`, `"roles":["analyst"]`}, notBody: []string{apptest.Password, "hash"},
			check: func(t *testing.T, r reply) {
				if !strings.HasPrefix(r.Header.Get("Location"), "/api/v1/users/") {
					t.Errorf("Location %q", r.Header.Get("Location"))
				}
			}},
		{name: "create in own org by default", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"username":"hn.analyst","roles":["analyst"],"password":"%s"}`, apptest.Password),
			wantStatus: 201, wantBody: []string{fmt.Sprintf(`"org_id":%d`, w.hn.ID)}},
		{name: "duplicate username", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"bv.ANALYST","roles":["viewer"],"password":"%s"}`, w.member.ID, apptest.Password),
			wantStatus: 409, wantCode: "conflict", wantFields: []string{"username"}, unchanged: users},
		{name: "duplicate username of another scope", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"dn.admin","roles":["viewer"],"password":"%s"}`, w.member.ID, apptest.Password),
			wantStatus: 409, wantFields: []string{"username"}, unchanged: users},
		{name: "weak password", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"bv.weak","roles":["viewer"],"password":"123"}`, w.member.ID),
			wantStatus: 400, wantFields: []string{"password"}, unchanged: users},
		{name: "unknown role", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"bv.root","roles":["root"],"password":"%s"}`, w.member.ID, apptest.Password),
			wantStatus: 400, wantFields: []string{"roles"}, unchanged: users},
		{name: "disabled on create", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"bv.off","roles":["viewer"],"password":"%s","disabled":true}`, w.member.ID, apptest.Password),
			wantStatus: 400, wantFields: []string{"disabled"}, unchanged: users},
		{name: "create outside scope", method: "POST", path: "/api/v1/users", token: w.hnAdminTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"dn.spy","roles":["admin"],"password":"%s"}`, w.dn.ID, apptest.Password),
			wantStatus: 404, unchanged: users},
		{name: "create by a viewer", method: "POST", path: "/api/v1/users", token: w.hnViewerTok,
			body:       fmt.Sprintf(`{"org_id":%d,"username":"bv.x","roles":["admin"],"password":"%s"}`, w.member.ID, apptest.Password),
			wantStatus: 403, unchanged: users},
		{name: "list is limited to scope", method: "GET", path: "/api/v1/users", token: w.hnAdminTok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				got := strings.Join(names(r, t), ",")
				if got != "bv.analyst,bv.reporter,hn.admin,hn.analyst,hn.viewer" {
					t.Errorf("users in scope: %s", got)
				}
			}},
		{name: "national list sees everyone", method: "GET", path: "/api/v1/users?q=admin", token: w.ncAdminTok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				if got := strings.Join(names(r, t), ","); got != "dn.admin,hn.admin,nc.admin" {
					t.Errorf("national users: %s", got)
				}
			}},
		{name: "a viewer lists only themself", method: "GET", path: "/api/v1/users", token: w.hnViewerTok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				if got := strings.Join(names(r, t), ","); got != "hn.viewer" {
					t.Errorf("viewer's list: %s", got)
				}
			}},
		{name: "list by org outside scope", method: "GET", path: fmt.Sprintf("/api/v1/users?org=%d", w.dn.ID), token: w.hnAdminTok,
			wantStatus: 404},
		{name: "list paging", method: "GET", path: "/api/v1/users?limit=2&offset=1", token: w.hnAdminTok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				var l userList
				r.into(t, &l)
				if l.Total != 5 || len(l.Items) != 2 || l.Items[0].Username != "bv.reporter" {
					t.Errorf("page: %+v", l)
				}
			}},
		{name: "list limit=501", method: "GET", path: "/api/v1/users?limit=501", token: w.hnAdminTok, wantStatus: 400, wantFields: []string{"limit"}},
		{name: "get in scope", method: "GET", path: fmt.Sprintf("/api/v1/users/%d", w.memberUser.ID), token: w.hnAdminTok,
			wantStatus: 200, wantBody: []string{`"bv.reporter"`}},
		{name: "get outside scope", method: "GET", path: fmt.Sprintf("/api/v1/users/%d", w.dnAdmin.ID), token: w.hnAdminTok,
			wantStatus: 404, wantCode: "not_found", notBody: []string{"dn.admin"}},
		{name: "get unknown", method: "GET", path: "/api/v1/users/999999", token: w.hnAdminTok, wantStatus: 404},
		{name: "viewer gets another user", method: "GET", path: fmt.Sprintf("/api/v1/users/%d", w.hnAdmin.ID), token: w.hnViewerTok,
			wantStatus: 403},
		{name: "viewer gets themself", method: "GET", path: fmt.Sprintf("/api/v1/users/%d", w.hnViewer.ID), token: w.hnViewerTok,
			wantStatus: 200},
		{name: "update", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.memberUser.ID), token: w.hnAdminTok,
			body: `{"display_name":"Phạm Thị D","roles":["reporter","analyst"]}`, wantStatus: 200,
			wantBody: []string{`"display_name":"Phạm Thị D"`, `"username":"bv.reporter"`, `"analyst"`}},
		{name: "update outside scope", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.dnAdmin.ID), token: w.hnAdminTok,
			body: `{"display_name":"X"}`, wantStatus: 404, unchanged: userRow(w, w.dnAdmin.ID)},
		{name: "move outside scope", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.memberUser.ID), token: w.hnAdminTok,
			body: fmt.Sprintf(`{"org_id":%d}`, w.dn.ID), wantStatus: 404, unchanged: userRow(w, w.memberUser.ID)},
		{name: "password is not changed here", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.memberUser.ID), token: w.hnAdminTok,
			body: `{"display_name":"Y","password":"another-long-password"}`, wantStatus: 400, wantFields: []string{"password"},
			unchanged: userRow(w, w.memberUser.ID)},
		{name: "self edit of profile", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.hnViewer.ID), token: w.hnViewerTok,
			body: `{"display_name":"Viewer Hà Nội"}`, wantStatus: 200},
		{name: "self promotion", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.hnViewer.ID), token: w.hnViewerTok,
			body: `{"roles":["admin"]}`, wantStatus: 403, unchanged: userRow(w, w.hnViewer.ID)},
		{name: "self disable with a profile change changes nothing", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.hnViewer.ID),
			token: w.hnViewerTok, body: `{"display_name":"Changed","disabled":true}`, wantStatus: 403, unchanged: userRow(w, w.hnViewer.ID)},
		{name: "admin disabling themself changes nothing", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.hnAdmin.ID),
			token: w.hnAdminTok, body: `{"display_name":"Changed","disabled":true}`, wantStatus: 400, wantFields: []string{"disabled"},
			unchanged: userRow(w, w.hnAdmin.ID)},
		{name: "an invalid change does not disable", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.memberUser.ID),
			token: w.hnAdminTok, body: `{"email":"not-an-email","disabled":true}`, wantStatus: 400, wantFields: []string{"email"},
			unchanged: userRow(w, w.memberUser.ID)},
	})

	// Disable and re-enable: the user's token stops and starts working.
	path := fmt.Sprintf("/api/v1/users/%d", w.memberUser.ID)
	runScenarios(t, e, []scenario{
		{name: "disable", method: "PUT", path: path, token: w.hnAdminTok, body: `{"disabled":true}`, wantStatus: 200,
			wantBody: []string{`"disabled":true`}},
		{name: "disabled user's token", method: "GET", path: "/api/v1/me", token: w.memberTok, wantStatus: 401},
		{name: "disabled users are not listed by default", method: "GET", path: "/api/v1/users?q=bv.reporter", token: w.hnAdminTok,
			wantStatus: 200, wantBody: []string{`"total":0`}},
		{name: "unless asked", method: "GET", path: "/api/v1/users?q=bv.reporter&disabled=true", token: w.hnAdminTok,
			wantStatus: 200, wantBody: []string{`"total":1`}},
		{name: "enable", method: "PUT", path: path, token: w.hnAdminTok, body: `{"disabled":false}`, wantStatus: 200,
			wantBody: []string{`"disabled":false`}},
	})
}

// userRow reads what the API shows of a user, as the system.
func userRow(w *world, id int64) func(t *testing.T) any {
	return func(t *testing.T) any {
		t.Helper()
		u, err := w.e.App.Auth.GetUser(context.Background(), w.e.Sys, id)
		if err != nil {
			t.Fatal(err)
		}
		u.UpdatedAt = u.UpdatedAt.UTC()
		u.CreatedAt = u.CreatedAt.UTC()
		return fmt.Sprintf("%+v", u)
	}
}

type tokenOut struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token"`
}

func (w *world) testTokens(t *testing.T) {
	e := w.e
	tokens := count(e, "api_tokens")
	revoked := count(e, "api_tokens WHERE revoked_at IS NOT NULL")
	self := fmt.Sprintf("/api/v1/users/%d/tokens", w.hnViewer.ID)
	r := call(t, e, "POST", self, w.hnViewerTok, `{"name":"script","scopes":["read"]}`, nil)
	if r.Status != 201 {
		t.Fatalf("create token: %d %s", r.Status, r.Body)
	}
	var created tokenOut
	r.into(t, &created)
	if !strings.HasPrefix(created.Token, "cn_") || !strings.HasPrefix(created.Token, created.Prefix) || created.ID == 0 {
		t.Fatalf("created token %+v", created)
	}
	if d := created.ExpiresAt.Sub(e.Clock.Now()); d < 89*24*time.Hour || d > 91*24*time.Hour {
		t.Errorf("default expiry in %v, want 90 days", d)
	}
	revoke := fmt.Sprintf("%s/%d", self, created.ID)
	runScenarios(t, e, []scenario{
		{name: "the new token works", method: "GET", path: "/api/v1/me", token: created.Token, wantStatus: 200,
			wantBody: []string{`"hn.viewer"`}},
		{name: "a read token does not write", method: "PUT", path: fmt.Sprintf("/api/v1/users/%d", w.hnViewer.ID), token: created.Token,
			body: `{"display_name":"x"}`, wantStatus: 403, unchanged: userRow(w, w.hnViewer.ID)},
		{name: "list never shows the secret", method: "GET", path: self, token: w.hnViewerTok, wantStatus: 200,
			wantBody: []string{`"script"`, created.Prefix}, notBody: []string{created.Token, `"token":`, "hash"}},
		{name: "an admin in scope lists them", method: "GET", path: self, token: w.hnAdminTok, wantStatus: 200,
			wantBody: []string{`"script"`}, notBody: []string{created.Token}},
		{name: "outside scope", method: "GET", path: self, token: w.dnAdminTok, wantStatus: 404},
		{name: "no scopes", method: "POST", path: self, token: w.hnViewerTok, body: `{"name":"x","scopes":[]}`, wantStatus: 400,
			wantFields: []string{"scopes"}, unchanged: tokens},
		{name: "unknown scope", method: "POST", path: self, token: w.hnViewerTok, body: `{"name":"x","scopes":["admin"]}`, wantStatus: 400,
			wantFields: []string{"scopes"}, unchanged: tokens},
		{name: "expiry in the past", method: "POST", path: self, token: w.hnViewerTok,
			body: `{"name":"x","scopes":["read"],"expires_at":"2001-01-01T00:00:00Z"}`, wantStatus: 400,
			wantFields: []string{"expires_at"}, unchanged: tokens},
		{name: "expiry not a time", method: "POST", path: self, token: w.hnViewerTok,
			body: `{"name":"x","scopes":["read"],"expires_at":"tomorrow"}`, wantStatus: 400, unchanged: tokens},
		{name: "for another user by a viewer", method: "POST", path: fmt.Sprintf("/api/v1/users/%d/tokens", w.hnAdmin.ID),
			token: w.hnViewerTok, body: `{"name":"x","scopes":["read","write"]}`, wantStatus: 403, unchanged: tokens},
		{name: "for a user outside scope", method: "POST", path: fmt.Sprintf("/api/v1/users/%d/tokens", w.dnAdmin.ID),
			token: w.hnAdminTok, body: `{"name":"x","scopes":["read","write"]}`, wantStatus: 404, unchanged: tokens},
		{name: "revoke by a user outside scope", method: "DELETE", path: revoke, token: w.dnAdminTok, wantStatus: 404, unchanged: revoked},
		{name: "revoke under another user", method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d/tokens/%d", w.hnAdmin.ID, created.ID),
			token: w.hnAdminTok, wantStatus: 404, unchanged: revoked},
		{name: "still works", method: "GET", path: "/api/v1/me", token: created.Token, wantStatus: 200},
		{name: "revoke", method: "DELETE", path: revoke, token: w.hnViewerTok, wantStatus: 204},
		{name: "revoked token", method: "GET", path: "/api/v1/me", token: created.Token, wantStatus: 401, wantCode: "unauthenticated",
			wantBody: []string{"đã bị thu hồi"}},
		{name: "revoke again", method: "DELETE", path: revoke, token: w.hnViewerTok, wantStatus: 204},
		{name: "listed as revoked", method: "GET", path: self, token: w.hnViewerTok, wantStatus: 200, wantBody: []string{`"revoked_at"`}},
		{name: "an admin mints one for a user in scope", method: "POST", path: fmt.Sprintf("/api/v1/users/%d/tokens", w.memberUser.ID),
			token: w.hnAdminTok, body: `{"name":"soc-forwarder","scopes":["read","write"]}`, wantStatus: 201, wantBody: []string{`"token":"cn_`}},
	})
}

func (w *world) testMeta(t *testing.T) {
	e := w.e
	runScenarios(t, e, []scenario{
		{name: "openapi.json without a token", method: "GET", path: "/api/v1/openapi.json", wantStatus: 200,
			check: func(t *testing.T, r reply) {
				var doc struct {
					OpenAPI string         `json:"openapi"`
					Paths   map[string]any `json:"paths"`
				}
				r.into(t, &doc)
				if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/api/v1/orgs"] == nil {
					t.Errorf("openapi document: %s…", r.Body[:min(len(r.Body), 200)])
				}
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q", ct)
				}
			}},
		{name: "unknown route", method: "GET", path: "/api/v1/nope", token: w.hnViewerTok, wantStatus: 404, wantCode: "not_found"},
		{name: "unknown route without a token", method: "GET", path: "/api/v1/nope", wantStatus: 404, wantCode: "not_found"},
		{name: "id out of range", method: "GET", path: "/api/v1/orgs/99999999999999999999", token: w.hnViewerTok, wantStatus: 404},
		{name: "negative id", method: "GET", path: "/api/v1/users/-1", token: w.hnAdminTok, wantStatus: 404},
		{name: "request id kept from the caller", method: "GET", path: "/api/v1/nope", token: w.hnViewerTok,
			header: map[string]string{"X-Request-Id": "client-req-0001"}, wantStatus: 404, check: func(t *testing.T, r reply) {
				if d := r.errDetail(t); d.RequestID != "client-req-0001" {
					t.Errorf("request_id %q: the caller's X-Request-Id is not kept", d.RequestID)
				}
			}},
		{name: "unknown version", method: "GET", path: "/api/v2/orgs", token: w.hnViewerTok, wantStatus: 404, wantCode: "not_found"},
		{name: "answers are not cached", method: "GET", path: "/api/v1/me", token: w.hnViewerTok, wantStatus: 200,
			check: func(t *testing.T, r reply) {
				if r.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
				}
			}},
	})
}

func (w *world) testExpiredToken(t *testing.T) {
	e := w.e
	tok := e.Token(w.hnViewer)
	if r := call(t, e, "GET", "/api/v1/me", tok, "", nil); r.Status != 200 {
		t.Fatalf("fresh token: %d %s", r.Status, r.Body)
	}
	e.Clock.Advance(24*time.Hour + time.Second)
	runScenarios(t, e, []scenario{
		{name: "expired", method: "GET", path: "/api/v1/me", token: tok, wantStatus: 401, wantCode: "unauthenticated",
			wantBody: []string{"Mã truy cập API đã hết hạn."}},
		{name: "expired, in English", method: "GET", path: "/api/v1/me", token: tok, header: map[string]string{"Accept-Language": "en"},
			wantStatus: 401, wantBody: []string{"The API token has expired."}, check: func(t *testing.T, r reply) {
				if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, "invalid_token") {
					t.Errorf("WWW-Authenticate %q", h)
				}
			}},
		{name: "expired on a write changes nothing", method: "POST", path: w.orgPath(w.member, "/contacts"), token: w.hnAdminTok,
			body: `{"kind":"primary","name":"A","email":"a@bachmai.vn"}`, wantStatus: 401, unchanged: count(e, "contacts")},
	})
}

// testConcurrent sends clashing writes at the same time: exactly one wins,
// the others are refused with 409 (never a 5xx), and only one row is
// stored.
func (w *world) testConcurrent(t *testing.T) {
	e := w.e
	const n = 8
	race := func(t *testing.T, table string, req func(i int) (method, path, body string)) {
		t.Helper()
		before := count(e, table)(t).(int)
		statuses := make([]int, n)
		bodies := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, p, b := req(i)
				r := call(t, e, m, p, w.hnAdminTok, b, nil)
				statuses[i], bodies[i] = r.Status, string(r.Body)
			}()
		}
		wg.Wait()
		won := 0
		for i, st := range statuses {
			switch st {
			case 201:
				won++
			case 409:
			default:
				t.Errorf("request %d: %d %s", i, st, bodies[i])
			}
		}
		if won != 1 {
			t.Errorf("%d requests won, want 1: %v", won, statuses)
		}
		if after := count(e, table)(t).(int); after != before+1 {
			t.Errorf("%s: %d rows before, %d after", table, before, after)
		}
	}
	// Neither is an ancestor of the other: no overlap between them is a
	// delegation.
	owners := []org.Org{w.member, w.isp}
	t.Run("overlapping ranges", func(t *testing.T) {
		race(t, "org_ranges", func(i int) (string, string, string) {
			// Nested prefixes, all overlapping, for two unrelated organisations.
			v := []string{"203.0.120.0/24", "203.0.120.0/25", "203.0.120.0/26", "203.0.120.0/27"}[i%4]
			return "POST", w.orgPath(owners[i%len(owners)], "/ranges"), fmt.Sprintf(`{"value":%q}`, v)
		})
	})
	t.Run("same AS number", func(t *testing.T) {
		race(t, "org_asns", func(i int) (string, string, string) {
			return "POST", w.orgPath(owners[i%len(owners)], "/asns"), `{"value":"AS64510"}`
		})
	})
	t.Run("same member code", func(t *testing.T) {
		race(t, "organisations", func(i int) (string, string, string) {
			return "POST", "/api/v1/orgs", fmt.Sprintf(`{"code":"HN-RACE","name":"Đua %d","parent_id":%d,"roles":["system_owner"]}`, i, w.hn.ID)
		})
	})
	t.Run("same username", func(t *testing.T) {
		race(t, "users", func(i int) (string, string, string) {
			return "POST", "/api/v1/users", fmt.Sprintf(`{"org_id":%d,"username":"bv.race","roles":["viewer"],"password":%q}`,
				w.member.ID, apptest.Password)
		})
	})
}
