package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/i18n"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// peopleClient is a browser without JavaScript: a cookie jar, forms posted with
// the CSRF token of the last page read, redirects not followed.
type peopleClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

// peopleResp is an answer as read.
type peopleResp struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
}

var (
	peopleCSRFRe   = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	peopleMissKey  = regexp.MustCompile(`\[(users|profile|totp|tokens|auditlog|auth|field|error)\.[a-z_.]+\]`)
	peopleSecretRe = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)
	peopleURLRe    = regexp.MustCompile(`name="url" value="([^"]+)"`)
	peopleCodesRe  = regexp.MustCompile(`<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>`)
	peopleTokenRe  = regexp.MustCompile(`cn_[a-z2-7]{52}`)
	peopleRevokeRe = regexp.MustCompile(`action="/profile/tokens/(\d+)/revoke"`)
)

func newPeopleClient(t *testing.T, e *apptest.Env) *peopleClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &peopleClient{t: t, base: e.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *peopleClient) do(req *http.Request) peopleResp {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := peopleResp{Status: res.StatusCode, Body: string(b), Location: res.Header.Get("Location"), Header: res.Header}
	if m := peopleCSRFRe.FindStringSubmatch(r.Body); m != nil {
		c.csrf = m[1]
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if m := peopleMissKey.FindString(r.Body); m != "" {
			c.t.Errorf("%s %s: untranslated key %s", req.Method, req.URL.Path, m)
		}
		if strings.Contains(r.Body, "ZgotmplZ") {
			c.t.Errorf("%s %s: a value the template refused (ZgotmplZ)", req.Method, req.URL.Path)
		}
	}
	return r
}

func (c *peopleClient) get(path string) peopleResp {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form with the CSRF token of the last page read.
func (c *peopleClient) post(path string, form url.Values) peopleResp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// login signs in through the form and returns where it was sent.
func (c *peopleClient) login(username, password string) string {
	c.t.Helper()
	if r := c.get("/login"); r.Status != http.StatusOK {
		c.t.Fatalf("GET /login: %d", r.Status)
	}
	r := c.post("/login", url.Values{"username": {username}, "password": {password}, "next": {"/"}})
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d\n%s", username, r.Status, r.Body)
	}
	return r.Location
}

// page GETs path and wants 200.
func (c *peopleClient) page(path string) string {
	c.t.Helper()
	r := c.get(path)
	if r.Status != http.StatusOK {
		c.t.Fatalf("GET %s: status %d (to %q)\n%s", path, r.Status, r.Location, r.Body)
	}
	return r.Body
}

func peopleStatus(t *testing.T, what string, r peopleResp, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d (to %q)\n%s", what, r.Status, status, r.Location, r.Body)
	}
}

func peopleWant(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s: %q not found", what, p)
		}
	}
}

// peopleNet is a national coordinator with one provincial unit under it.
type peopleNet struct {
	e        *apptest.Env
	nc, prov org.Org
}

