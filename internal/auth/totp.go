package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// TOTP as authenticator apps expect it: RFC 6238, SHA-1, 6 digits, 30 s.
const (
	totpPeriod = 30
	totpSkew   = 1 // steps accepted either side of now, for clock drift
	// RecoveryCodeCount codes are issued at enrolment and on regeneration.
	RecoveryCodeCount = 10
	qrSize            = 256
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// matchTOTP finds the time step, within the skew and after lastStep, whose
// code is code. A step at or before lastStep was already used: refusing it
// makes every code single-use.
func matchTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	cur := now.Unix() / totpPeriod
	found := int64(0)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step <= lastStep || step < 0 {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		// Every candidate is computed and compared, so the time taken does
		// not say which step matched.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found == 0 {
			found = step
		}
	}
	return found, found != 0
}

func badCode(op string) error { return errs.Invalid(op).Field("code", "auth.err.bad_code") }

// BeginTOTP starts enrolling an authenticator for the actor: it makes a new
// secret, keeps it as pending (the current second factor, if any, stays in
// force) and returns what the app needs. ConfirmTOTP finishes.
func (s *Service) BeginTOTP(ctx context.Context, a policy.Actor) (TOTPEnrolment, error) {
	const op = "auth: begin totp"
	if a.UserID == 0 {
		return TOTPEnrolment{}, errs.Unauthenticated(op, "")
	}
	u, err := loadUser(ctx, s.DB, a.UserID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if err := policy.Check(a, policy.SelfManage, u.Resource()); err != nil {
		return TOTPEnrolment{}, err
	}
	if err := s.sessionGate(ctx, op, a, true); err != nil {
		return TOTPEnrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer(), AccountName: u.Username, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, errs.Internal(op, err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return TOTPEnrolment{}, errs.Internal(op, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, errs.Internal(op, err)
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET totp_pending = ?, updated_at = ? WHERE id = ?", key.Secret(), now, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.totp_begin", Entity: "user",
			EntityID: idString(u.ID)})
	})
	if err != nil {
		return TOTPEnrolment{}, errs.Internal(op, err)
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: buf.Bytes()}, nil
}

