package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"certnet/internal/apptest"
	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// The authorization matrix of the web UI: every route of routes.go, as every
// role of a provincial response unit (and the national coordinator's
// administrator and auditor), against a target organisation that is the
// actor's own, a child of it or a sibling province outside its scope, under
// each TLP an organisation can carry — and once more by a visitor who is not
// signed in. What the UI answers must be what policy decides:
//
//   - allowed: 2xx, a 303 redirect (not to the login page), or a form shown
//     again with its field errors (400, 409, 422: the request passed policy);
//   - NotFound (the actor may not know the target exists): 404;
//   - Forbidden: 403 (or 404, which reveals even less);
//   - never 5xx;
//   - no answer names an organisation policy hides from the actor (its TLP
//     label covers its name);
//   - not signed in: sent to /login, except the login pages themselves.
//
// Lists and searches answer whatever the target; for them the matrix checks
// that the target is shown exactly when policy lets the actor see it.
// Cases where the fault lies outside internal/web are listed in knownBugs.

// wmActor is someone the matrix acts as, with a signed-in browser.
type wmActor struct {
	name  string
	user  auth.User
	actor policy.Actor // what policy sees for the actor's session
	b     *orgBrowser
}

// wmTarget is an organisation the matrix acts on, with a contact, a range,
// an AS number, a domain and a user of its own.
type wmTarget struct {
	scope        string // own, child, outside
	org          org.Org
	user         auth.User
	contactID    int64
	contactEmail string
	asn          int64
}

// wmCase is one cell of the matrix.
type wmCase struct {
	m    *webMatrix
	a    *wmActor // for a visitor: the actor whose request the visitor replays
	anon bool
	t    *wmTarget
	n    int // unique per case, for values that must not collide
}

type webMatrix struct {
	e    *apptest.Env
	ctx  context.Context
	n    int
	anon *orgBrowser
}

// wmReq is a request of the matrix.
type wmReq struct {
	method string
	path   string
	form   url.Values
	file   []byte // sent as a multipart upload with form as its fields
	// b, when set, sends the request instead of the actor's (or the
	// visitor's) browser.
	b *orgBrowser
}

// wmAnon is the answer to a visitor who is not signed in; the zero value
// is a redirect to /login?next=….
type wmAnon struct {
	status   int
	location string
}

// wmRoute says how the matrix exercises one route.
type wmRoute struct {
	// req builds a valid request for the case, with fresh values; it
	// prepares (as the system) what the request uses up.
	req func(t *testing.T, c *wmCase) wmReq
	// decide is policy's answer for the actor; nil for the public routes,
	// which every actor may use.
	decide func(c *wmCase) error
	// For lists and searches that answer whatever the target: shows is
	// policy's answer on the target, seen whether the answer shows it.
	shows func(c *wmCase) error
	seen  func(t *testing.T, c *wmCase, p orgPage) bool
	// ctype is the content type of an allowed 200 answer (exports).
	ctype string
	// follow: the route only redirects to another page, which decides; the
	// matrix judges the page it leads to.
	follow bool
	anon   wmAnon
	// after runs once the answer is read (cleanup, a new CSRF token).
	after func(t *testing.T, c *wmCase)
}

func (c *wmCase) check(act policy.Action, r policy.Resource) error {
	return policy.Check(c.a.actor, act, r)
}

func (c *wmCase) orgPath(rest string) string { return "/orgs/" + orgID(c.t.org.ID) + rest }

func (c *wmCase) userPath(rest string) string { return "/users/" + orgID(c.t.user.ID) + rest }

// onOrg decides by the actions in turn on the target organisation; the
// first refusal is the answer (a handler that reads the organisation
// before it changes it).
func onOrg(acts ...policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error {
		for _, act := range acts {
			if err := c.check(act, c.t.org.Resource()); err != nil {
				return err
			}
		}
		return nil
	}
}

// onUser decides by the action on the target's user.
func onUser(act policy.Action) func(c *wmCase) error {
	return func(c *wmCase) error { return c.check(act, c.t.user.Resource()) }
}

// onOwn decides by the action on the actor's own organisation: pages that
// do not depend on the target.
func onOwn(act policy.Action, tlp policy.TLP) func(c *wmCase) error {
	return func(c *wmCase) error {
		return c.check(act, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: tlp})
	}
}

// onSelf decides the pages of one's own account.
func onSelf(c *wmCase) error { return c.check(policy.SelfManage, c.a.user.Resource()) }

func wmGet(path func(c *wmCase) string) func(*testing.T, *wmCase) wmReq {
	return func(_ *testing.T, c *wmCase) wmReq { return wmReq{method: http.MethodGet, path: path(c)} }
}

func wmPost(path func(c *wmCase) string, form func(c *wmCase) url.Values) func(*testing.T, *wmCase) wmReq {
	return func(_ *testing.T, c *wmCase) wmReq {
		f := url.Values{}
		if form != nil {
			f = form(c)
		}
		return wmReq{method: http.MethodPost, path: path(c), form: f}
	}
}

func wmPath(p string) func(*wmCase) string { return func(*wmCase) string { return p } }

// contains is a seen function: the answer holds the marker.
func contains(marker func(c *wmCase) string) func(*testing.T, *wmCase, orgPage) bool {
	return func(_ *testing.T, c *wmCase, p orgPage) bool { return strings.Contains(p.Body, marker(c)) }
}

