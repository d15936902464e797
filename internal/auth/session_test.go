package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/obs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestLogin(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		gone := f.user(t, f.province, "old.timer", policy.RoleViewer)
		noErr(t, f.svc.SetDisabled(ctx, f.system, gone.ID, true))

		cases := []struct {
			name, user, pw string
			ok             bool
		}{
			{"good", "lan.nguyen", goodPassword, true},
			{"username case and spaces ignored", "  Lan.Nguyen ", goodPassword, true},
			{"wrong password", "lan.nguyen", goodPassword + "x", false},
			{"empty password", "lan.nguyen", "", false},
			{"unknown user", "nobody.here", goodPassword, false},
			{"disabled user with the right password", "old.timer", goodPassword, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res, err := f.svc.Login(ctx, c.user, c.pw, "192.0.2.1", "Mozilla/5.0")
				if !c.ok {
					wantKey(t, err, errs.KindUnauthenticated, "auth.err.bad_credentials")
					if res.SessionToken != "" {
						t.Fatal("failed login returned a session")
					}
					return
				}
				noErr(t, err)
				if res.User.ID != u.ID || res.NeedMFA || res.NeedEnroll || !res.Session.MFAPassed {
					t.Fatalf("result %+v", res)
				}
				if res.Session.IDHash != hashSecret(res.SessionToken) || res.Session.CSRFToken == "" {
					t.Fatal("session hash or csrf")
				}
				se, su, err := f.svc.Session(ctx, res.SessionToken)
				noErr(t, err)
				if su.ID != u.ID || se.CSRFToken != res.Session.CSRFToken || se.IP != "192.0.2.1" || se.NeedMFA || se.NeedEnroll {
					t.Fatalf("session %+v %+v", se, su)
				}
				if su.LastLoginAt.IsZero() {
					t.Fatal("last login not recorded")
				}
			})
		}
		// The plaintext session token is nowhere in the database.
		var n int
		noErr(t, db.QueryRow(ctx, "SELECT COUNT(*) FROM sessions").Scan(&n))
		if n != 2 {
			t.Fatalf("sessions: %d", n)
		}
		if got := countAudit(t, db, "auth.login"); got != 2 {
			t.Fatalf("auth.login entries: %d", got)
		}
		if got := countAudit(t, db, "auth.login_failed"); got != 4 {
			t.Fatalf("auth.login_failed entries: %d", got)
		}
		var actor string
		noErr(t, db.QueryRow(ctx, "SELECT actor FROM audit_log WHERE action = 'auth.login_failed' AND actor_user_id IS NULL AND actor = ?", "nobody.here").Scan(&actor))
		verifyAudit(t, db)

		t.Run("malformed session tokens", func(t *testing.T) {
			for _, tok := range []string{"", "short", "../../etc/passwd", fmt.Sprintf("%043d", 0)} {
				_, _, err := f.svc.Session(ctx, tok)
				wantKind(t, err, errs.KindUnauthenticated)
			}
		})
	})
}

