package taxii_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"certnet/internal/apptest"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

// TestBasicPassword: HTTP Basic with the user's password (argon2id through
// auth): the right password reads, a wrong one is 401 with the challenge,
// five wrong ones lock the account (429, even with the right password,
// also for the web sign-in), a user whose organisation requires a second
// factor is refused with the right password but served with an API token,
// and Basic with the token still works.
func TestBasicPassword(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		w := setup(t, db)
		e := w.e
		ctx := context.Background()
		basic := func(user, pass string) reply {
			t.Helper()
			return do(t, e, "GET", root+"collections/", "Basic "+user+":"+pass, "", nil)
		}
		if r := basic("hn-viewer", apptest.Password); r.Status != 200 || !strings.Contains(string(r.Body), `"collections"`) {
			t.Fatalf("right password: %d %s", r.Status, r.Body)
		}
		if r := basic("HN-Viewer", apptest.Password); r.Status != 200 {
			t.Fatalf("right password, username in other case: %d", r.Status)
		}
		r := basic("hn-viewer", "wrong-password-1")
		if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "Basic") || !strings.Contains(string(r.Body), `"http_status":"401"`) {
			t.Fatalf("wrong password: %d %q %s", r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
		}
		if r := basic("nobody-here", apptest.Password); r.Status != 401 {
			t.Fatalf("unknown user: %d", r.Status)
		}
		// The failure is written down as a sign-in failure.
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed'").Scan(&n); err != nil || n < 2 {
			t.Fatalf("audit of failures: %d %v", n, err)
		}
		// Lock: four more wrong passwords (five in all) lock the account.
		for i := range 4 {
			if r := basic("hn-viewer", "wrong-password-x"); r.Status != 401 {
				t.Fatalf("wrong password %d: %d", i+2, r.Status)
			}
		}
		if r := basic("hn-viewer", apptest.Password); r.Status != 429 || !strings.Contains(string(r.Body), `"http_status":"429"`) {
			t.Fatalf("locked account with the right password: %d %s", r.Status, r.Body)
		}
		if _, err := e.App.Auth.Login(ctx, "hn-viewer", apptest.Password, "192.0.2.1", "test"); err == nil {
			t.Fatal("the web sign-in of a locked account succeeded")
		}
		// Tokens are not counted as passwords: Basic with a token works
		// for the locked user's colleague, and Bearer for everyone.
		if r := basic("hn-analyst", w.hnAnalyst); r.Status != 200 {
			t.Fatalf("basic with a token: %d %s", r.Status, r.Body)
		}
		e.Clock.Advance(16 * time.Minute)
		if r := basic("hn-viewer", apptest.Password); r.Status != 200 {
			t.Fatalf("after the lock: %d %s", r.Status, r.Body)
		}
		// An organisation that requires a second factor: its people use a
		// token.
		nat, err := e.App.Orgs.Create(ctx, e.Sys, org.Input{Code: "MFA", Name: "Có xác thực hai lớp", ParentID: 0,
			Roles: []org.Role{org.RoleSectorCERT}, Sector: org.SectorBanking, Active: true, TLP: policy.TLPGreen, RequireMFA: true})
		if err != nil {
			t.Fatal(err)
		}
		u := e.User(nat.ID, "mfa-user", policy.RoleAnalyst)
		tok := e.Token(u)
		if r := basic("mfa-user", apptest.Password); r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("password of a user who must pass a second factor: %d", r.Status)
		}
		if r := basic("mfa-user", tok); r.Status != 200 {
			t.Fatalf("token of a user who must pass a second factor: %d %s", r.Status, r.Body)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed' AND after_json LIKE '%second_factor_required%'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("audit of the second-factor refusal: %d %v", n, err)
		}
	})
}
