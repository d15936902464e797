package auth

import (
	"slices"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestTokens(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.city, "soc.feed", policy.RoleAnalyst)
		a := f.actor(t, u)
		admin := f.actor(t, f.user(t, f.province, "admin.hn", policy.RoleAdmin))
		viewer := f.actor(t, f.user(t, f.province, "viewer.hn", policy.RoleViewer))

		t.Run("validation", func(t *testing.T) {
			now := f.clock.Now()
			cases := []struct {
				name    string
				tname   string
				scopes  []string
				expires time.Time
				field   string
				key     string
			}{
				{"no name", " ", []string{"read"}, time.Time{}, "name", "field.required"},
				{"long name", strings.Repeat("n", 101), []string{"read"}, time.Time{}, "name", "field.too_long"},
				{"no scope", "x", nil, time.Time{}, "scopes", "auth.err.token_scopes"},
				{"unknown scope", "x", []string{"read", "admin"}, time.Time{}, "scopes", "auth.err.token_scopes"},
				{"expired already", "x", []string{"read"}, now.Add(-time.Second), "expires_at", "auth.err.token_expiry_past"},
				{"more than a year", "x", []string{"read"}, now.AddDate(1, 0, 2), "expires_at", "auth.err.token_expiry_too_far"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, _, err := f.svc.CreateToken(ctx, a, u.ID, c.tname, c.scopes, c.expires)
					wantKind(t, err, errs.KindInvalid)
					wantField(t, err, c.field, c.key)
				})
			}
		})

		var plain string
		var tok Token
		t.Run("create and authenticate", func(t *testing.T) {
			var err error
			tok, plain, err = f.svc.CreateToken(ctx, a, u.ID, "Suricata ở SOC Hà Nội", []string{"write", "read", "read"}, time.Time{})
			noErr(t, err)
			if _, ok := parseToken(plain); !ok || !strings.HasPrefix(plain, TokenPrefix) || !strings.HasPrefix(plain, tok.Prefix) {
				t.Fatalf("plaintext %q prefix %q", plain, tok.Prefix)
			}
			if !tok.ExpiresAt.Equal(f.clock.Now().Add(90*24*time.Hour)) || !slices.Equal(tok.Scopes, []string{"read", "write"}) {
				t.Fatalf("token %+v", tok)
			}
			// Only the hash is stored.
			var hash string
			noErr(t, db.QueryRow(ctx, "SELECT token_hash FROM api_tokens WHERE id = ?", tok.ID).Scan(&hash))
			if hash != hashSecret(plain) {
				t.Fatal("stored hash")
			}
			assertNotInDB(t, db, plain[len(tok.Prefix):])

			act, got, err := f.svc.AuthenticateToken(ctx, " "+plain+"\n", "req-1")
			noErr(t, err)
			if got.ID != u.ID || act.UserID != u.ID || act.OrgID != f.city || act.RequestID != "req-1" ||
				!slices.Equal(act.TokenScopes, []string{"read", "write"}) || !act.Scope.Contains(f.city) {
				t.Fatalf("actor %+v", act)
			}
			list, err := f.svc.ListTokens(ctx, a, u.ID)
			noErr(t, err)
			if len(list) != 1 || list[0].LastUsedAt.IsZero() || list[0].Name != "Suricata ở SOC Hà Nội" {
				t.Fatalf("list %+v", list)
			}
		})

		t.Run("last used is written at most once a minute", func(t *testing.T) {
			used := func() time.Time {
				l, err := f.svc.ListTokens(ctx, a, u.ID)
				noErr(t, err)
				return l[0].LastUsedAt
			}
			first := used()
			f.clock.Advance(20 * time.Second)
			_, _, err := f.svc.AuthenticateToken(ctx, plain, "")
			noErr(t, err)
			if !used().Equal(first) {
				t.Fatal("touched within a minute")
			}
			f.clock.Advance(time.Minute)
			_, _, err = f.svc.AuthenticateToken(ctx, plain, "")
			noErr(t, err)
			if !used().Equal(f.clock.Now()) {
				t.Fatal("not touched after a minute")
			}
		})

		t.Run("read-only token", func(t *testing.T) {
			_, ro, err := f.svc.CreateToken(ctx, a, u.ID, "dashboard", []string{"read"}, f.clock.Now().Add(24*time.Hour))
			noErr(t, err)
			act, _, err := f.svc.AuthenticateToken(ctx, ro, "")
			noErr(t, err)
			if !slices.Equal(act.TokenScopes, []string{"read"}) {
				t.Fatalf("scopes %v", act.TokenScopes)
			}
			// It cannot be used to mint a writable token.
			_, _, err = f.svc.CreateToken(ctx, act, u.ID, "escalate", []string{"write"}, time.Time{})
			wantKind(t, err, errs.KindForbidden)
			_, err = f.svc.ListTokens(ctx, act, u.ID)
			noErr(t, err)
		})

		t.Run("expired", func(t *testing.T) {
			_, short, err := f.svc.CreateToken(ctx, a, u.ID, "short", []string{"read"}, f.clock.Now().Add(time.Hour))
			noErr(t, err)
			f.clock.Advance(time.Hour)
			_, _, err = f.svc.AuthenticateToken(ctx, short, "")
			wantKey(t, err, errs.KindUnauthenticated, "auth.err.token_expired")
		})

		t.Run("revoked, unknown and malformed", func(t *testing.T) {
			wantKind(t, f.svc.RevokeToken(ctx, viewer, u.ID, tok.ID), errs.KindForbidden)
			wantKind(t, f.svc.RevokeToken(ctx, a, u.ID, 99999), errs.KindNotFound)
			noErr(t, f.svc.RevokeToken(ctx, a, u.ID, tok.ID))
			noErr(t, f.svc.RevokeToken(ctx, a, u.ID, tok.ID)) // again: nothing to do
			_, _, err := f.svc.AuthenticateToken(ctx, plain, "")
			wantKey(t, err, errs.KindUnauthenticated, "auth.err.token_invalid")
			for _, bad := range []string{"", "cn_", "Bearer " + plain, strings.ToUpper(plain), TokenPrefix + strings.Repeat("a", 52),
				newAPIToken()} {
				_, _, err := f.svc.AuthenticateToken(ctx, bad, "")
				wantKey(t, err, errs.KindUnauthenticated, "auth.err.token_invalid")
			}
			list, err := f.svc.ListTokens(ctx, a, u.ID)
			noErr(t, err)
			for _, l := range list {
				if l.ID == tok.ID && (l.RevokedAt.IsZero() || l.Active(f.clock.Now())) {
					t.Fatalf("revoked token listed as %+v", l)
				}
			}
		})

		t.Run("admin issues for a user in scope", func(t *testing.T) {
			tk, p, err := f.svc.CreateToken(ctx, admin, u.ID, "issued by admin", []string{"read"}, time.Time{})
			noErr(t, err)
			_, _, err = f.svc.AuthenticateToken(ctx, p, "")
			noErr(t, err)
			noErr(t, f.svc.RevokeToken(ctx, admin, u.ID, tk.ID))
			_, _, err = f.svc.CreateToken(ctx, viewer, u.ID, "x", []string{"read"}, time.Time{})
			wantKind(t, err, errs.KindForbidden)
			_, err = f.svc.ListTokens(ctx, viewer, u.ID)
			if err == nil {
				t.Fatal("viewer listed another user's tokens")
			}
		})

		t.Run("no token secret in the audit log", func(t *testing.T) {
			log := verifyAudit(t, db)
			if strings.Contains(log, plain) || strings.Contains(log, hashSecret(plain)) {
				t.Fatal("token in the audit log")
			}
			if countAudit(t, db, "token.create") != 4 || countAudit(t, db, "token.revoke") != 2 {
				t.Fatal("token changes audited")
			}
		})
	})
}

