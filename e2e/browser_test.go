// Package e2e drives certnet in Debian's Chromium, as a person would.
package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"certnet/internal/apptest"
	"certnet/internal/org"
	"certnet/internal/policy"
)

// browser returns a chromedp context on Debian's Chromium, or skips (fails
// in CI) when CERTNET_TEST_BROWSER does not name one.
func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	path := os.Getenv("CERTNET_TEST_BROWSER")
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but CERTNET_TEST_BROWSER is empty: the browser tests must run in CI")
		}
		t.Skip("browser tests skipped: set CERTNET_TEST_BROWSER=/usr/bin/chromium to run them")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	return ctx, func() { cancelT(); cancelC(); cancelA() }
}

func TestLoginWithSecondFactorSearchAndWhois(t *testing.T) {
	ctx, cancel := browser(t)
	defer cancel()
	e := apptest.StartSQLite(t)
	bg := context.Background()

	nc := e.Org("VNCERT", "Trung tâm Điều phối Ứng cứu Sự cố Quốc gia", 0, org.RoleNationalCoordinator)
	hn := e.Org("HNI-RU", "Sở Khoa học và Công nghệ Hà Nội", nc.ID, org.RoleProvincialResponseUnit)
	e.Org("DNG-RU", "Sở Khoa học và Công nghệ Đà Nẵng", nc.ID, org.RoleProvincialResponseUnit)
	if _, err := e.App.Orgs.AddRange(bg, e.Sys, hn.ID, "203.0.113.0/24", "cổng thông tin"); err != nil {
		t.Fatal(err)
	}
	u := e.User(nc.ID, "truc.ban", policy.RoleCoordinator)

	// Enrol a second factor for the user, as they would on their profile.
	actor, err := e.App.Auth.ActorFor(bg, u, "")
	if err != nil {
		t.Fatal(err)
	}
	enr, err := e.App.Auth.BeginTOTP(bg, actor)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(enr.Secret, e.Clock.Now())
	if _, err := e.App.Auth.ConfirmTOTP(bg, actor, code); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(61 * time.Second) // the enrolment code may not be reused
	code, _ = totp.GenerateCode(enr.Secret, e.Clock.Now())

	b := &page{t: t, ctx: ctx}
	b.do("login form",
		chromedp.Navigate(e.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "truc.ban"),
		chromedp.SendKeys(chromedp.CSS(`#password`), apptest.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#code`)),
	)
	if url := b.location(); !strings.Contains(url, "/login/mfa") {
		t.Fatalf("after the password the browser should be asked for a code, is at %s", url)
	}

	// A wrong code is refused with a message, in Vietnamese.
	b.do("wrong code",
		chromedp.SendKeys(chromedp.CSS(`#code`), "000000"),
		chromedp.Submit(chromedp.CSS(`#code`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert`)),
	)
	if body := b.text(`main`); !strings.Contains(body, "Mã") {
		t.Errorf("wrong code message not shown in Vietnamese: %q", body)
	}

	b.do("right code",
		chromedp.SetValue(chromedp.CSS(`#code`), code),
		chromedp.Submit(chromedp.CSS(`#code`)),
		urlWhere("past the login", func(u string) bool { return !strings.Contains(u, "/login") }),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)),
	)
	if url := b.location(); strings.Contains(url, "/login") {
		t.Fatalf("still on %s after a right code", url)
	}
	if h := b.text(`main h1`); !strings.Contains(h, "Việc cần làm") {
		t.Errorf("dashboard heading in Vietnamese expected, got %q", h)
	}

	// Switch to English.
	b.do("language switch",
		chromedp.Click(chromedp.CSS(`button[name="lang"][value="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name="lang"][value="vi"]`)),
	)
	if h := b.text(`main h1`); !strings.Contains(h, "What needs you") {
		t.Errorf("dashboard heading in English expected after the switch, got %q", h)
	}

	// Find the Hà Nội unit without typing diacritics, open it, see its ranges.
	b.do("directory search",
		chromedp.Navigate(e.URL+"/orgs"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="q"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "ha noi"),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)),
		urlWhere("the search's", func(u string) bool { return strings.Contains(u, "q=ha") }),
		chromedp.WaitVisible(chromedp.CSS(`table`)),
	)
	if body := b.text(`table`); !strings.Contains(body, "Hà Nội") || strings.Contains(body, "Đà Nẵng") {
		t.Fatalf("search 'ha noi' should list Hà Nội only, got %q", body)
	}
	b.do("open organisation",
		chromedp.Click(chromedp.Search(`//table//a[contains(., "Hà Nội")]`)),
		urlWhere("the organisation's", func(u string) bool { return strings.Contains(u, "/orgs/") }),
		chromedp.WaitVisible(chromedp.CSS(`#ranges`)),
	)
	if body := b.text(`#ranges`); !strings.Contains(body, "203.0.113.0/24") {
		t.Fatalf("ranges section should list 203.0.113.0/24, got %q", body)
	}

	// Whois an address inside the range.
	b.do("whois",
		chromedp.Navigate(e.URL+"/whois"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="q"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "203.0.113.7"),
		chromedp.Submit(chromedp.CSS(`input[name="q"]`)),
		urlWhere("the lookup's", func(u string) bool { return strings.Contains(u, "q=203.0.113.7") }),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
	)
	body := b.text(`main`)
	if !strings.Contains(body, "Sở Khoa học và Công nghệ Hà Nội") || !strings.Contains(body, "203.0.113.0/24") ||
		!strings.Contains(body, "Trung tâm Điều phối") {
		t.Fatalf("whois should name the owner, the range and the parent, got %q", body)
	}
}

// page drives one browser tab; a failed step fails the test with its name.
type page struct {
	t   *testing.T
	ctx context.Context
	// base is certnet's address, for login; signedIn whether someone is.
	base     string
	signedIn bool
}

// login signs username in (with apptest's password), signing out whoever
// is first — from a page that has finished loading: the last step may
// have submitted a form whose answer is still arriving.
func (p *page) login(username string) {
	p.t.Helper()
	if p.signedIn {
		p.do("log out",
			chromedp.Navigate(p.base+"/"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`#username`)),
		)
	}
	p.signedIn = true
	p.do("log in "+username,
		chromedp.Navigate(p.base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), username),
		chromedp.SendKeys(chromedp.CSS(`#password`), apptest.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
	)
	for deadline := time.Now().Add(10 * time.Second); strings.Contains(p.location(), "/login"); {
		if time.Now().After(deadline) {
			p.t.Fatalf("log in %s: still on %s: %s", username, p.location(), p.text(`main`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.do("logged in "+username, chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"] button`)))
}

func (p *page) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", step, err)
	}
}

func (p *page) text(css string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

func (p *page) location() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("location: %v", err)
	}
	return s
}