func newPeopleNet(t *testing.T) peopleNet {
	e := apptest.StartSQLite(t)
	nc := e.Org("VNCERT", "Trung tâm Điều phối Ứng cứu Sự cố Quốc gia", 0, org.RoleNationalCoordinator)
	prov := e.Org("HNI-RU", "Sở Khoa học và Công nghệ Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	return peopleNet{e: e, nc: nc, prov: prov}
}

func peopleCount(t *testing.T, e *apptest.Env, q string) int {
	t.Helper()
	_, n, err := e.App.Auth.ListUsers(context.Background(), e.Sys, auth.UserFilter{Q: q, IncludeDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAdminCreatesUser(t *testing.T) {
	n := newPeopleNet(t)
	e := n.e
	n.e.User(n.prov.ID, "admin.hn", policy.RoleAdmin)
	c := newPeopleClient(t, e)
	c.login("admin.hn", apptest.Password)

	body := c.page("/users/new")
	peopleWant(t, "new user form", body, `name="username"`, `<label for="username">`, `name="roles"`, n.prov.Name)
	if strings.Contains(body, n.nc.Name+"</option>") {
		t.Error("the organisation select offers an organisation outside the administrator's scope")
	}

	form := url.Values{"org_id": {strconv.FormatInt(n.prov.ID, 10)}, "username": {"nguyen.van.an"},
		"display_name": {"Nguyễn Văn An"}, "email": {"an@hanoi.gov.vn"}, "locale": {"vi"},
		"roles": {"analyst", "reporter"}, "password": {"Trống đồng Đông Sơn 2026"}}
	r := c.post("/users", form)
	peopleStatus(t, "create", r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Location, "/users/") {
		t.Fatalf("create went to %q", r.Location)
	}
	body = c.page(r.Location)
	peopleWant(t, "user page", body, "nguyen.van.an", "Nguyễn Văn An", "Chuyên viên phân tích", "Người báo cáo", "Đã tạo tài khoản.")

	t.Run("duplicate username is a field error", func(t *testing.T) {
		dup := url.Values{}
		for k, v := range form {
			dup[k] = v
		}
		dup.Set("display_name", "Người khác")
		r := c.post("/users", dup)
		peopleStatus(t, "duplicate", r, http.StatusConflict)
		peopleWant(t, "duplicate", r.Body, "Tên đăng nhập này đã có người sử dụng.", `value="Người khác"`,
			`id="username-err"`, `aria-invalid="true"`)
		if got := peopleCount(t, e, "nguyen.van.an"); got != 1 {
			t.Errorf("%d users named nguyen.van.an, want 1", got)
		}
	})

	t.Run("weak password is a field error", func(t *testing.T) {
		weak := url.Values{"org_id": {strconv.FormatInt(n.prov.ID, 10)}, "username": {"tran.thi.binh"},
			"display_name": {"Trần Thị Bình"}, "locale": {"vi"}, "roles": {"viewer"}, "password": {"ngan"}}
		r := c.post("/users", weak)
		peopleStatus(t, "weak", r, http.StatusBadRequest)
		peopleWant(t, "weak", r.Body, "Mật khẩu phải có ít nhất 12 ký tự.", `id="password-err"`, `value="tran.thi.binh"`,
			`value="Trần Thị Bình"`)
		if got := peopleCount(t, e, "tran.thi.binh"); got != 0 {
			t.Errorf("a user was created with a weak password")
		}
	})

	t.Run("generated password is shown once and works", func(t *testing.T) {
		gen := url.Values{"org_id": {strconv.FormatInt(n.prov.ID, 10)}, "username": {"le.van.cuong"},
			"locale": {"en"}, "roles": {"viewer"}, "generate": {"1"}}
		r := c.post("/users", gen)
		peopleStatus(t, "generate", r, http.StatusCreated)
		m := regexp.MustCompile(`id="new-password">([^<]+)<`).FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no generated password on the page:\n%s", r.Body)
		}
		pw := html.UnescapeString(m[1])
		other := newPeopleClient(t, e)
		if to := other.login("le.van.cuong", pw); to != "/" {
			t.Errorf("login with the generated password went to %q", to)
		}
		id := regexp.MustCompile(`action="/users/(\d+)/password"`).FindStringSubmatch(r.Body)
		if id == nil {
			t.Fatal("no password reset form")
		}
		if strings.Contains(c.page("/users/"+id[1]), pw) {
			t.Error("the generated password is shown again")
		}
	})

	t.Run("list, filters and edit", func(t *testing.T) {
		body := c.page("/users?q=nguyen&role=analyst")
		peopleWant(t, "list", body, "nguyen.van.an", "Hiển thị 1–1 trong tổng số 1")
		if strings.Contains(body, "admin.hn</a>") {
			t.Error("the filter did not apply")
		}
		id := regexp.MustCompile(`href="/users/(\d+)">nguyen.van.an`).FindStringSubmatch(body)
		if id == nil {
			t.Fatal("no link to the user")
		}
		// Unticking every role is refused, and the typed name is kept.
		r := c.post("/users/"+id[1], url.Values{"org_id": {strconv.FormatInt(n.prov.ID, 10)},
			"display_name": {"Nguyễn Văn An (đã sửa)"}, "locale": {"vi"}})
		peopleStatus(t, "no roles", r, http.StatusBadRequest)
		peopleWant(t, "no roles", r.Body, "Cần chọn ít nhất một vai trò.", `value="Nguyễn Văn An (đã sửa)"`)
		r = c.post("/users/"+id[1], url.Values{"org_id": {strconv.FormatInt(n.prov.ID, 10)},
			"display_name": {"Nguyễn Văn An (đã sửa)"}, "locale": {"vi"}, "roles": {"coordinator"}})
		peopleStatus(t, "edit", r, http.StatusSeeOther)
		peopleWant(t, "edited", c.page(r.Location), "Nguyễn Văn An (đã sửa)", "Điều phối viên")

		peopleStatus(t, "disable", c.post("/users/"+id[1]+"/disable", nil), http.StatusSeeOther)
		if strings.Contains(c.page("/users?q=nguyen"), "nguyen.van.an") {
			t.Error("a disabled user is listed without the filter asking for them")
		}
		peopleWant(t, "with disabled", c.page("/users?q=nguyen&disabled=1"), "nguyen.van.an", "Đã khóa")
		peopleStatus(t, "enable", c.post("/users/"+id[1]+"/enable", nil), http.StatusSeeOther)
	})

	t.Run("pages in English", func(t *testing.T) {
		// Every page is read through the peopleClient, which fails on a key
		// missing from the English catalogue.
		c.page("/")
		peopleStatus(t, "switch", c.post("/lang", url.Values{"lang": {"en"}, "next": {"/users"}}), http.StatusSeeOther)
		body := c.page("/users?q=nguyen")
		peopleWant(t, "English list", body, "Showing 1–1 of 1 users", "Add a user")
		id := regexp.MustCompile(`href="/users/(\d+)">nguyen.van.an`).FindStringSubmatch(body)
		if id == nil {
			t.Fatal("no link to the user")
		}
		peopleWant(t, "English user", c.page("/users/"+id[1]), "Edit details and roles", "Sessions")
		peopleWant(t, "English new user", c.page("/users/new"), "Generate a random password")
		peopleWant(t, "English audit", c.page("/audit"), "Audit log")
		c.page("/profile/totp")
		peopleStatus(t, "back", c.post("/lang", url.Values{"lang": {"vi"}, "next": {"/"}}), http.StatusSeeOther)
	})

	t.Run("a viewer has no buttons and cannot create", func(t *testing.T) {
		e.User(n.prov.ID, "xem", policy.RoleViewer)
		v := newPeopleClient(t, e)
		v.login("xem", apptest.Password)
		peopleStatus(t, "viewer new user", v.get("/users/new"), http.StatusForbidden)
		r := v.post("/users", url.Values{"org_id": {strconv.FormatInt(n.prov.ID, 10)}, "username": {"hacker"},
			"roles": {"admin"}, "password": {"Trống đồng Đông Sơn 2026"}})
		peopleStatus(t, "viewer create", r, http.StatusForbidden)
	})
}

// peopleEnrol sets up TOTP through the profile page and returns the secret and
// the recovery codes.
func peopleEnrol(t *testing.T, e *apptest.Env, c *peopleClient) (string, []string) {
	t.Helper()
	body := c.page("/profile/totp")
	m := peopleSecretRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page:\n%s", body)
	}
	peopleWant(t, "enrolment", body, `<img class="qr" src="data:image/png;base64,`, `alt="`)
	secret := strings.ReplaceAll(m[1], " ", "")
	hidden := peopleURLRe.FindStringSubmatch(body)
	if hidden == nil {
		t.Fatal("no otpauth URL in the form")
	}
	otpURL := html.UnescapeString(hidden[1])

	// A wrong code: a field error, and the same secret to try again.
	right, err := totp.GenerateCode(secret, e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := []byte(right)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	r := c.post("/profile/totp", url.Values{"code": {string(wrong)}, "url": {otpURL}})
	peopleStatus(t, "wrong enrolment code", r, http.StatusBadRequest)
	peopleWant(t, "wrong enrolment code", r.Body, "Mã xác thực không đúng hoặc đã được sử dụng.", `id="code-err"`)
	if m := peopleSecretRe.FindStringSubmatch(r.Body); m == nil || strings.ReplaceAll(m[1], " ", "") != secret {
		t.Fatal("the page after a wrong code shows another secret")
	}

	r = c.post("/profile/totp", url.Values{"code": {right}, "url": {otpURL}})
	peopleStatus(t, "enrolment", r, http.StatusOK)
	var codes []string
	for _, m := range peopleCodesRe.FindAllStringSubmatch(r.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d:\n%s", len(codes), auth.RecoveryCodeCount, r.Body)
	}
	peopleWant(t, "recovery codes", r.Body, "chỉ hiển thị một lần")
	return secret, codes
}

func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	n := newPeopleNet(t)
	e := n.e
	e.User(n.prov.ID, "truc.ban", policy.RoleCoordinator)
	c := newPeopleClient(t, e)
	c.login("truc.ban", apptest.Password)
	secret, codes := peopleEnrol(t, e, c)

	// The codes are not shown again; the page says the factor is on.
	body := c.page("/profile/totp")
	if strings.Contains(body, codes[0]) {
		t.Error("recovery codes shown again")
	}
	peopleWant(t, "totp on", body, "Xác thực hai lớp đang bật", `action="/profile/totp/disable"`)

	t.Run("sign-in needs a code", func(t *testing.T) {
		b := newPeopleClient(t, e)
		if to := b.login("truc.ban", apptest.Password); !strings.HasPrefix(to, "/login/mfa") {
			t.Fatalf("login went to %q, want /login/mfa", to)
		}
		if r := b.get("/profile"); r.Status != http.StatusSeeOther || r.Location != "/login/mfa" {
			t.Fatalf("a page before the code: %d to %q", r.Status, r.Location)
		}
		b.page("/login/mfa")
		e.Clock.Advance(31 * time.Second)
		code, _ := totp.GenerateCode(secret, e.Clock.Now())
		wrong := []byte(code)
		wrong[5] = '0' + (wrong[5]-'0'+1)%10
		peopleStatus(t, "wrong code", b.post("/login/mfa", url.Values{"code": {string(wrong)}, "next": {"/"}}), http.StatusUnauthorized)
		peopleStatus(t, "right code", b.post("/login/mfa", url.Values{"code": {code}, "next": {"/"}}), http.StatusSeeOther)
		peopleWant(t, "profile after the code", b.page("/profile"), "truc.ban")
	})

	t.Run("a recovery code works once", func(t *testing.T) {
		b := newPeopleClient(t, e)
		b.login("truc.ban", apptest.Password)
		b.page("/login/mfa")
		peopleStatus(t, "recovery code", b.post("/login/mfa", url.Values{"code": {codes[3]}, "next": {"/"}}), http.StatusSeeOther)
		b.page("/")

		again := newPeopleClient(t, e)
		again.login("truc.ban", apptest.Password)
		again.page("/login/mfa")
		peopleStatus(t, "reused recovery code", again.post("/login/mfa", url.Values{"code": {codes[3]}, "next": {"/"}}),
			http.StatusUnauthorized)
	})

	t.Run("new recovery codes, shown once", func(t *testing.T) {
		c.page("/profile/totp")
		r := c.post("/profile/recovery-codes", nil)
		peopleStatus(t, "regenerate", r, http.StatusOK)
		if got := len(peopleCodesRe.FindAllString(r.Body, -1)); got != auth.RecoveryCodeCount {
			t.Errorf("%d new codes, want %d", got, auth.RecoveryCodeCount)
		}
	})

	t.Run("switching off needs the password", func(t *testing.T) {
		c.page("/profile/totp")
		r := c.post("/profile/totp/disable", url.Values{"password": {"not the password"}})
		peopleStatus(t, "wrong password", r, http.StatusBadRequest)
		peopleWant(t, "wrong password", r.Body, "Mật khẩu không đúng.", `id="password-err"`)
		r = c.post("/profile/totp/disable", url.Values{"password": {apptest.Password}})
		peopleStatus(t, "disable", r, http.StatusSeeOther)
		peopleWant(t, "profile", c.page("/profile"), "Xác thực hai lớp chưa bật.")
	})
}

func TestOrganisationRequiresTOTP(t *testing.T) {
	e := apptest.StartSQLite(t)
	o, err := e.App.Orgs.Create(context.Background(), e.Sys, org.Input{Code: "BQP-SOC", Name: "Trung tâm giám sát",
		Roles: []org.Role{org.RoleMonitoringCentre}, Active: true, TLP: policy.TLPGreen, RequireMFA: true})
	if err != nil {
		t.Fatal(err)
	}
	e.User(o.ID, "giam.sat", policy.RoleAnalyst)
	c := newPeopleClient(t, e)
	if to := c.login("giam.sat", apptest.Password); to != "/profile/totp" {
		t.Fatalf("login went to %q, want /profile/totp", to)
	}
	if r := c.get("/users"); r.Status != http.StatusSeeOther || r.Location != "/profile/totp" {
		t.Fatalf("another page before enrolling: %d to %q", r.Status, r.Location)
	}
	peopleWant(t, "enrol", c.page("/profile/totp"), "Đơn vị của bạn bắt buộc xác thực hai lớp.")
	peopleEnrol(t, e, c)
	// The session passed its second factor by enrolling: everything opens,
	// with the token rotated and the new CSRF token on the page.
	c.page("/")
	peopleStatus(t, "post after enrolling", c.post("/profile", url.Values{"display_name": {"Giám sát"}, "locale": {"vi"}}),
		http.StatusSeeOther)
	peopleWant(t, "no switching off", c.page("/profile/totp"), "không thể tự tắt")
}

func TestTokens(t *testing.T) {
	n := newPeopleNet(t)
	e := n.e
	e.User(n.prov.ID, "soc.sync", policy.RoleAnalyst)
	c := newPeopleClient(t, e)
	c.login("soc.sync", apptest.Password)
	peopleWant(t, "tokens page", c.page("/profile/tokens"), `name="days"`, `<label for="name">`)

	r := c.post("/profile/tokens", url.Values{"name": {"Đồng bộ SOC"}, "scopes": {"read"}, "days": {"0"}})
	peopleStatus(t, "0 days", r, http.StatusBadRequest)
	peopleWant(t, "0 days", r.Body, "Nhập số ngày từ 1 đến 365.", `value="Đồng bộ SOC"`, `id="days-err"`)
	r = c.post("/profile/tokens", url.Values{"name": {"Đồng bộ SOC"}, "days": {"30"}})
	peopleStatus(t, "no scope", r, http.StatusBadRequest)
	peopleWant(t, "no scope", r.Body, `id="scopes-err"`)

	r = c.post("/profile/tokens", url.Values{"name": {"Đồng bộ SOC"}, "scopes": {"read"}, "days": {"30"}})
	peopleStatus(t, "create", r, http.StatusCreated)
	plain := peopleTokenRe.FindString(r.Body)
	if plain == "" {
		t.Fatalf("no token on the page:\n%s", r.Body)
	}
	peopleWant(t, "create", r.Body, `class="secret token-value"`)

	list := c.page("/profile/tokens")
	if strings.Contains(list, plain) {
		t.Fatal("the token is shown again")
	}
	peopleWant(t, "list", list, plain[:11]+"…", "Đồng bộ SOC", "Đang hiệu lực")

	api := func() int {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+plain)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := api(); st != http.StatusOK {
		t.Fatalf("API with the new token: %d", st)
	}
	m := peopleRevokeRe.FindStringSubmatch(list)
	if m == nil {
		t.Fatal("no revoke button")
	}
	peopleStatus(t, "revoke", c.post("/profile/tokens/"+m[1]+"/revoke", nil), http.StatusSeeOther)
	peopleWant(t, "revoked", c.page("/profile/tokens"), "Đã thu hồi")
	if st := api(); st != http.StatusUnauthorized {
		t.Errorf("API with a revoked token: %d", st)
	}
}

func TestAuditLog(t *testing.T) {
	n := newPeopleNet(t)
	e := n.e
	e.User(n.nc.ID, "kiem.toan", policy.RoleAuditor)
	e.User(n.prov.ID, "nguoi.xem", policy.RoleViewer)

	v := newPeopleClient(t, e)
	v.login("nguoi.xem", apptest.Password)
	peopleStatus(t, "viewer", v.get("/audit"), http.StatusForbidden)
	peopleStatus(t, "viewer csv", v.get("/audit.csv"), http.StatusForbidden)
	if strings.Contains(v.page("/"), `href="/audit"`) {
		t.Error("the viewer's menu links the audit log")
	}

	c := newPeopleClient(t, e)
	c.login("kiem.toan", apptest.Password)
	body := c.page("/audit")
	peopleWant(t, "audit", body, "Nhật ký hệ thống", "auth.login", "user.create", "<details>", n.prov.Name,
		`title="`+e.Clock.Now().UTC().Format("2006-01-02"))

	// Days are Vietnam days, whatever the machine's zone.
	now := e.Clock.Now().In(i18n.Zone)
	body = c.page("/audit?action=user.&from=" + url.QueryEscape(now.Format("02/01/2006")) + "&to=" + now.Format("2006-01-02"))
	peopleWant(t, "filtered", body, "user.create")
	if strings.Contains(body, "<code>auth.login</code>") {
		t.Error("the action filter did not apply")
	}

	r := c.get("/audit?from=31/02/2026")
	peopleStatus(t, "bad date", r, http.StatusBadRequest)
	peopleWant(t, "bad date", r.Body, `id="f-from-err"`, `value="31/02/2026"`)

	r = c.get("/audit.csv?action=user.")
	peopleStatus(t, "csv", r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("csv content type %q", ct)
	}
	peopleWant(t, "csv", r.Body, "\ufefftlp,seq,at,", "TLP:AMBER", "user.create", "nguoi.xem")
	if strings.Contains(r.Body, "auth.login") {
		t.Error("the CSV ignores the filter")
	}
}

func TestAuditLogPages(t *testing.T) {
	n := newPeopleNet(t)
	e := n.e
	for i := range 60 {
		e.User(n.prov.ID, "nguoi"+strconv.Itoa(i), policy.RoleViewer)
	}
	e.User(n.nc.ID, "quan.tri", policy.RoleAdmin)
	c := newPeopleClient(t, e)
	c.login("quan.tri", apptest.Password)
	body := c.page("/audit")
	m := regexp.MustCompile(`href="(/audit\?before=\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to older entries")
	}
	older := c.page(html.UnescapeString(m[1]))
	peopleWant(t, "older", older, "nguoi0", "Mới nhất")
}

func TestProfileAndLanguage(t *testing.T) {
	n := newPeopleNet(t)
	e := n.e
	e.User(n.prov.ID, "ca.nhan", policy.RoleReporter)
	c := newPeopleClient(t, e)
	c.login("ca.nhan", apptest.Password)
	peopleWant(t, "profile", c.page("/profile"), "Tài khoản của tôi", `<label for="display_name">`, `lang="vi"`)

	r := c.post("/profile", url.Values{"display_name": {"Cá Nhân"}, "email": {"không phải email"}, "locale": {"vi"}})
	peopleStatus(t, "bad email", r, http.StatusBadRequest)
	peopleWant(t, "bad email", r.Body, "Địa chỉ email không hợp lệ.", `value="không phải email"`, `id="email-err"`)

	r = c.post("/profile/password", url.Values{"current": {apptest.Password}, "password": {"Hoa sen nở giữa đầm 2026"},
		"confirm": {"Hoa sen nở giữa đầm 2025"}})
	peopleStatus(t, "mismatch", r, http.StatusBadRequest)
	peopleWant(t, "mismatch", r.Body, "Hai lần nhập mật khẩu mới không khớp nhau.", `id="confirm-err"`)
	r = c.post("/profile/password", url.Values{"current": {apptest.Password}, "password": {"Hoa sen nở giữa đầm 2026"},
		"confirm": {"Hoa sen nở giữa đầm 2026"}})
	peopleStatus(t, "change password", r, http.StatusSeeOther)
	if to := newPeopleClient(t, e).login("ca.nhan", "Hoa sen nở giữa đầm 2026"); to != "/" {
		t.Errorf("login with the new password went to %q", to)
	}

	c.page("/profile")
	peopleStatus(t, "switch to English", c.post("/lang", url.Values{"lang": {"en"}, "next": {"/profile"}}), http.StatusSeeOther)
	body := c.page("/profile")
	peopleWant(t, "English profile", body, `lang="en"`, "My account", "Change password", "Two-factor authentication is off.")
	if strings.Contains(body, "Tài khoản của tôi") {
		t.Error("Vietnamese left on the English page")
	}
	peopleWant(t, "English tokens", c.page("/profile/tokens"), "Create a new API token")
}