// resync reads a page for the CSRF token of a session that changed.
func resync(t *testing.T, c *wmCase) {
	if !c.anon {
		if p := c.a.b.get("/profile"); p.Status != http.StatusOK {
			t.Fatalf("%s: after a new session, GET /profile: %d", c.a.name, p.Status)
		}
	}
}

// freshLogin signs the user in on a new browser and returns it with the
// answer to the login form.
func (m *webMatrix) freshLogin(t *testing.T, username string) (*orgBrowser, orgPage) {
	b := newOrgBrowser(t, m.e)
	b.get("/login")
	return b, b.post("/login", url.Values{"username": {username}, "password": {apptest.Password}, "next": {"/"}})
}

// enableTOTP switches the actor's second factor on through the service and
// returns its secret.
func (m *webMatrix) enableTOTP(t *testing.T, a *wmActor) string {
	t.Helper()
	enr, err := m.e.App.Auth.BeginTOTP(m.ctx, a.actor)
	if err != nil {
		t.Fatalf("%s: begin totp: %v", a.name, err)
	}
	code, err := totp.GenerateCode(enr.Secret, m.e.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.e.App.Auth.ConfirmTOTP(m.ctx, a.actor, code); err != nil {
		t.Fatalf("%s: confirm totp: %v", a.name, err)
	}
	return enr.Secret
}

func disableTOTP(t *testing.T, c *wmCase) {
	if c.anon {
		return
	}
	if err := c.m.e.App.Auth.DisableTOTP(c.m.ctx, c.m.e.Sys, c.a.user.ID, ""); err != nil {
		t.Fatalf("%s: disable totp: %v", c.a.name, err)
	}
}

// orgForm is a valid organisation form for the target as it stands, with
// a new address.
func (c *wmCase) orgForm() url.Values {
	o := c.t.org
	f := url.Values{"code": {o.Code}, "name": {o.Name}, "tlp": {string(o.TLP)}, "active": {"1"},
		"address": {fmt.Sprintf("Số %d phố Tràng Tiền", c.n)}}
	if o.ParentID != 0 {
		f.Set("parent_id", orgID(o.ParentID))
	}
	for _, r := range o.Roles {
		f.Add("roles", string(r))
	}
	return f
}

// wmRoutes is the table route → how to call it and which policy decision
// it must follow. Every route of routes.go must have an entry
// (TestWebMatrixCoversEveryRoute).
var wmRoutes = map[string]wmRoute{
	"GET /static/": {
		req:   wmGet(wmPath("/static/app.css")),
		ctype: "text/css",
		anon:  wmAnon{status: http.StatusOK},
	},

	// Signing in and out: public, whoever holds the browser.
	"GET /login": {
		req:  wmGet(wmPath("/login")),
		anon: wmAnon{status: http.StatusOK}, // a signed-in actor is sent home
	},
	"POST /login": {
		req: func(t *testing.T, c *wmCase) wmReq {
			form := url.Values{"password": {apptest.Password}, "next": {"/"}}
			if c.anon {
				// A visitor signs in (as the target's user) on a new browser.
				b := newOrgBrowser(t, c.m.e)
				b.get("/login")
				form.Set("username", c.t.user.Username)
				return wmReq{method: http.MethodPost, path: "/login", form: form, b: b}
			}
			form.Set("username", c.a.user.Username)
			return wmReq{method: http.MethodPost, path: "/login", form: form}
		},
		anon:  wmAnon{status: http.StatusSeeOther, location: "/"},
		after: resync,
	},
	"GET /login/mfa": {
		req:  wmGet(wmPath("/login/mfa")),
		anon: wmAnon{status: http.StatusSeeOther, location: "/login"},
	},
	"POST /login/mfa": {
		// The actor, with a second factor, signs in on a new browser and
		// gives the code.
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/login/mfa", form: url.Values{"code": {"123456"}}}
			}
			secret := c.m.enableTOTP(t, c.a)
			c.m.e.Clock.Advance(30 * time.Second) // the enrolment used this step's code
			b, p := c.m.freshLogin(t, c.a.user.Username)
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login/mfa") {
				t.Fatalf("%s: login with a second factor: %d to %q", c.a.name, p.Status, p.Location)
			}
			code, err := totp.GenerateCode(secret, c.m.e.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: "/login/mfa", form: url.Values{"code": {code}, "next": {"/"}}, b: b}
		},
		anon:  wmAnon{status: http.StatusSeeOther, location: "/login"},
		after: disableTOTP,
	},
	"POST /logout": {
		// On a session of its own, so that the actor's browser stays in.
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/logout", form: url.Values{}}
			}
			b, p := c.m.freshLogin(t, c.a.user.Username)
			if p.Status != http.StatusSeeOther {
				t.Fatalf("%s: login: %d", c.a.name, p.Status)
			}
			return wmReq{method: http.MethodPost, path: "/logout", form: url.Values{}, b: b}
		},
		anon: wmAnon{status: http.StatusSeeOther, location: "/login"},
	},
	"POST /lang": {
		req: wmPost(wmPath("/lang"), func(c *wmCase) url.Values {
			if c.anon {
				return url.Values{"lang": {"vi"}, "next": {"/login"}}
			}
			return url.Values{"lang": {"vi"}, "next": {"/profile"}}
		}),
		anon: wmAnon{status: http.StatusSeeOther, location: "/login"},
	},

	// Home.
	"GET /{$}": {
		req:    wmGet(wmPath("/")),
		decide: onOwn(policy.OrgRead, policy.TLPGreen),
	},

	// Organisations.
	"GET /orgs": {
		req:    wmGet(func(c *wmCase) string { return "/orgs?q=" + url.QueryEscape(c.t.org.Code) }),
		decide: onOwn(policy.OrgRead, policy.TLPGreen),
		shows:  onOrg(policy.OrgRead),
		seen:   contains(func(c *wmCase) string { return `<td><a href="` + c.orgPath("") + `">` }),
	},
	"GET /orgs.csv": {
		req:    wmGet(func(c *wmCase) string { return "/orgs.csv?q=" + url.QueryEscape(c.t.org.Code) }),
		decide: onOwn(policy.OrgRead, policy.TLPGreen),
		ctype:  "text/csv",
		shows:  onOrg(policy.OrgRead),
		seen:   contains(func(c *wmCase) string { return "," + c.t.org.Code + "," }),
	},
	"GET /orgs.xlsx": {
		req:    wmGet(func(c *wmCase) string { return "/orgs.xlsx?q=" + url.QueryEscape(c.t.org.Code) }),
		decide: onOwn(policy.OrgRead, policy.TLPGreen),
		ctype:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	},
	"GET /orgs/new": {
		req:    wmGet(wmPath("/orgs/new")),
		decide: onOwn(policy.OrgCreate, policy.TLPGreen),
	},
	"POST /orgs": {
		// A new member under the target.
		req: wmPost(wmPath("/orgs"), func(c *wmCase) url.Values {
			return url.Values{"code": {fmt.Sprintf("WM-NEW-%d", c.n)}, "name": {fmt.Sprintf("Đơn vị mới %d", c.n)},
				"roles": {string(org.RoleSystemOwner)}, "tlp": {string(policy.TLPGreen)},
				"parent_id": {orgID(c.t.org.ID)}, "active": {"1"}}
		}),
		decide: onOrg(policy.OrgCreate),
	},
	"GET /orgs/import": {
		req:    wmGet(wmPath("/orgs/import")),
		decide: onOwn(policy.OrgImport, policy.TLPGreen),
	},
	"POST /orgs/import": {
		// A file with one member under the target: the import is the
		// actor's right, each row is creating under its parent.
		req: func(_ *testing.T, c *wmCase) wmReq {
			csv := fmt.Sprintf("code,name,roles,parent_code\nWM-IMP-%d,Đơn vị nhập %d,system_owner,%s\n", c.n, c.n, c.t.org.Code)
			return wmReq{method: http.MethodPost, path: "/orgs/import", form: url.Values{"kind": {org.ImportOrgs}},
				file: []byte(csv)}
		},
		decide: onOwn(policy.OrgImport, policy.TLPGreen),
		shows:  onOrg(policy.OrgCreate),
		seen: func(_ *testing.T, c *wmCase, _ orgPage) bool {
			_, err := c.m.e.App.Orgs.GetByCode(c.m.ctx, c.m.e.Sys, fmt.Sprintf("WM-IMP-%d", c.n))
			return err == nil
		},
	},
	"GET /orgs/{id}": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("") }),
		decide: onOrg(policy.OrgRead),
	},
	"GET /orgs/{id}/edit": {
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/edit") }),
		decide: onOrg(policy.OrgRead, policy.OrgUpdate),
	},
	"POST /orgs/{id}": {
		req:    wmPost(func(c *wmCase) string { return c.orgPath("") }, (*wmCase).orgForm),
		decide: onOrg(policy.OrgRead, policy.OrgUpdate),
	},
	"POST /orgs/{id}/contacts": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/contacts") }, func(c *wmCase) url.Values {
			return url.Values{"kind": {org.ContactBackup}, "name": {fmt.Sprintf("Đầu mối %d", c.n)},
				"email": {fmt.Sprintf("dm%d@matrix.vn", c.n)}}
		}),
		decide: onOrg(policy.ContactWrite),
	},
	"POST /orgs/{id}/contacts/{cid}": {
		req: wmPost(func(c *wmCase) string { return c.orgPath("/contacts/" + orgID(c.t.contactID)) }, func(c *wmCase) url.Values {
			return url.Values{"kind": {org.ContactPrimary}, "name": {"Đầu mối chính"}, "email": {c.t.contactEmail},
				"title": {fmt.Sprintf("Chức vụ %d", c.n)}}
		}),
		decide: onOrg(policy.ContactWrite),
	},
	"POST /orgs/{id}/contacts/{cid}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			ct, err := c.m.e.App.Orgs.SaveContact(c.m.ctx, c.m.e.Sys, c.t.org.ID, org.ContactInput{Kind: org.ContactIntake,
				Name: fmt.Sprintf("Xoá %d", c.n), Email: fmt.Sprintf("x%d@matrix.vn", c.n)})
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: c.orgPath("/contacts/" + orgID(ct.ID) + "/delete"), form: url.Values{}}
		},
		decide: onOrg(policy.ContactWrite),
	},
	"GET /orgs/{id}/contacts/history": {
		req: wmGet(func(c *wmCase) string { return c.orgPath("/contacts/history") }),
		// The organisation must be readable; then those who keep its
		// contacts, and those who audit it.
		decide: func(c *wmCase) error {
			if err := c.check(policy.OrgRead, c.t.org.Resource()); err != nil {
				return err
			}
			err := c.check(policy.ContactWrite, c.t.org.Resource())
			if err != nil && c.check(policy.AuditRead, c.t.org.Resource()) == nil {
				return nil
			}
			return err
		},
	},
	"GET /orgs/{id}/ranges": {
		// Only a redirect to the ranges on the organisation page, which
		// decides.
		req:    wmGet(func(c *wmCase) string { return c.orgPath("/ranges") }),
		follow: true,
		decide: onOrg(policy.OrgRead, policy.RangeRead),
	},
	"POST /orgs/{id}/ranges": {
		// One field takes a range, an AS number or a domain: each in turn.
		req: wmPost(func(c *wmCase) string { return c.orgPath("/ranges") }, func(c *wmCase) url.Values {
			v := fmt.Sprintf("100.100.%d.%d/32", c.n>>8&255, c.n&255)
			switch c.n % 3 {
			case 1:
				v = fmt.Sprintf("AS%d", 4_200_000_000+c.n)
			case 2:
				v = fmt.Sprintf("p%d.matrix.vn", c.n)
			}
			return url.Values{"value": {v}, "note": {fmt.Sprintf("ghi chú %d", c.n)}}
		}),
		decide: onOrg(policy.RangeWrite),
	},
	"POST /orgs/{id}/ranges/{rid}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r, err := c.m.e.App.Orgs.AddRange(c.m.ctx, c.m.e.Sys, c.t.org.ID, fmt.Sprintf("100.101.%d.%d/32", c.n>>8&255, c.n&255), "")
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: c.orgPath("/ranges/" + orgID(r.ID) + "/delete"), form: url.Values{}}
		},
		decide: onOrg(policy.RangeWrite),
	},
	"POST /orgs/{id}/asns/{rid}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r, err := c.m.e.App.Orgs.AddASN(c.m.ctx, c.m.e.Sys, c.t.org.ID, fmt.Sprint(4_210_000_000+c.n), "")
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: c.orgPath("/asns/" + orgID(r.ID) + "/delete"), form: url.Values{}}
		},
		decide: onOrg(policy.RangeWrite),
	},
	"POST /orgs/{id}/domains/{rid}/delete": {
		req: func(t *testing.T, c *wmCase) wmReq {
			r, err := c.m.e.App.Orgs.AddDomain(c.m.ctx, c.m.e.Sys, c.t.org.ID, fmt.Sprintf("d%d.matrix.vn", c.n), "")
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: c.orgPath("/domains/" + orgID(r.ID) + "/delete"), form: url.Values{}}
		},
		decide: onOrg(policy.RangeWrite),
	},
	"GET /orgs/overlaps": {
		req:    wmGet(wmPath("/orgs/overlaps")),
		decide: onOwn(policy.RangeRead, policy.TLPGreen),
	},
	"GET /whois": {
		req:    wmGet(func(c *wmCase) string { return fmt.Sprintf("/whois?q=AS%d", c.t.asn) }),
		decide: onOwn(policy.Whois, policy.TLPGreen),
		shows:  onOrg(policy.Whois),
		seen:   contains(func(c *wmCase) string { return `<a href="` + c.orgPath("") + `"><strong>` }),
	},

	// People.
	"GET /users": {
		req: wmGet(func(c *wmCase) string { return "/users?q=" + url.QueryEscape(c.t.user.Username) }),
		// Everyone may list: administrators and auditors their scope, the
		// others themselves.
		decide: onSelf,
		shows:  onUser(policy.UserRead),
		seen:   contains(func(c *wmCase) string { return `<td><a href="` + c.userPath("") + `">` }),
	},
	"GET /users/new": {
		req:    wmGet(wmPath("/users/new")),
		decide: onOwn(policy.UserWrite, policy.TLPAmber),
	},
	"POST /users": {
		req: wmPost(wmPath("/users"), func(c *wmCase) url.Values {
			return url.Values{"org_id": {orgID(c.t.org.ID)}, "username": {fmt.Sprintf("wm.new%d", c.n)},
				"display_name": {fmt.Sprintf("Người mới %d", c.n)}, "roles": {string(policy.RoleViewer)}, "locale": {"vi"},
				"password": {apptest.Password}}
		}),
		decide: func(c *wmCase) error {
			return c.check(policy.UserWrite, policy.Resource{OwnerOrg: c.t.org.ID, TLP: policy.TLPAmber})
		},
	},
	"GET /users/{id}": {
		req:    wmGet(func(c *wmCase) string { return c.userPath("") }),
		decide: onUser(policy.UserRead),
	},
	"POST /users/{id}": {
		req: wmPost(func(c *wmCase) string { return c.userPath("") }, func(c *wmCase) url.Values {
			return url.Values{"org_id": {orgID(c.t.user.OrgID)}, "display_name": {fmt.Sprintf("Người dùng %d", c.n)},
				"roles": {string(policy.RoleViewer)}, "locale": {"vi"}}
		}),
		decide: onUser(policy.UserWrite),
	},
	"POST /users/{id}/disable": {
		req:    wmPost(func(c *wmCase) string { return c.userPath("/disable") }, nil),
		decide: onUser(policy.UserWrite),
	},
	"POST /users/{id}/enable": {
		req:    wmPost(func(c *wmCase) string { return c.userPath("/enable") }, nil),
		decide: onUser(policy.UserWrite),
	},
	"POST /users/{id}/password": {
		req: wmPost(func(c *wmCase) string { return c.userPath("/password") }, func(*wmCase) url.Values {
			return url.Values{"password": {apptest.Password}}
		}),
		decide: onUser(policy.UserWrite),
	},
	"POST /users/{id}/sessions/revoke": {
		req:    wmPost(func(c *wmCase) string { return c.userPath("/sessions/revoke") }, nil),
		decide: onUser(policy.UserWrite),
	},
	"POST /users/{id}/totp/disable": {
		req:    wmPost(func(c *wmCase) string { return c.userPath("/totp/disable") }, nil),
		decide: onUser(policy.UserWrite),
	},

	// One's own account: every actor, whatever the target.
	"GET /profile": {
		req:    wmGet(wmPath("/profile")),
		decide: onSelf,
	},
	"POST /profile": {
		req: wmPost(wmPath("/profile"), func(c *wmCase) url.Values {
			return url.Values{"display_name": {fmt.Sprintf("Tên hiển thị %d", c.n)}, "locale": {"vi"}}
		}),
		decide: onSelf,
	},
	"POST /profile/password": {
		req: wmPost(wmPath("/profile/password"), func(*wmCase) url.Values {
			return url.Values{"current": {apptest.Password}, "password": {apptest.Password}, "confirm": {apptest.Password}}
		}),
		decide: onSelf,
	},
	"GET /profile/totp": {
		req:    wmGet(wmPath("/profile/totp")),
		decide: onSelf,
	},
	"POST /profile/totp": {
		// The code of a new authenticator, read from the enrolment page.
		req: func(t *testing.T, c *wmCase) wmReq {
			if c.anon {
				return wmReq{method: http.MethodPost, path: "/profile/totp", form: url.Values{"code": {"123456"}}}
			}
			p := c.a.b.get("/profile/totp?new=1")
			sm, um := peopleSecretRe.FindStringSubmatch(p.Body), peopleURLRe.FindStringSubmatch(p.Body)
			if p.Status != http.StatusOK || sm == nil || um == nil {
				t.Fatalf("%s: enrolment page: %d, no secret", c.a.name, p.Status)
			}
			code, err := totp.GenerateCode(strings.ReplaceAll(sm[1], " ", ""), c.m.e.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: "/profile/totp",
				form: url.Values{"code": {code}, "url": {html.UnescapeString(um[1])}}}
		},
		decide: onSelf,
		after:  disableTOTP,
	},
	"POST /profile/totp/disable": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if !c.anon {
				c.m.enableTOTP(t, c.a)
			}
			return wmReq{method: http.MethodPost, path: "/profile/totp/disable", form: url.Values{"password": {apptest.Password}}}
		},
		decide: onSelf,
		after:  disableTOTP,
	},
	"POST /profile/recovery-codes": {
		req: func(t *testing.T, c *wmCase) wmReq {
			if !c.anon {
				c.m.enableTOTP(t, c.a)
			}
			return wmReq{method: http.MethodPost, path: "/profile/recovery-codes", form: url.Values{}}
		},
		decide: onSelf,
		after:  disableTOTP,
	},
	"GET /profile/tokens": {
		req:    wmGet(wmPath("/profile/tokens")),
		decide: onSelf,
	},
	"POST /profile/tokens": {
		req: wmPost(wmPath("/profile/tokens"), func(c *wmCase) url.Values {
			return url.Values{"name": {fmt.Sprintf("ma trận %d", c.n)}, "scopes": {auth.ScopeRead}, "days": {"30"}}
		}),
		decide: onSelf,
	},
	"POST /profile/tokens/{id}/revoke": {
		req: func(t *testing.T, c *wmCase) wmReq {
			tk, _, err := c.m.e.App.Auth.CreateToken(c.m.ctx, c.m.e.Sys, c.a.user.ID, fmt.Sprintf("r%d", c.n),
				[]string{auth.ScopeRead}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return wmReq{method: http.MethodPost, path: "/profile/tokens/" + orgID(tk.ID) + "/revoke", form: url.Values{}}
		},
		decide: onSelf,
	},

	// Incidents (helpers in web_incidents_test.go): the incident of the
	// target, reported by it under its label.
	"GET /incidents": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: "/incidents?q=" + url.QueryEscape(c.incident(t).Ref)}
		},
		decide: func(*wmCase) error { return nil },
		shows:  onIncident(policy.IncidentRead),
		seen: func(t *testing.T, c *wmCase, p orgPage) bool {
			return strings.Contains(p.Body, "<code>"+c.incident(t).Ref+"</code>")
		},
	},
	"GET /incidents.csv": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: "/incidents.csv?q=" + url.QueryEscape(c.incident(t).Ref)}
		},
		decide: func(*wmCase) error { return nil },
		ctype:  "text/csv",
		shows:  onIncident(policy.IncidentRead),
		seen: func(t *testing.T, c *wmCase, p orgPage) bool {
			return strings.Contains(p.Body, ","+c.incident(t).Ref+",")
		},
	},
	"GET /incidents.xlsx": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: "/incidents.xlsx?q=" + url.QueryEscape(c.incident(t).Ref)}
		},
		decide: func(*wmCase) error { return nil },
		ctype:  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	},
	"GET /incidents/new": {
		req:    wmGet(wmPath("/incidents/new")),
		decide: onOwn(policy.IncidentReport, policy.TLPGreen),
	},
	"POST /incidents": {
		// For the actor's own organisation: reporting on behalf has
		// its own rules, tested in the incident package.
		req: wmPost(wmPath("/incidents"), func(c *wmCase) url.Values {
			f := incForm(fmt.Sprintf("Sự cố %d", c.n))
			f.Set("reporter_org_id", fmt.Sprint(c.a.user.OrgID))
			return f
		}),
		decide: onOwn(policy.IncidentReport, policy.TLPGreen),
	},
	"GET /incidents/{ref}": {
		req:    func(t *testing.T, c *wmCase) wmReq { return wmReq{method: http.MethodGet, path: c.incPath(t, "")} },
		decide: onIncident(policy.IncidentRead),
	},
	"GET /incidents/{ref}/form03": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodGet, path: c.incPath(t, "/form03")}
		},
		decide: onIncident(policy.IncidentRead),
	},
	"POST /incidents/{ref}/transition": {
		// received → closed is never allowed: 409 for whoever may work
		// the incident, nothing changes.
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/transition"), form: url.Values{"to": {"closed"}}}
		},
		decide: onIncident(policy.IncidentWork),
	},
	"POST /incidents/{ref}/classify": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/classify"), form: url.Values{"severity": {"high"}}}
		},
		decide: onIncident(policy.IncidentClassify),
	},
	"POST /incidents/{ref}/serious/propose": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/serious/propose"), form: url.Values{"reason": {fmt.Sprintf("Lý do %d", c.n)}}}
		},
		// incident.classify, and the actor's organisation must be the
		// national coordinator: none of the matrix's classifiers is.
		decide: onIncidentOrgRole(policy.IncidentClassify),
	},
	"POST /incidents/{ref}/serious/decide": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/serious/decide"), form: url.Values{"accept": {"0"}}}
		},
		// incident.decide_serious, and the actor's organisation must be
		// the standing body: no organisation of the matrix is.
		decide: onIncidentOrgRole(policy.IncidentDecideSerious),
	},
	"POST /incidents/{ref}/comments": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/comments"), form: url.Values{"text": {fmt.Sprintf("Ghi chú %d", c.n)}}}
		},
		decide: onIncident(policy.IncidentWork),
	},
	"POST /incidents/{ref}/reports": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, "/reports"),
				form: url.Values{"kind": {"progress"}, "summary": {fmt.Sprintf("Tiến độ %d", c.n)}}}
		},
		decide: onIncident(policy.IncidentReport),
	},
	"POST /incidents/{ref}/reports/{id}/ack": {
		req: func(t *testing.T, c *wmCase) wmReq {
			return wmReq{method: http.MethodPost, path: c.incPath(t, fmt.Sprintf("/reports/%d/ack", c.systemReport(t))), form: url.Values{}}
		},
		decide: onIncident(policy.IncidentWork),
	},

	// The audit log, filtered to the target organisation.
	"GET /audit": {
		req:    wmGet(func(c *wmCase) string { return "/audit?org=" + orgID(c.t.org.ID) }),
		decide: auditDecide,
	},
	"GET /audit.csv": {
		req:    wmGet(func(c *wmCase) string { return "/audit.csv?entity=organisation&org=" + orgID(c.t.org.ID) }),
		decide: auditDecide,
		ctype:  "text/csv",
	},
}

