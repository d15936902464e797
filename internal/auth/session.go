package auth

import (
	"context"
	"errors"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/obs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

var errNoOrgs = errors.New("auth: Service.Orgs is not set")

// touchEvery is how stale last_seen_at / last_used_at may get before a
// request writes it again.
const touchEvery = time.Minute

const maxUserAgentLen = 512

// userActor is the actor of a user acting on their own account before the
// request has a full actor (login, logout, second factor).
func userActor(ctx context.Context, u User) policy.Actor {
	return policy.Actor{UserID: u.ID, Username: u.Username, OrgID: u.OrgID, Roles: u.Roles, RequestID: obs.RequestID(ctx)}
}

// Login checks a username and password and opens a session. Failures are
// counted per account and per client address; past the limit the answer is
// errs.TooMany until the lock ends. A wrong password, an unknown username and
// a disabled account all give the same answer, in about the same time.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (LoginResult, error) {
	const op = "auth: login"
	name := truncate(NormalizeUsername(username), 2*MaxUsernameLen)
	userAgent = truncate(userAgent, maxUserAgentLen)
	ip = truncate(ip, 64)
	keys := s.loginKeys(name, ip)
	if wait, err := s.lockedFor(ctx, keys); err != nil {
		return LoginResult{}, errs.Internal(op, err)
	} else if wait > 0 {
		return LoginResult{}, throttledErr(op, wait)
	}

	u, err := loadUserByName(ctx, s.DB, name)
	known := err == nil
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return LoginResult{}, err
	}
	var ok, rehash bool
	if known {
		sec, err := loadSecrets(ctx, s.DB, u.ID)
		if err != nil {
			return LoginResult{}, err
		}
		ok, rehash, err = s.verifyPassword(ctx, password, sec.PasswordHash)
		if err != nil {
			// An account without a usable hash (created by a script, say)
			// cannot sign in with a password.
			s.log().Warn("unusable password hash", "user_id", u.ID, "err", err)
			ok = false
		}
	} else {
		s.burnDummy(ctx, password)
	}
	reason := ""
	switch {
	case !known:
		reason = "unknown_user"
	case !ok:
		reason = "bad_password"
	case u.Disabled:
		reason = "disabled"
	case !s.orgActive(ctx, u.OrgID):
		// A deactivated member's people lose access with it; said as
		// plainly as a wrong password, so nothing is learnt from it.
		reason = "org_inactive"
	}
	if reason != "" {
		if err := s.loginFailed(ctx, name, u, ip, userAgent, reason, keys); err != nil {
			return LoginResult{}, errs.Internal(op, err)
		}
		return LoginResult{}, errs.Unauthenticated(op, "auth.err.bad_credentials")
	}

	needEnroll := false
	if !u.TOTPEnabled {
		if s.Orgs == nil {
			return LoginResult{}, errs.Internal(op, errNoOrgs)
		}
		req, err := s.Orgs.RequiresMFA(ctx, u.OrgID)
		if err != nil {
			return LoginResult{}, errs.Ensure(op, err)
		}
		needEnroll = req
	}
	var newHash string
	if rehash {
		if newHash, err = s.hashPassword(ctx, password); err != nil {
			s.log().Warn("rehash password", "user_id", u.ID, "err", err)
			newHash = ""
		}
	}
	now := s.now()
	token := newSessionToken()
	sess := Session{IDHash: hashSecret(token), UserID: u.ID, CSRFToken: randomToken(32),
		MFAPassed: !u.TOTPEnabled && !needEnroll, IP: ip, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.sessionTTL())}
	sess.NeedMFA = !sess.MFAPassed && u.TOTPEnabled
	sess.NeedEnroll = !sess.MFAPassed && !u.TOTPEnabled
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, mfa_passed, ip, user_agent,
			created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.IDHash, sess.UserID, sess.CSRFToken, sess.MFAPassed, sess.IP, sess.UserAgent,
			sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET last_login_at = ? WHERE id = ?", now, u.ID); err != nil {
			return err
		}
		if newHash != "" {
			if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", newHash, u.ID); err != nil {
				return err
			}
		}
		// Only the account's counter is forgiven: an address that guessed
		// other accounts' passwords stays counted.
		if err := clearThrottle(ctx, tx, keys[0].Key); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, userActor(ctx, u), audit.Change{OrgID: u.OrgID, Action: "auth.login",
			Entity: "user", EntityID: idString(u.ID), After: map[string]any{
				"ip": ip, "user_agent": userAgent, "need_mfa": sess.NeedMFA, "need_enroll": sess.NeedEnroll}})
	})
	if err != nil {
		return LoginResult{}, errs.Internal(op, err)
	}
	u.LastLoginAt = now
	return LoginResult{User: u, SessionToken: token, Session: sess, NeedMFA: sess.NeedMFA, NeedEnroll: sess.NeedEnroll}, nil
}