func TestLoginThrottle(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		f.user(t, f.province, "minh.tran", policy.RoleAnalyst)

		t.Run("per account", func(t *testing.T) {
			for i := 0; i < 5; i++ {
				_, err := f.svc.Login(ctx, "lan.nguyen", "wrong password "+fmt.Sprint(i), fmt.Sprintf("192.0.2.%d", i+1), "")
				wantKey(t, err, errs.KindUnauthenticated, "auth.err.bad_credentials")
			}
			// Locked: even the right password, from a fresh address, waits.
			_, err := f.svc.Login(ctx, "lan.nguyen", goodPassword, "198.51.100.99", "")
			wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
			e, _ := errs.As(err)
			if len(e.Message.Args) != 1 || e.Message.Args[0] != 15 {
				t.Fatalf("minutes: %v", e.Message.Args)
			}
			f.clock.Advance(10 * time.Minute)
			_, err = f.svc.Login(ctx, "lan.nguyen", goodPassword, "198.51.100.99", "")
			wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
			if e, _ := errs.As(err); e.Message.Args[0] != 5 {
				t.Fatalf("minutes after 10: %v", e.Message.Args)
			}
			// Other accounts are not affected.
			_, err = f.svc.Login(ctx, "minh.tran", goodPassword, "198.51.100.99", "")
			noErr(t, err)
			// After the lock, the account works again.
			f.clock.Advance(5*time.Minute + time.Second)
			_, err = f.svc.Login(ctx, "lan.nguyen", goodPassword, "198.51.100.99", "")
			noErr(t, err)
			if countAudit(t, db, "auth.login_failed") != 5 {
				t.Fatal("every failure is audited")
			}
		})

		t.Run("failures spread over more than the window do not lock", func(t *testing.T) {
			for i := 0; i < 8; i++ {
				_, err := f.svc.Login(ctx, "minh.tran", "wrong password", "192.0.2.200", "")
				wantKey(t, err, errs.KindUnauthenticated, "auth.err.bad_credentials")
				f.clock.Advance(4 * time.Minute) // 4 failures per 15-minute window at most
			}
			_, err := f.svc.Login(ctx, "minh.tran", goodPassword, "192.0.2.200", "")
			noErr(t, err)
		})

		t.Run("success resets the account counter", func(t *testing.T) {
			f.clock.Advance(time.Hour)
			for i := 0; i < 4; i++ {
				f.svc.Login(ctx, "minh.tran", "wrong password", "192.0.2.201", "")
			}
			_, err := f.svc.Login(ctx, "minh.tran", goodPassword, "192.0.2.201", "")
			noErr(t, err)
			for i := 0; i < 4; i++ {
				f.svc.Login(ctx, "minh.tran", "wrong password", "192.0.2.201", "")
			}
			_, err = f.svc.Login(ctx, "minh.tran", goodPassword, "192.0.2.201", "")
			noErr(t, err)
		})

		t.Run("per address", func(t *testing.T) {
			f.clock.Advance(time.Hour)
			// Spraying: one guess at each of 30 (mostly unknown) accounts.
			for i := 0; i < 30; i++ {
				_, err := f.svc.Login(ctx, fmt.Sprintf("user%02d", i), "Mùa-Xuân-2026!", "203.0.113.7", "")
				wantKey(t, err, errs.KindUnauthenticated, "auth.err.bad_credentials")
			}
			_, err := f.svc.Login(ctx, "lan.nguyen", goodPassword, "203.0.113.7", "")
			wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
			// The port is not part of the address.
			_, err = f.svc.Login(ctx, "lan.nguyen", goodPassword, "203.0.113.7:51515", "")
			wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
			// Another address is fine.
			_, err = f.svc.Login(ctx, "lan.nguyen", goodPassword, "203.0.113.8", "")
			noErr(t, err)
			f.clock.Advance(15*time.Minute + time.Second)
			_, err = f.svc.Login(ctx, "lan.nguyen", goodPassword, "203.0.113.7", "")
			noErr(t, err)
		})

		t.Run("IPv6 counts per /64", func(t *testing.T) {
			f.svc.Throttle.AddressLimit = 3
			defer func() { f.svc.Throttle.AddressLimit = 0 }()
			for i := 1; i <= 3; i++ {
				_, err := f.svc.Login(ctx, "ghost", "Mùa-Xuân-2026!", fmt.Sprintf("2001:db8:1:2::%x", i), "")
				wantKind(t, err, errs.KindUnauthenticated)
			}
			_, err := f.svc.Login(ctx, "lan.nguyen", goodPassword, "[2001:db8:1:2:ffff::1]:443", "")
			wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
			_, err = f.svc.Login(ctx, "lan.nguyen", goodPassword, "2001:db8:1:3::1", "")
			noErr(t, err)
		})

		t.Run("prune removes stale counters", func(t *testing.T) {
			var before int
			noErr(t, db.QueryRow(ctx, "SELECT COUNT(*) FROM login_throttle").Scan(&before))
			if before == 0 {
				t.Fatal("no counters to prune")
			}
			f.clock.Advance(time.Hour)
			noErr(t, f.svc.PruneExpired(ctx))
			var after int
			noErr(t, db.QueryRow(ctx, "SELECT COUNT(*) FROM login_throttle").Scan(&after))
			if after != 0 {
				t.Fatalf("counters left: %d of %d", after, before)
			}
		})
		verifyAudit(t, db)
	})
}