// auditDecide: the audit log is for those who audit the actor's own
// organisation; filtered to an organisation, for those who may audit that
// one, whose entries carry its data under its label.
func auditDecide(c *wmCase) error {
	if err := c.check(policy.AuditRead, policy.Resource{OwnerOrg: c.a.user.OrgID, TLP: policy.TLPAmber}); err != nil {
		return err
	}
	return c.check(policy.AuditRead, c.t.org.Resource())
}

// wmKnownBug is a case where the UI does not answer what policy decides
// and the fault lies outside internal/web.
type wmKnownBug struct {
	why     string
	applies func(c *wmCase) bool
}

// knownBugs are left out of the assertion (and reported when they no longer
// reproduce), by route. Empty: add a case here only with the bug it stands
// for, and remove it with the fix.
var knownBugs = map[string]wmKnownBug{}

var wmRouteRe = regexp.MustCompile(`mux\.Handle\("([A-Z]+ /[^"]*)"`)

// addWMRoutes adds an area's entries to the matrix; call it from an init
// function in the area's test file.
func addWMRoutes(m map[string]wmRoute) {
	for k, v := range m {
		if _, dup := wmRoutes[k]; dup {
			panic("web matrix: route entry added twice: " + k)
		}
		wmRoutes[k] = v
	}
}