// ConfirmTOTP checks the first code from the authenticator being enrolled,
// switches the second factor on (replacing any earlier authenticator) and
// returns fresh recovery codes, shown this once. The caller's session (see
// WithSession) counts as having passed the second factor.
func (s *Service) ConfirmTOTP(ctx context.Context, a policy.Actor, code string) ([]string, error) {
	const op = "auth: confirm totp"
	if a.UserID == 0 {
		return nil, errs.Unauthenticated(op, "")
	}
	u, err := loadUser(ctx, s.DB, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(a, policy.SelfManage, u.Resource()); err != nil {
		return nil, err
	}
	if err := s.sessionGate(ctx, op, a, true); err != nil {
		return nil, err
	}
	sec, err := loadSecrets(ctx, s.DB, u.ID)
	if err != nil {
		return nil, err
	}
	if sec.TOTPPending == "" {
		return nil, errs.Conflict(op, "auth.err.totp_not_started")
	}
	keys := []throttleKey{{Key: mfaKey(u.ID), Limit: s.throttle().AccountLimit}}
	if wait, err := s.lockedFor(ctx, keys); err != nil {
		return nil, errs.Internal(op, err)
	} else if wait > 0 {
		return nil, throttledErr(op, wait)
	}
	now := s.now()
	c, kind := parseCode(code)
	var step int64
	ok := false
	if kind == codeTOTP {
		// A new secret has no used steps yet.
		step, ok = matchTOTP(sec.TOTPPending, c, now, 0)
	}
	if !ok {
		if err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			_, err := s.countFailure(ctx, tx, keys)
			return err
		}); err != nil {
			return nil, errs.Internal(op, err)
		}
		return nil, badCode(op)
	}
	codes := newRecoveryCodes()
	keep := sessionHashFrom(ctx)
	after := u
	after.TOTPEnabled = true
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_enabled = ?,
			totp_last_step = ?, updated_at = ? WHERE id = ? AND totp_pending = ?`, true, step, now, u.ID, sec.TOTPPending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Conflict(op, "auth.err.totp_not_started") // a concurrent BeginTOTP replaced it
		}
		if err := replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		if keep != "" {
			if _, err := tx.Exec(ctx, "UPDATE sessions SET mfa_passed = ? WHERE id_hash = ? AND user_id = ?", true, keep, u.ID); err != nil {
				return err
			}
		}
		if err := clearThrottle(ctx, tx, keys[0].Key); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.totp_enable", Entity: "user",
			EntityID: idString(u.ID), Before: map[string]any{"totp_enabled": u.TOTPEnabled},
			After: map[string]any{"totp_enabled": true, "recovery_codes": len(codes)}})
	})
	if err != nil {
		return nil, errs.Ensure(op, err)
	}
	return codes, nil
}

// VerifyTOTP passes the second factor for the session of token, with a code
// from the authenticator or a recovery code (each recovery code works once).
// A code that was already accepted is refused. Wrong codes count against a
// per-user throttle like passwords do.
func (s *Service) VerifyTOTP(ctx context.Context, token, code string) error {
	const op = "auth: verify totp"
	se, u, err := s.Session(ctx, token)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		return errs.Conflict(op, "auth.err.totp_not_enabled")
	}
	if se.MFAPassed {
		return nil
	}
	keys := []throttleKey{{Key: mfaKey(u.ID), Limit: s.throttle().AccountLimit}}
	if k := addressKey(se.IP, s.throttle().IPv6PrefixBits); k != "" {
		keys = append(keys, throttleKey{Key: k, Limit: s.throttle().AddressLimit})
	}
	if wait, err := s.lockedFor(ctx, keys); err != nil {
		return errs.Internal(op, err)
	} else if wait > 0 {
		return throttledErr(op, wait)
	}
	sec, err := loadSecrets(ctx, s.DB, u.ID)
	if err != nil {
		return err
	}
	now := s.now()
	c, kind := parseCode(code)
	method := ""
	var step int64
	if kind == codeTOTP {
		if st, ok := matchTOTP(sec.TOTPSecret, c, now, sec.TOTPLastStep); ok {
			method, step = "totp", st
		}
	}
	var left int
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		switch {
		case method == "totp":
			// The guard on totp_last_step makes a code single-use even when
			// two requests bring it at the same moment.
			res, err := tx.Exec(ctx, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, u.ID, step)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				method = ""
			}
		case kind == codeRecovery:
			res, err := tx.Exec(ctx, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
				now, u.ID, hashRecoveryCode(c))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				method = "recovery_code"
				if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", u.ID).Scan(&left); err != nil {
					return err
				}
			}
		}
		if method == "" {
			locked, err := s.countFailure(ctx, tx, keys)
			if err != nil {
				return err
			}
			after := map[string]any{"ip": se.IP}
			if len(locked) > 0 {
				after["locked"] = locked
			}
			return audit.Record(ctx, tx, now, userActor(ctx, u), audit.Change{OrgID: u.OrgID, Action: "auth.mfa_failed",
				Entity: "user", EntityID: idString(u.ID), After: after})
		}
		if _, err := tx.Exec(ctx, "UPDATE sessions SET mfa_passed = ? WHERE id_hash = ?", true, se.IDHash); err != nil {
			return err
		}
		if err := clearThrottle(ctx, tx, keys[0].Key); err != nil {
			return err
		}
		after := map[string]any{"method": method, "ip": se.IP}
		if method == "recovery_code" {
			after["recovery_codes_left"] = left
		}
		return audit.Record(ctx, tx, now, userActor(ctx, u), audit.Change{OrgID: u.OrgID, Action: "auth.mfa_passed",
			Entity: "user", EntityID: idString(u.ID), After: after})
	})
	if err != nil {
		return errs.Internal(op, err)
	}
	if method == "" {
		return badCode(op)
	}
	return nil
}

// DisableTOTP switches a user's second factor off and deletes their recovery
// codes. The user themself must give their password, and may not when their
// organisation requires a second factor; an administrator in scope may
// always (for someone who lost their phone).
func (s *Service) DisableTOTP(ctx context.Context, a policy.Actor, userID int64, password string) error {
	const op = "auth: disable totp"
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return err
	}
	if err := checkManage(a, u); err != nil {
		return err
	}
	self := !a.System && a.UserID == userID
	if self {
		if err := s.sessionGate(ctx, op, a, false); err != nil {
			return err
		}
		if s.Orgs == nil {
			return errs.Internal(op, errNoOrgs)
		}
		req, err := s.Orgs.RequiresMFA(ctx, u.OrgID)
		if err != nil {
			return errs.Ensure(op, err)
		}
		if req {
			e := errs.Forbidden(op)
			e.Message = errs.Msg{Key: "auth.err.mfa_required_by_org"}
			return e
		}
		if err := s.checkCurrentPassword(ctx, op, u, password, "password"); err != nil {
			return err
		}
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = '', totp_pending = '', totp_enabled = ?,
			totp_last_step = 0, updated_at = ? WHERE id = ?`, false, now, userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.totp_disable", Entity: "user",
			EntityID: idString(userID), Before: map[string]any{"totp_enabled": u.TOTPEnabled},
			After: map[string]any{"totp_enabled": false, "by_self": self}})
	})
	return errs.Ensure(op, err)
}

// RegenerateRecoveryCodes replaces the actor's recovery codes with new ones,
// shown this once.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, a policy.Actor) ([]string, error) {
	const op = "auth: regenerate recovery codes"
	if a.UserID == 0 {
		return nil, errs.Unauthenticated(op, "")
	}
	u, err := loadUser(ctx, s.DB, a.UserID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(a, policy.SelfManage, u.Resource()); err != nil {
		return nil, err
	}
	if err := s.sessionGate(ctx, op, a, false); err != nil {
		return nil, err
	}
	if !u.TOTPEnabled {
		return nil, errs.Conflict(op, "auth.err.totp_not_enabled")
	}
	codes := newRecoveryCodes()
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.recovery_codes_regenerate",
			Entity: "user", EntityID: idString(u.ID), After: map[string]any{"recovery_codes": len(codes)}})
	})
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	return codes, nil
}

func newRecoveryCodes() []string {
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
	}
	return codes
}

func replaceRecoveryCodes(ctx context.Context, tx *store.Tx, userID int64, codes []string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return err
	}
	for _, c := range codes {
		n, _ := parseCode(c)
		if _, err := tx.Exec(ctx, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", userID, hashRecoveryCode(n)); err != nil {
			return err
		}
	}
	return nil
}