func TestSessionLifetime(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)

		t.Run("idle timeout", func(t *testing.T) {
			res := f.login(t, u.Username)
			f.clock.Advance(2*time.Hour - time.Minute)
			_, _, err := f.svc.Session(ctx, res.SessionToken)
			noErr(t, err) // and touched
			f.clock.Advance(2*time.Hour - time.Minute)
			_, _, err = f.svc.Session(ctx, res.SessionToken)
			noErr(t, err)
			f.clock.Advance(2*time.Hour + time.Second)
			_, _, err = f.svc.Session(ctx, res.SessionToken)
			wantKey(t, err, errs.KindUnauthenticated, "auth.err.session_expired")
			_, _, err = f.svc.Session(ctx, res.SessionToken)
			wantKind(t, err, errs.KindUnauthenticated) // and it is gone
		})

		t.Run("absolute lifetime", func(t *testing.T) {
			res := f.login(t, u.Username)
			for i := 0; i < 11; i++ {
				f.clock.Advance(time.Hour)
				_, _, err := f.svc.Session(ctx, res.SessionToken)
				noErr(t, err)
			}
			f.clock.Advance(time.Hour)
			_, _, err := f.svc.Session(ctx, res.SessionToken)
			wantKey(t, err, errs.KindUnauthenticated, "auth.err.session_expired")
		})

		t.Run("last seen is written at most once a minute", func(t *testing.T) {
			res := f.login(t, u.Username)
			lastSeen := func() time.Time {
				var ts time.Time
				noErr(t, db.QueryRow(ctx, "SELECT last_seen_at FROM sessions WHERE id_hash = ?", res.Session.IDHash).Scan(&ts))
				return ts.UTC()
			}
			t0 := f.clock.Now()
			f.clock.Advance(30 * time.Second)
			se, _, err := f.svc.Session(ctx, res.SessionToken)
			noErr(t, err)
			if !lastSeen().Equal(t0) || !se.LastSeenAt.Equal(t0) {
				t.Fatal("touched within the minute")
			}
			f.clock.Advance(31 * time.Second)
			_, _, err = f.svc.Session(ctx, res.SessionToken)
			noErr(t, err)
			if !lastSeen().Equal(f.clock.Now()) {
				t.Fatalf("not touched after a minute: %v", lastSeen())
			}
		})

		t.Run("logout", func(t *testing.T) {
			res := f.login(t, u.Username)
			noErr(t, f.svc.Logout(ctx, res.SessionToken))
			_, _, err := f.svc.Session(ctx, res.SessionToken)
			wantKind(t, err, errs.KindUnauthenticated)
			noErr(t, f.svc.Logout(ctx, res.SessionToken)) // twice is fine
			noErr(t, f.svc.Logout(ctx, "not-a-token"))
			if countAudit(t, db, "auth.logout") != 1 {
				t.Fatal("logout audited once")
			}
		})

		t.Run("list and revoke", func(t *testing.T) {
			a := f.actor(t, u)
			r1 := f.login(t, u.Username)
			r2 := f.login(t, u.Username)
			list, err := f.svc.Sessions(ctx, a, u.ID)
			noErr(t, err)
			if len(list) < 2 {
				t.Fatalf("sessions: %d", len(list))
			}
			for _, se := range list {
				if se.CSRFToken != "" {
					t.Fatal("csrf token listed")
				}
			}
			viewer := f.actor(t, f.user(t, f.province, "viewer.hn", policy.RoleViewer))
			_, err = f.svc.Sessions(ctx, viewer, u.ID)
			if err == nil {
				t.Fatal("viewer listed another user's sessions")
			}
			wantKind(t, f.svc.RevokeSessions(ctx, viewer, u.ID), errs.KindForbidden)
			noErr(t, f.svc.RevokeSessions(ctx, a, u.ID))
			for _, r := range []LoginResult{r1, r2} {
				_, _, err := f.svc.Session(ctx, r.SessionToken)
				wantKind(t, err, errs.KindUnauthenticated)
			}
			list, err = f.svc.Sessions(ctx, a, u.ID)
			noErr(t, err)
			if len(list) != 0 {
				t.Fatalf("sessions left: %d", len(list))
			}
		})

		t.Run("prune", func(t *testing.T) {
			f.login(t, u.Username)
			f.login(t, u.Username)
			f.clock.Advance(3 * time.Hour)
			fresh := f.login(t, u.Username)
			noErr(t, f.svc.PruneExpired(ctx))
			var n int
			noErr(t, db.QueryRow(ctx, "SELECT COUNT(*) FROM sessions").Scan(&n))
			if n != 1 {
				t.Fatalf("sessions after prune: %d", n)
			}
			_, _, err := f.svc.Session(ctx, fresh.SessionToken)
			noErr(t, err)
		})
		verifyAudit(t, db)
	})
}