// wmRouteKeys reads the routes from routes.go and every area's
// routes_*.go, in their order.
func wmRouteKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("routes*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no routes*.go: %v", err)
	}
	var keys []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range wmRouteRe.FindAllStringSubmatch(string(src), -1) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) < 40 {
		t.Fatalf("only %d routes read from routes.go: is the pattern still right?", len(keys))
	}
	return keys
}

// Every route of routes.go has an entry in the matrix, and every entry is
// a route.
func TestWebMatrixCoversEveryRoute(t *testing.T) {
	routed := map[string]bool{}
	for _, k := range wmRouteKeys(t) {
		if routed[k] {
			t.Errorf("routes.go registers %s twice", k)
		}
		routed[k] = true
		if _, ok := wmRoutes[k]; !ok {
			t.Errorf("route %s has no entry in wmRoutes: add how to call it and which policy decision it follows", k)
		}
	}
	for k := range wmRoutes {
		if !routed[k] {
			t.Errorf("wmRoutes has %s, which routes.go does not register", k)
		}
	}
	for k := range knownBugs {
		if !routed[k] {
			t.Errorf("knownBugs has %s, which routes.go does not register", k)
		}
	}
}

var wmTLPs = []policy.TLP{policy.TLPClear, policy.TLPGreen, policy.TLPAmber, policy.TLPAmberStrict}

