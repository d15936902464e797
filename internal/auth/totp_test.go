package auth

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestTOTP(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.province, "lan.nguyen", policy.RoleAnalyst)
		a := f.actor(t, u)

		t.Run("confirm needs a begun enrolment", func(t *testing.T) {
			_, err := f.svc.ConfirmTOTP(ctx, a, "123456")
			wantKey(t, err, errs.KindConflict, "auth.err.totp_not_started")
			_, err = f.svc.RegenerateRecoveryCodes(ctx, a)
			wantKey(t, err, errs.KindConflict, "auth.err.totp_not_enabled")
		})

		var secret string
		var recovery []string
		t.Run("enrol", func(t *testing.T) {
			en, err := f.svc.BeginTOTP(ctx, a)
			noErr(t, err)
			if en.Secret == "" || !strings.HasPrefix(en.URL, "otpauth://totp/") || !strings.Contains(en.URL, "issuer=certnet") {
				t.Fatalf("enrolment %+v", en)
			}
			if _, err := png.Decode(bytes.NewReader(en.QRPNG)); err != nil {
				t.Fatalf("QR code is not a PNG: %v", err)
			}
			// Not enabled until confirmed.
			got, err := f.svc.GetUser(ctx, a, u.ID)
			noErr(t, err)
			if got.TOTPEnabled {
				t.Fatal("enabled before confirmation")
			}
			res := f.login(t, u.Username)
			if res.NeedMFA {
				t.Fatal("MFA asked before enrolment was confirmed")
			}
			_, err = f.svc.ConfirmTOTP(ctx, a, "000000")
			wantField(t, err, "code", "auth.err.bad_code")
			recovery, err = f.svc.ConfirmTOTP(ctx, a, f.code(t, en.Secret))
			noErr(t, err)
			if len(recovery) != RecoveryCodeCount {
				t.Fatalf("recovery codes: %v", recovery)
			}
			secret = en.Secret
			got, err = f.svc.GetUser(ctx, a, u.ID)
			noErr(t, err)
			if !got.TOTPEnabled {
				t.Fatal("not enabled after confirmation")
			}
			f.clock.Advance(30 * time.Second)
		})

		t.Run("login needs the second factor", func(t *testing.T) {
			res := f.login(t, u.Username)
			if !res.NeedMFA || res.NeedEnroll || res.Session.MFAPassed {
				t.Fatalf("result %+v", res)
			}
			se, _, err := f.svc.Session(ctx, res.SessionToken)
			noErr(t, err)
			if !se.NeedMFA || se.MFAPassed {
				t.Fatalf("session %+v", se)
			}
			err = f.svc.VerifyTOTP(ctx, res.SessionToken, "000000")
			wantField(t, err, "code", "auth.err.bad_code")
			err = f.svc.VerifyTOTP(ctx, res.SessionToken, "not a code")
			wantField(t, err, "code", "auth.err.bad_code")
			code := f.code(t, secret)
			noErr(t, f.svc.VerifyTOTP(ctx, res.SessionToken, code[:3]+" "+code[3:]))
			se, _, err = f.svc.Session(ctx, res.SessionToken)
			noErr(t, err)
			if !se.MFAPassed || se.NeedMFA {
				t.Fatalf("session after code %+v", se)
			}

			// The same code cannot be used again, even in the same 30 s.
			again := f.login(t, u.Username)
			err = f.svc.VerifyTOTP(ctx, again.SessionToken, code)
			wantField(t, err, "code", "auth.err.bad_code")
			// A code from the previous step is older still: refused.
			prev := f.codeAt(t, secret, f.clock.Now().Add(-30*time.Second))
			wantField(t, f.svc.VerifyTOTP(ctx, again.SessionToken, prev), "code", "auth.err.bad_code")
			// The next step's code (clock drift) is accepted.
			next := f.codeAt(t, secret, f.clock.Now().Add(30*time.Second))
			noErr(t, f.svc.VerifyTOTP(ctx, again.SessionToken, next))
			// After that, the current step is behind: a third login must wait.
			third := f.login(t, u.Username)
			wantField(t, f.svc.VerifyTOTP(ctx, third.SessionToken, f.code(t, secret)), "code", "auth.err.bad_code")
			f.clock.Advance(60 * time.Second)
			noErr(t, f.svc.VerifyTOTP(ctx, third.SessionToken, f.code(t, secret)))
		})

		t.Run("a session short of the second factor cannot change credentials", func(t *testing.T) {
			half := WithSession(ctx, f.login(t, u.Username).SessionToken)
			_, err := f.svc.BeginTOTP(half, a)
			wantKind(t, err, errs.KindForbidden)
			_, err = f.svc.RegenerateRecoveryCodes(half, a)
			wantKind(t, err, errs.KindForbidden)
			wantKind(t, f.svc.SetPassword(half, a, u.ID, goodPassword, "Hoa-Sen-Nở-Giữa-Hè-26"), errs.KindForbidden)
			wantKind(t, f.svc.DisableTOTP(half, a, u.ID, goodPassword), errs.KindForbidden)
			_, _, err = f.svc.CreateToken(half, a, u.ID, "x", []string{"write"}, time.Time{})
			wantKind(t, err, errs.KindForbidden)
		})

		t.Run("recovery code works once", func(t *testing.T) {
			r1 := f.login(t, u.Username)
			noErr(t, f.svc.VerifyTOTP(ctx, r1.SessionToken, strings.ToUpper(recovery[0])))
			r2 := f.login(t, u.Username)
			wantField(t, f.svc.VerifyTOTP(ctx, r2.SessionToken, recovery[0]), "code", "auth.err.bad_code")
			noErr(t, f.svc.VerifyTOTP(ctx, r2.SessionToken, strings.ReplaceAll(recovery[1], "-", "")))
		})

		t.Run("regenerate replaces the codes", func(t *testing.T) {
			fresh, err := f.svc.RegenerateRecoveryCodes(ctx, a)
			noErr(t, err)
			r := f.login(t, u.Username)
			wantField(t, f.svc.VerifyTOTP(ctx, r.SessionToken, recovery[2]), "code", "auth.err.bad_code")
			noErr(t, f.svc.VerifyTOTP(ctx, r.SessionToken, fresh[0]))
			recovery = fresh
		})

		t.Run("wrong codes are throttled", func(t *testing.T) {
			f.clock.Advance(time.Hour)
			r := f.login(t, u.Username)
			for i := 0; i < 5; i++ {
				wantField(t, f.svc.VerifyTOTP(ctx, r.SessionToken, "000000"), "code", "auth.err.bad_code")
			}
			err := f.svc.VerifyTOTP(ctx, r.SessionToken, f.code(t, secret))
			wantKey(t, err, errs.KindTooMany, "auth.err.throttled")
			f.clock.Advance(15*time.Minute + time.Second)
			r = f.login(t, u.Username)
			noErr(t, f.svc.VerifyTOTP(ctx, r.SessionToken, f.code(t, secret)))
		})

		t.Run("re-enrolling keeps the old authenticator until confirmed", func(t *testing.T) {
			f.clock.Advance(time.Minute)
			en, err := f.svc.BeginTOTP(ctx, a)
			noErr(t, err)
			r := f.login(t, u.Username)
			noErr(t, f.svc.VerifyTOTP(ctx, r.SessionToken, f.code(t, secret)))
			f.clock.Advance(30 * time.Second)
			_, err = f.svc.ConfirmTOTP(WithSession(ctx, r.SessionToken), a, f.code(t, en.Secret))
			noErr(t, err)
			secret = en.Secret
		})

		t.Run("disable", func(t *testing.T) {
			wantField(t, f.svc.DisableTOTP(ctx, a, u.ID, "wrong password"), "password", "auth.err.bad_password")
			viewer := f.actor(t, f.user(t, f.province, "viewer.hn", policy.RoleViewer))
			if f.svc.DisableTOTP(ctx, viewer, u.ID, "") == nil {
				t.Fatal("a viewer disabled someone's second factor")
			}
			noErr(t, f.svc.DisableTOTP(ctx, a, u.ID, goodPassword))
			res := f.login(t, u.Username)
			if res.NeedMFA || !res.Session.MFAPassed {
				t.Fatalf("still asks for a code: %+v", res)
			}
			wantKey(t, f.svc.VerifyTOTP(ctx, res.SessionToken, "123456"), errs.KindConflict, "auth.err.totp_not_enabled")
			var n int
			noErr(t, db.QueryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?", u.ID).Scan(&n))
			if n != 0 {
				t.Fatal("recovery codes left")
			}
		})

		t.Run("no secret in the audit log", func(t *testing.T) {
			log := verifyAudit(t, db)
			for _, s := range append([]string{secret, goodPassword}, recovery...) {
				if strings.Contains(log, s) || strings.Contains(log, strings.ReplaceAll(s, "-", "")) {
					t.Fatalf("secret %q in the audit log", s)
				}
			}
			for _, a := range []string{"user.totp_begin", "user.totp_enable", "auth.mfa_passed", "auth.mfa_failed",
				"user.recovery_codes_regenerate", "user.totp_disable"} {
				if countAudit(t, db, a) == 0 {
					t.Errorf("no %s entry", a)
				}
			}
		})
	})
}