func TestPasswordAndDisable(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		adminU := f.user(t, f.province, "admin.hn", policy.RoleAdmin)
		admin := f.actor(t, adminU)
		u := f.user(t, f.city, "lan.nguyen", policy.RoleAnalyst)
		self := f.actor(t, u)
		const newPw = "Hoa-Sen-Nở-Giữa-Hè-26"

		t.Run("self needs the current password", func(t *testing.T) {
			err := f.svc.SetPassword(ctx, self, u.ID, "not my password", newPw)
			wantField(t, err, "current", "auth.err.bad_password")
			err = f.svc.SetPassword(ctx, self, u.ID, goodPassword, "short")
			wantField(t, err, "password", "auth.err.password_too_short")
		})

		t.Run("self change keeps this session, ends the others", func(t *testing.T) {
			keep := f.login(t, u.Username)
			other := f.login(t, u.Username)
			noErr(t, f.svc.SetPassword(WithSession(ctx, keep.SessionToken), self, u.ID, goodPassword, newPw))
			_, _, err := f.svc.Session(ctx, keep.SessionToken)
			noErr(t, err)
			_, _, err = f.svc.Session(ctx, other.SessionToken)
			wantKind(t, err, errs.KindUnauthenticated)
			_, err = f.svc.Login(ctx, u.Username, goodPassword, "", "")
			wantKey(t, err, errs.KindUnauthenticated, "auth.err.bad_credentials")
			_, err = f.svc.Login(ctx, u.Username, newPw, "", "")
			noErr(t, err)
		})

		t.Run("admin resets without the current password", func(t *testing.T) {
			s := f.login(t, adminU.Username)
			old, err := f.svc.Login(ctx, u.Username, newPw, "", "")
			noErr(t, err)
			noErr(t, f.svc.SetPassword(WithSession(ctx, s.SessionToken), admin, u.ID, "", goodPassword))
			_, _, err = f.svc.Session(ctx, old.SessionToken)
			wantKind(t, err, errs.KindUnauthenticated)
			_, _, err = f.svc.Session(ctx, s.SessionToken) // the admin's own session is not touched
			noErr(t, err)
			f.login(t, u.Username)
		})

		t.Run("a read-only token cannot change the password", func(t *testing.T) {
			ro := self
			ro.TokenScopes = []string{ScopeRead}
			wantKind(t, f.svc.SetPassword(ctx, ro, u.ID, goodPassword, newPw), errs.KindForbidden)
		})

		t.Run("disable ends sessions and tokens", func(t *testing.T) {
			s := f.login(t, u.Username)
			_, plain, err := f.svc.CreateToken(ctx, self, u.ID, "script", []string{ScopeRead}, time.Time{})
			noErr(t, err)
			_, _, err = f.svc.AuthenticateToken(ctx, plain, "r1")
			noErr(t, err)
			noErr(t, f.svc.SetDisabled(ctx, admin, u.ID, true))
			noErr(t, f.svc.SetDisabled(ctx, admin, u.ID, true)) // no change, no error
			_, _, err = f.svc.Session(ctx, s.SessionToken)
			wantKind(t, err, errs.KindUnauthenticated)
			_, _, err = f.svc.AuthenticateToken(ctx, plain, "r2")
			wantKey(t, err, errs.KindUnauthenticated, "auth.err.token_invalid")
			got, err := f.svc.GetUser(ctx, admin, u.ID)
			noErr(t, err)
			if !got.Disabled {
				t.Fatal("not disabled")
			}
			noErr(t, f.svc.SetDisabled(ctx, admin, u.ID, false))
			_, _, err = f.svc.AuthenticateToken(ctx, plain, "r3")
			noErr(t, err)
			f.login(t, u.Username)
		})
		if countAudit(t, db, "user.disable") != 1 || countAudit(t, db, "user.enable") != 1 {
			t.Fatal("disable/enable audited once each")
		}
		if countAudit(t, db, "user.password_set") != 2 {
			t.Fatal("password changes audited")
		}
		verifyAudit(t, db)
	})
}

