package auth

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Token scopes.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// TokenScopes lists the scopes a token may have.
var TokenScopes = []string{ScopeRead, ScopeWrite}

const maxTokenNameLen = 100

const tokenCols = `id, user_id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at`

func scanToken(sc scanner) (Token, error) {
	var t Token
	var scopes string
	var revoked, used sql.NullTime
	if err := sc.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &scopes, &t.CreatedAt, &t.ExpiresAt, &revoked, &used); err != nil {
		return Token{}, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if revoked.Valid {
		t.RevokedAt = revoked.Time.UTC()
	}
	if used.Valid {
		t.LastUsedAt = used.Time.UTC()
	}
	return t, nil
}

// tokenView is a token as the audit log records it.
type tokenView struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateToken issues an API token for a user: for themself (SelfManage) or,
// by an administrator in scope, for another user (a service account, say).
// A zero expiresAt means TokenDefaultTTL from now; it may be at most
// TokenMaxTTL away. The plaintext is returned this once; only its SHA-256
// is kept.
func (s *Service) CreateToken(ctx context.Context, a policy.Actor, userID int64, name string, scopes []string, expiresAt time.Time) (Token, string, error) {
	const op = "auth: create token"
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return Token{}, "", err
	}
	if err := checkManage(a, u); err != nil {
		return Token{}, "", err
	}
	if err := s.sessionGate(ctx, op, a, false); err != nil {
		return Token{}, "", err
	}
	now := s.now()
	v := errs.Invalid(op)
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		v.Field("name", "field.required")
	case utf8.RuneCountInString(name) > maxTokenNameLen:
		v.Field("name", "field.too_long", maxTokenNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0 || !utf8.ValidString(name):
		v.Field("name", "field.invalid")
	}
	var sc []string
	for _, x := range scopes {
		x = strings.ToLower(strings.TrimSpace(x))
		if !slices.Contains(TokenScopes, x) {
			v.Field("scopes", "auth.err.token_scopes")
			break
		}
		if !slices.Contains(sc, x) {
			sc = append(sc, x)
		}
	}
	if len(sc) == 0 {
		v.Field("scopes", "auth.err.token_scopes")
	}
	slices.Sort(sc)
	if expiresAt.IsZero() {
		expiresAt = now.Add(s.tokenDefaultTTL())
	}
	expiresAt = expiresAt.UTC().Truncate(time.Microsecond)
	switch {
	case !expiresAt.After(now):
		v.Field("expires_at", "auth.err.token_expiry_past")
	case expiresAt.After(now.Add(s.tokenMaxTTL())):
		v.Field("expires_at", "auth.err.token_expiry_too_far", int(s.tokenMaxTTL()/(24*time.Hour)))
	}
	if err := v.OrNil(); err != nil {
		return Token{}, "", err
	}
	plain := newAPIToken()
	t := Token{UserID: userID, Name: name, Prefix: plain[:tokenShown], Scopes: sc, CreatedAt: now, ExpiresAt: expiresAt}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, token_hash, scopes, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, userID, name, t.Prefix, hashSecret(plain), strings.Join(sc, " "),
			now, expiresAt).Scan(&t.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "token.create", Entity: "api_token",
			EntityID: idString(t.ID), After: tokenView{ID: t.ID, UserID: userID, Name: name, Prefix: t.Prefix,
				Scopes: sc, ExpiresAt: expiresAt}})
	})
	if err != nil {
		return Token{}, "", errs.Internal(op, err)
	}
	return t, plain, nil
}

// ListTokens lists a user's tokens, newest first, revoked and expired ones
// included: for the user themself or an administrator or auditor in scope.
func (s *Service) ListTokens(ctx context.Context, a policy.Actor, userID int64) ([]Token, error) {
	const op = "auth: list tokens"
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(a, policy.UserRead, u.Resource()); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC", userID)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// RevokeToken revokes one of a user's tokens: the user themself or an
// administrator in scope. Revoking a revoked token changes nothing.
func (s *Service) RevokeToken(ctx context.Context, a policy.Actor, userID, tokenID int64) error {
	const op = "auth: revoke token"
	u, err := loadUser(ctx, s.DB, userID)
	if err != nil {
		return err
	}
	if err := checkManage(a, u); err != nil {
		return err
	}
	t, err := scanToken(s.DB.QueryRow(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE id = ? AND user_id = ?", tokenID, userID))
	if store.IsNoRows(err) {
		return errs.NotFound(op)
	}
	if err != nil {
		return errs.Internal(op, err)
	}
	if !t.RevokedAt.IsZero() {
		return nil
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, tokenID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "token.revoke", Entity: "api_token",
			EntityID: idString(tokenID), Before: tokenView{ID: t.ID, UserID: userID, Name: t.Name, Prefix: t.Prefix,
				Scopes: t.Scopes, ExpiresAt: t.ExpiresAt}, After: map[string]any{"revoked_at": now}})
	})
	return errs.Ensure(op, err)
}

// AuthenticateToken turns an API token (the Bearer value) into an actor
// limited to the token's scopes. An expired token is
// errs.Unauthenticated "auth.err.token_expired"; an unknown, malformed or
// revoked token, or one whose user is disabled, "auth.err.token_invalid".
func (s *Service) AuthenticateToken(ctx context.Context, plaintext, requestID string) (policy.Actor, User, error) {
	const op = "auth: token"
	invalid := errs.Unauthenticated(op, "auth.err.token_invalid")
	plain, ok := parseToken(plaintext)
	if !ok {
		return policy.Actor{}, User{}, invalid
	}
	t, err := scanToken(s.DB.QueryRow(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE token_hash = ?", hashSecret(plain)))
	if store.IsNoRows(err) {
		return policy.Actor{}, User{}, invalid
	}
	if err != nil {
		return policy.Actor{}, User{}, errs.Internal(op, err)
	}
	now := s.now()
	if !t.RevokedAt.IsZero() {
		return policy.Actor{}, User{}, invalid
	}
	if !now.Before(t.ExpiresAt) {
		return policy.Actor{}, User{}, errs.Unauthenticated(op, "auth.err.token_expired")
	}
	u, err := loadUser(ctx, s.DB, t.UserID)
	if errs.Is(err, errs.KindNotFound) {
		return policy.Actor{}, User{}, invalid
	}
	if err != nil {
		return policy.Actor{}, User{}, err
	}
	if u.Disabled {
		return policy.Actor{}, User{}, invalid
	}
	if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) >= touchEvery {
		if _, err := s.DB.Exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, t.ID); err != nil {
			return policy.Actor{}, User{}, errs.Internal(op, err)
		}
	}
	a, err := s.ActorFor(ctx, u, requestID)
	if err != nil {
		return policy.Actor{}, User{}, err
	}
	a.TokenScopes = slices.Clone(t.Scopes)
	if len(a.TokenScopes) == 0 {
		// A token always has a scope; an empty list would mean "no limit"
		// to policy, so an unexpected empty row is read-only.
		a.TokenScopes = []string{ScopeRead}
	}
	return a, u, nil
}