// loginFailed counts the failure and writes the audit entry; the actor is
// named by the username that was tried.
func (s *Service) loginFailed(ctx context.Context, name string, u User, ip, userAgent, reason string, keys []throttleKey) error {
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		locked, err := s.countFailure(ctx, tx, keys)
		if err != nil {
			return err
		}
		entityID := ""
		if u.ID != 0 {
			entityID = idString(u.ID)
		}
		label := truncate(name, MaxUsernameLen)
		if label == "" {
			label = "anonymous"
		}
		after := map[string]any{"username": label, "ip": ip, "user_agent": userAgent, "reason": reason}
		if len(locked) > 0 {
			after["locked"] = locked
		}
		return audit.Record(ctx, tx, now, policy.Actor{Username: label, RequestID: obs.RequestID(ctx)}, audit.Change{OrgID: u.OrgID,
			Action: "auth.login_failed", Entity: "user", EntityID: entityID, After: after})
	})
}

const sessionCols = `id_hash, user_id, csrf_token, mfa_passed, ip, user_agent, created_at, last_seen_at, expires_at`

func scanSession(sc scanner) (Session, error) {
	var se Session
	err := sc.Scan(&se.IDHash, &se.UserID, &se.CSRFToken, &se.MFAPassed, &se.IP, &se.UserAgent,
		&se.CreatedAt, &se.LastSeenAt, &se.ExpiresAt)
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = se.CreatedAt.UTC(), se.LastSeenAt.UTC(), se.ExpiresAt.UTC()
	return se, err
}

// Session returns the live session for a cookie token and its user. An
// unknown, expired (absolute or idle) session, or one whose user is
// disabled, is errs.Unauthenticated. The session's NeedMFA and NeedEnroll
// say whether the user must still pass or set up the second factor.
func (s *Service) Session(ctx context.Context, token string) (Session, User, error) {
	const op = "auth: session"
	if !validSessionToken(token) {
		return Session{}, User{}, errs.Unauthenticated(op, "")
	}
	se, err := scanSession(s.DB.QueryRow(ctx, "SELECT "+sessionCols+" FROM sessions WHERE id_hash = ?", hashSecret(token)))
	if store.IsNoRows(err) {
		return Session{}, User{}, errs.Unauthenticated(op, "")
	}
	if err != nil {
		return Session{}, User{}, errs.Internal(op, err)
	}
	now := s.now()
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) > s.idleTimeout() {
		if _, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", se.IDHash); err != nil {
			s.log().Warn("delete expired session", "err", err)
		}
		return Session{}, User{}, errs.Unauthenticated(op, "auth.err.session_expired")
	}
	u, err := loadUser(ctx, s.DB, se.UserID)
	if errs.Is(err, errs.KindNotFound) {
		return Session{}, User{}, errs.Unauthenticated(op, "")
	}
	if err != nil {
		return Session{}, User{}, err
	}
	if u.Disabled {
		return Session{}, User{}, errs.Unauthenticated(op, "")
	}
	if now.Sub(se.LastSeenAt) >= touchEvery {
		if _, err := s.DB.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", now, se.IDHash); err != nil {
			return Session{}, User{}, errs.Internal(op, err)
		}
		se.LastSeenAt = now
	}
	se.NeedMFA = !se.MFAPassed && u.TOTPEnabled
	se.NeedEnroll = !se.MFAPassed && !u.TOTPEnabled
	return se, u, nil
}

// Logout ends the session of token. An unknown token is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	const op = "auth: logout"
	if !validSessionToken(token) {
		return nil
	}
	h := hashSecret(token)
	var userID int64
	err := s.DB.QueryRow(ctx, "SELECT user_id FROM sessions WHERE id_hash = ?", h).Scan(&userID)
	if store.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return errs.Internal(op, err)
	}
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", h)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // a concurrent logout got there first
		}
		return audit.Record(ctx, tx, now, userActor(ctx, u), audit.Change{OrgID: u.OrgID, Action: "auth.logout",
			Entity: "user", EntityID: idString(u.ID)})
	})
	return errs.Ensure(op, err)
}