func wmTLPCode(l policy.TLP) string { return strings.ReplaceAll(string(l), "+", "-") }

func TestWebAuthorizationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("matrix: skipped in -short")
	}
	keys := wmRouteKeys(t)
	e := apptest.StartSQLite(t)
	ctx := context.Background()
	m := &webMatrix{e: e, ctx: ctx}
	mkOrg := func(code, name string, parent int64, tlp policy.TLP, role org.Role) org.Org {
		o, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: code, Name: name, ParentID: parent, Roles: []org.Role{role},
			Active: true, TLP: tlp})
		if err != nil {
			t.Fatalf("org %s: %v", code, err)
		}
		return o
	}
	nc := mkOrg("WM-NC", "Trung tâm Điều phối quốc gia", 0, policy.TLPGreen, org.RoleNationalCoordinator)
	prov := mkOrg("WM-HN", "Sở Khoa học và Công nghệ Hà Nội", nc.ID, policy.TLPGreen, org.RoleProvincialResponseUnit)

	// The targets: the province itself (its label changes between rounds),
	// a member under it and a sibling province, for each TLP.
	seq := 0
	target := func(scope string, o org.Org) *wmTarget {
		seq++
		tg := &wmTarget{scope: scope, org: o, asn: int64(64_600 + seq), contactEmail: fmt.Sprintf("primary%d@matrix.vn", seq)}
		tg.user = e.User(o.ID, fmt.Sprintf("wm.target%d", seq), policy.RoleViewer)
		c, err := e.App.Orgs.SaveContact(ctx, e.Sys, o.ID, org.ContactInput{Kind: org.ContactPrimary, Name: "Đầu mối chính",
			Email: tg.contactEmail})
		if err != nil {
			t.Fatal(err)
		}
		tg.contactID = c.ID
		if _, err := e.App.Orgs.AddRange(ctx, e.Sys, o.ID, fmt.Sprintf("198.18.%d.0/24", seq), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Orgs.AddASN(ctx, e.Sys, o.ID, fmt.Sprint(tg.asn), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Orgs.AddDomain(ctx, e.Sys, o.ID, fmt.Sprintf("t%d.matrix.vn", seq), ""); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	own := target("own", prov)
	child, outside := map[policy.TLP]*wmTarget{}, map[policy.TLP]*wmTarget{}
	for _, l := range wmTLPs {
		// Names that are not part of one another, for the check that no
		// answer names an organisation the actor may not know.
		child[l] = target("child", mkOrg("WM-HN-"+wmTLPCode(l), "Thành viên ("+wmTLPCode(l)+")", prov.ID, l,
			org.RoleSystemOwner))
		outside[l] = target("outside", mkOrg("WM-DN-"+wmTLPCode(l), "Sở tỉnh bạn ("+wmTLPCode(l)+")", nc.ID, l,
			org.RoleProvincialResponseUnit))
	}

	var actors []*wmActor
	addActor := func(name string, orgID int64, role policy.Role) {
		u := e.User(orgID, "wm."+name, role)
		a, err := e.App.Auth.ActorFor(ctx, u, "")
		if err != nil {
			t.Fatal(err)
		}
		b := newOrgBrowser(t, e)
		b.login(u.Username)
		actors = append(actors, &wmActor{name: name, user: u, actor: a, b: b})
	}
	for _, r := range policy.Roles {
		addActor("hn."+string(r), prov.ID, r)
	}
	addActor("nc.admin", nc.ID, policy.RoleAdmin)
	addActor("nc.auditor", nc.ID, policy.RoleAuditor)
	m.anon = newOrgBrowser(t, e)
	m.anon.get("/login") // the visitor's pre-session CSRF token

	var st wmStats
	start := time.Now()
	for _, l := range wmTLPs {
		// The province's own label for this round.
		in := org.InputOf(prov)
		in.TLP = l
		p, err := e.App.Orgs.Update(ctx, e.Sys, prov.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		own.org = p
		targets := []*wmTarget{own, child[l], outside[l]}
		t.Run(wmTLPCode(l), func(t *testing.T) {
			for _, k := range keys {
				rt, ok := wmRoutes[k]
				if !ok {
					continue // TestWebMatrixCoversEveryRoute reports it
				}
				t.Run(k, func(t *testing.T) {
					for _, a := range actors {
						a.b.t = t
						for _, tg := range targets {
							m.n++
							m.run(t, k, rt, &wmCase{m: m, a: a, t: tg, n: m.n}, &st)
						}
					}
					m.anon.t = t
					for _, tg := range targets {
						m.n++
						m.run(t, k, rt, &wmCase{m: m, a: actors[0], anon: true, t: tg, n: m.n}, &st)
					}
				})
			}
		})
	}
	t.Logf("web matrix: %d cases (%d allowed, %d denied, %d anonymous, %d known bugs) over %d routes × %d actors × 3 scopes × %d TLPs in %v",
		st.cases, st.allowed, st.denied, st.anon, st.known, len(keys), len(actors), len(wmTLPs),
		time.Since(start).Round(time.Millisecond))
}

type wmStats struct{ cases, allowed, denied, anon, known int }

var wmErrorPageRe = regexp.MustCompile(`<span class="muted">\(\d{3}\)</span></h1>`)

// wmPassed reports whether an answer shows the request passed policy: a
// page, a file, a redirect other than to the login, or a form shown again
// with what is wrong in it.
func wmPassed(p orgPage) bool {
	switch {
	case p.Status >= 200 && p.Status < 300:
		return true
	case p.Status == http.StatusSeeOther || p.Status == http.StatusFound:
		return p.Location != "" && !strings.HasPrefix(p.Location, "/login?next=")
	case p.Status == http.StatusBadRequest || p.Status == http.StatusConflict || p.Status == http.StatusUnprocessableEntity:
		return !wmErrorPageRe.MatchString(p.Body)
	}
	return false
}

// verdict compares the answer with policy's decision; "" when they agree.
func (m *webMatrix) verdict(t *testing.T, rt wmRoute, c *wmCase, p orgPage) string {
	if p.Status >= 500 {
		return fmt.Sprintf("answers %d, never 5xx", p.Status)
	}
	if c.anon {
		want := rt.anon
		switch {
		case want.status == 0 && (p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?next=")):
			return fmt.Sprintf("a visitor gets %d (to %q), want a redirect to /login?next=…", p.Status, p.Location)
		case want.status != 0 && (p.Status != want.status || p.Location != want.location):
			return fmt.Sprintf("a visitor gets %d (to %q), want %d (to %q)", p.Status, p.Location, want.status, want.location)
		}
		return ""
	}
	// No answer names an organisation the actor may not know exists: its
	// label covers its name too.
	if errs.Is(c.check(policy.OrgRead, c.t.org.Resource()), errs.KindNotFound) && strings.Contains(p.Body, c.t.org.Name) {
		return fmt.Sprintf("answers %d naming %q, which policy hides from the actor", p.Status, c.t.org.Name)
	}
	var want error
	if rt.decide != nil {
		want = rt.decide(c)
	}
	switch {
	case want == nil:
		if !wmPassed(p) {
			return fmt.Sprintf("policy allows, the UI answers %d (to %q)", p.Status, p.Location)
		}
		if ct := p.Header.Get("Content-Type"); rt.ctype != "" && p.Status == http.StatusOK && !strings.HasPrefix(ct, rt.ctype) {
			return fmt.Sprintf("content type %q, want %s", ct, rt.ctype)
		}
		if rt.seen != nil && p.Status == http.StatusOK {
			shown, should := rt.seen(t, c, p), rt.shows(c) == nil
			if shown != should {
				return fmt.Sprintf("the target is shown: %v; policy says it may be: %v (%v)", shown, should, rt.shows(c))
			}
		}
	case errs.Is(want, errs.KindNotFound):
		if p.Status != http.StatusNotFound {
			return fmt.Sprintf("policy hides the target (not found), the UI answers %d (to %q)", p.Status, p.Location)
		}
	default:
		if p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
			return fmt.Sprintf("policy forbids (%v), the UI answers %d (to %q)", want, p.Status, p.Location)
		}
	}
	return ""
}

// run sends the case's request and compares the answer with policy's.
func (m *webMatrix) run(t *testing.T, key string, rt wmRoute, c *wmCase, st *wmStats) {
	t.Helper()
	rq := rt.req(t, c)
	b := rq.b
	switch {
	case b != nil:
	case c.anon:
		b = m.anon
	default:
		b = c.a.b
	}
	var p orgPage
	switch {
	case rq.file != nil:
		p = b.upload(rq.path, rq.form, "thanh-vien.csv", rq.file)
	case rq.method == http.MethodGet:
		p = b.get(rq.path)
	default:
		p = b.post(rq.path, rq.form)
	}
	if rt.follow && !c.anon && p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location, "/") {
		loc, _, _ := strings.Cut(p.Location, "#")
		p = b.get(loc)
	}
	if rt.after != nil {
		rt.after(t, c)
	}
	who := c.a.name
	if c.anon {
		who = "visitor"
	}
	label := fmt.Sprintf("%s on %s %s (%s): %s %s", who, c.t.scope, c.t.org.TLP, c.t.org.Code, rq.method, rq.path)
	msg := m.verdict(t, rt, c, p)
	st.cases++
	switch {
	case c.anon:
		st.anon++
	case rt.decide == nil || rt.decide(c) == nil:
		st.allowed++
	default:
		st.denied++
	}
	if bug, ok := knownBugs[key]; ok && !c.anon && bug.applies(c) {
		if msg == "" {
			t.Logf("%s: known bug no longer reproduces, remove it from knownBugs: %s", label, bug.why)
		} else {
			st.known++
		}
		return
	}
	if msg != "" {
		body := p.Body
		if len(body) > 600 {
			body = body[:600] + "…"
		}
		t.Errorf("%s: %s\n%s", label, msg, body)
	}
}