func TestOrgRequiresMFA(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		u := f.user(t, f.city, "ioc.operator", policy.RoleAnalyst)
		adminU := f.user(t, f.province, "admin.hn", policy.RoleAdmin)
		f.orgs.setMFA(f.city, true)

		res := f.login(t, u.Username)
		if !res.NeedEnroll || res.NeedMFA || res.Session.MFAPassed {
			t.Fatalf("result %+v", res)
		}
		se, _, err := f.svc.Session(ctx, res.SessionToken)
		noErr(t, err)
		if !se.NeedEnroll {
			t.Fatalf("session %+v", se)
		}
		// No code to give yet: VerifyTOTP says so.
		wantKey(t, f.svc.VerifyTOTP(ctx, res.SessionToken, "123456"), errs.KindConflict, "auth.err.totp_not_enabled")

		// Enrolling from that session passes it; nothing else may happen first.
		sctx := WithSession(ctx, res.SessionToken)
		a := f.actor(t, u)
		_, _, err = f.svc.CreateToken(sctx, a, u.ID, "x", []string{"read"}, time.Time{})
		wantKind(t, err, errs.KindForbidden)
		en, err := f.svc.BeginTOTP(sctx, a)
		noErr(t, err)
		_, err = f.svc.ConfirmTOTP(sctx, a, f.code(t, en.Secret))
		noErr(t, err)
		se, _, err = f.svc.Session(ctx, res.SessionToken)
		noErr(t, err)
		if !se.MFAPassed || se.NeedEnroll || se.NeedMFA {
			t.Fatalf("session after enrolment %+v", se)
		}

		// The user may not switch it off; an administrator may.
		e := wantKind(t, f.svc.DisableTOTP(ctx, a, u.ID, goodPassword), errs.KindForbidden)
		if e.Message.Key != "auth.err.mfa_required_by_org" {
			t.Fatal(e)
		}
		noErr(t, f.svc.DisableTOTP(ctx, f.actor(t, adminU), u.ID, ""))
		res = f.login(t, u.Username)
		if !res.NeedEnroll {
			t.Fatal("must enrol again")
		}
		verifyAudit(t, db)
	})
}

func (f *fixture) codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	now := f.clock.Now()
	f.clock.Set(at)
	defer f.clock.Set(now)
	return f.code(t, secret)
}