// RevokeSessions signs a user out everywhere: the user themself or an
// administrator in scope.
func (s *Service) RevokeSessions(ctx context.Context, a policy.Actor, userID int64) error {
	const op = "auth: revoke sessions"
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return err
	}
	if err := checkManage(a, u); err != nil {
		return err
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		n, err := deleteSessions(ctx, tx, userID, "")
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.sessions_revoke",
			Entity: "user", EntityID: idString(userID), After: map[string]any{"sessions_ended": n}})
	})
	return errs.Ensure(op, err)
}

// Sessions lists a user's live sessions, most recently used first, for the
// user themself or an administrator or auditor in scope. CSRF tokens are
// left out.
func (s *Service) Sessions(ctx context.Context, a policy.Actor, userID int64) ([]Session, error) {
	const op = "auth: sessions"
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(a, policy.UserRead, u.Resource()); err != nil {
		return nil, err
	}
	now := s.now()
	rows, err := s.DB.Query(ctx, "SELECT "+sessionCols+` FROM sessions WHERE user_id = ? AND expires_at > ?
		AND last_seen_at > ? ORDER BY last_seen_at DESC, created_at DESC`, userID, now, now.Add(-s.idleTimeout()))
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		se, err := scanSession(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		se.CSRFToken = ""
		se.NeedMFA = !se.MFAPassed && u.TOTPEnabled
		se.NeedEnroll = !se.MFAPassed && !u.TOTPEnabled
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// PruneExpired deletes sessions past their lifetime or idle timeout and
// throttle counters whose window and lock are over. A background job runs it.
func (s *Service) PruneExpired(ctx context.Context) error {
	const op = "auth: prune"
	now := s.now()
	t := s.throttle()
	res, err := s.DB.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
		now, now.Add(-s.idleTimeout()))
	if err != nil {
		return errs.Internal(op, err)
	}
	sessions, _ := res.RowsAffected()
	res, err = s.DB.Exec(ctx, `DELETE FROM login_throttle WHERE window_start <= ?
		AND (locked_until IS NULL OR locked_until <= ?)`, now.Add(-t.Window), now)
	if err != nil {
		return errs.Internal(op, err)
	}
	counters, _ := res.RowsAffected()
	if sessions+counters > 0 {
		s.log().Debug("pruned", "sessions", sessions, "throttle_counters", counters)
	}
	return nil
}

// sessionGate refuses a change to the actor's own credentials when the
// request came with a session (see WithSession) that has not passed the
// second factor: a stolen password alone must not be enough to replace the
// authenticator, mint a token or change the password. A session that must
// enrol may take the enrolment steps (enrolling).
func (s *Service) sessionGate(ctx context.Context, op string, a policy.Actor, enrolling bool) error {
	h := sessionHashFrom(ctx)
	if h == "" || a.UserID == 0 {
		return nil
	}
	var userID int64
	var passed, totpOn bool
	err := s.DB.QueryRow(ctx, `SELECT s.user_id, s.mfa_passed, u.totp_enabled FROM sessions s
		JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, h).Scan(&userID, &passed, &totpOn)
	if store.IsNoRows(err) {
		return errs.Unauthenticated(op, "auth.err.session_expired")
	}
	if err != nil {
		return errs.Internal(op, err)
	}
	if userID != a.UserID || passed || (enrolling && !totpOn) {
		return nil
	}
	return errs.Forbidden(op)
}

// Rotate gives a session a new token and a new CSRF token, keeping
// everything else. The web UI rotates once the second factor passes, so a
// token planted or seen before the login (session fixation) is worth nothing
// afterwards. It returns the new plaintext token.
func (s *Service) Rotate(ctx context.Context, token string) (string, error) {
	const op = "auth: rotate session"
	if !validSessionToken(token) {
		return "", errs.Unauthenticated(op, "")
	}
	nt := newSessionToken()
	res, err := s.DB.Exec(ctx, "UPDATE sessions SET id_hash = ?, csrf_token = ? WHERE id_hash = ?",
		hashSecret(nt), randomToken(32), hashSecret(token))
	if err != nil {
		return "", errs.Internal(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", errs.Unauthenticated(op, "")
	}
	return nt, nil
}