func TestRehashOnLogin(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		var before, after string
		noErr(t, db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&before))
		f.svc.HashParams.Iterations = 2
		f.login(t, u.Username)
		noErr(t, db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&after))
		if before == after || !strings.Contains(after, "t=2") {
			t.Fatalf("hash not upgraded: %s", after)
		}
		f.login(t, u.Username)
	})
}

// Nodes share the throttle: failures that arrive at the same moment are all
// counted.
func TestThrottleConcurrent(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		var wg sync.WaitGroup
		for i := 0; i < 5; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Login(ctx, "lan.nguyen", "wrong password", fmt.Sprintf("192.0.2.%d", i+1), "")
				if !errs.Is(err, errs.KindUnauthenticated) {
					t.Errorf("concurrent failure: %v", err)
				}
			}()
		}
		wg.Wait()
		_, err := f.svc.Login(ctx, "lan.nguyen", goodPassword, "198.51.100.1", "")
		wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
		verifyAudit(t, db)
	})
}

func TestRequestIDInAudit(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		rctx := obs.WithRequestID(ctx, "rid-login-1")
		_, err := f.svc.Login(rctx, "lan.nguyen", goodPassword, "", "")
		noErr(t, err)
		_, err = f.svc.Login(obs.WithRequestID(ctx, "rid-login-2"), "lan.nguyen", "wrong password", "", "")
		wantKind(t, err, errs.KindUnauthenticated)
		for action, rid := range map[string]string{"auth.login": "rid-login-1", "auth.login_failed": "rid-login-2"} {
			var got string
			noErr(t, db.QueryRow(ctx, "SELECT request_id FROM audit_log WHERE action = ?", action).Scan(&got))
			if got != rid {
				t.Errorf("%s: request id %q", action, got)
			}
		}
	})
}

func TestRotate(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "rot.user", policy.RoleAnalyst)
		res := f.login(t, u.Username)
		before, _, err := f.svc.Session(ctx, res.SessionToken)
		noErr(t, err)
		nt, err := f.svc.Rotate(ctx, res.SessionToken)
		noErr(t, err)
		if nt == res.SessionToken {
			t.Fatal("rotation kept the token")
		}
		_, _, err = f.svc.Session(ctx, res.SessionToken)
		wantKind(t, err, errs.KindUnauthenticated) // the old token is dead
		after, su, err := f.svc.Session(ctx, nt)
		noErr(t, err)
		if su.ID != u.ID || after.CSRFToken == before.CSRFToken || after.CreatedAt != before.CreatedAt {
			t.Fatalf("rotated session: user %d, csrf changed %v, created %v/%v", su.ID, after.CSRFToken != before.CSRFToken, after.CreatedAt, before.CreatedAt)
		}
		_, err = f.svc.Rotate(ctx, res.SessionToken)
		wantKind(t, err, errs.KindUnauthenticated)
		_, err = f.svc.Rotate(ctx, "garbage")
		wantKind(t, err, errs.KindUnauthenticated)
	})
}

// The people of a deactivated organisation can neither sign in, nor keep
// using a session or an API token.
func TestInactiveOrganisation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "inactive.user", policy.RoleAnalyst)
		res := f.login(t, u.Username)
		a, err := f.svc.ActorFor(ctx, u, "")
		noErr(t, err)
		_, plain, err := f.svc.CreateToken(ctx, a, u.ID, "t", []string{"read"}, f.clock.Now().Add(time.Hour))
		noErr(t, err)

		f.orgs.setActive(f.province, false)
		_, err = f.svc.Login(ctx, u.Username, goodPassword, "192.0.2.1", "test")
		wantKey(t, err, errs.KindUnauthenticated, "auth.err.bad_credentials")
		_, err = f.svc.ActorFor(ctx, u, "")
		wantKind(t, err, errs.KindUnauthenticated)
		_, _, err = f.svc.AuthenticateToken(ctx, plain, "")
		wantKind(t, err, errs.KindUnauthenticated)
		_, su, err := f.svc.Session(ctx, res.SessionToken)
		if err == nil {
			// The session row may live on, but it cannot act.
			_, err = f.svc.ActorFor(ctx, su, "")
			wantKind(t, err, errs.KindUnauthenticated)
		}

		f.orgs.setActive(f.province, true)
		_, _, err = f.svc.AuthenticateToken(ctx, plain, "")
		noErr(t, err)
	})
}