// TestNoSecretsInAudit runs every path that handles a secret and looks for
// each secret, and each stored hash, in the audit log.
func TestNoSecretsInAudit(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "lan.nguyen", policy.RoleAdmin)
		a := f.actor(t, u)
		secrets := []string{goodPassword}
		const pw2 = "Cây-Đa-Đầu-Làng-1945"
		res := f.login(t, u.Username)
		secrets = append(secrets, res.SessionToken, res.Session.CSRFToken, res.Session.IDHash)
		_, err := f.svc.Login(ctx, u.Username, "Một-Mật-Khẩu-Sai-Lầm", "192.0.2.9", "")
		wantKind(t, err, errs.KindUnauthenticated)
		secrets = append(secrets, "Một-Mật-Khẩu-Sai-Lầm")
		noErr(t, f.svc.SetPassword(ctx, a, u.ID, goodPassword, pw2))
		secrets = append(secrets, pw2)
		totpSecret, codes := f.enrol(t, u)
		secrets = append(secrets, totpSecret)
		secrets = append(secrets, codes...)
		_, plain, err := f.svc.CreateToken(ctx, a, u.ID, "ci", []string{"read"}, time.Time{})
		noErr(t, err)
		secrets = append(secrets, plain, hashSecret(plain))
		var hash string
		noErr(t, db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash))
		secrets = append(secrets, hash)
		rows, err := db.Query(ctx, "SELECT code_hash FROM recovery_codes")
		noErr(t, err)
		for rows.Next() {
			var h string
			noErr(t, rows.Scan(&h))
			secrets = append(secrets, h)
		}
		rows.Close()

		log := verifyAudit(t, db)
		for _, s := range secrets {
			if strings.Contains(log, s) {
				t.Errorf("secret %.12q… in the audit log", s)
			}
		}
	})
}

// assertNotInDB fails when s appears in any text column of the auth tables.
func assertNotInDB(t *testing.T, db *store.DB, s string) {
	t.Helper()
	for _, q := range []string{
		`SELECT COUNT(*) FROM api_tokens WHERE name LIKE ? ESCAPE '\' OR prefix LIKE ? ESCAPE '\'
			OR token_hash LIKE ? ESCAPE '\' OR scopes LIKE ? ESCAPE '\'`,
		`SELECT COUNT(*) FROM audit_log WHERE before_json LIKE ? ESCAPE '\' OR after_json LIKE ? ESCAPE '\'
			OR entity_id LIKE ? ESCAPE '\' OR actor LIKE ? ESCAPE '\'`,
	} {
		var n int
		like := store.Like(s)
		noErr(t, db.QueryRow(ctx, q, like, like, like, like).Scan(&n))
		if n != 0 {
			t.Fatalf("%q found by %s", s, q)
		}
	}
}
