package api

import (
	"net/http"
	"strconv"
	"time"

	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/policy"
)

// userJSON is a user as the API shows it; it never carries a secret.
type userJSON struct {
	ID          int64         `json:"id"`
	OrgID       int64         `json:"org_id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Email       string        `json:"email"`
	Locale      string        `json:"locale"`
	Roles       []policy.Role `json:"roles"`
	Disabled    bool          `json:"disabled"`
	TOTPEnabled bool          `json:"totp_enabled"`
	LastLoginAt *time.Time    `json:"last_login_at,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

func userOut(u auth.User) userJSON {
	j := userJSON{ID: u.ID, OrgID: u.OrgID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Locale: u.Locale, Roles: u.Roles, Disabled: u.Disabled, TOTPEnabled: u.TOTPEnabled,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if !u.LastLoginAt.IsZero() {
		t := u.LastLoginAt
		j.LastLoginAt = &t
	}
	if j.Roles == nil {
		j.Roles = []policy.Role{}
	}
	return j
}

type userBody struct {
	OrgID       int64         `json:"org_id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Email       string        `json:"email"`
	Locale      string        `json:"locale"`
	Roles       []policy.Role `json:"roles"`
	Password    string        `json:"password"`
	Disabled    *bool         `json:"disabled"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	u, err := s.Auth.GetUser(r.Context(), a, a.UserID)
	if err != nil {
		return nil, 0, err
	}
	return userOut(u), http.StatusOK, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	limit, offset, err := page(r)
	if err != nil {
		return nil, 0, err
	}
	q := r.URL.Query()
	f := auth.UserFilter{Q: q.Get("q"), Role: policy.Role(q.Get("role")), IncludeDisabled: q.Get("disabled") == "true",
		Limit: limit, Offset: offset}
	if o := q.Get("org"); o != "" {
		if f.OrgID, err = strconv.ParseInt(o, 10, 64); err != nil {
			return nil, 0, errs.Invalid("api: users").Field("org", "field.invalid")
		}
	}
	users, total, err := s.Auth.ListUsers(r.Context(), a, f)
	if err != nil {
		return nil, 0, err
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, userOut(u))
	}
	return List[userJSON]{Items: out, Total: total, Limit: limit, Offset: offset}, http.StatusOK, nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	var b userBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if b.Disabled != nil {
		return nil, 0, errs.Invalid("api: create user").Field("disabled", "error.unknown_field", "disabled")
	}
	u, err := s.Auth.CreateUser(r.Context(), a, auth.UserInput{OrgID: b.OrgID, Username: b.Username,
		DisplayName: b.DisplayName, Email: b.Email, Locale: b.Locale, Roles: b.Roles, Password: b.Password})
	if err != nil {
		return nil, 0, err
	}
	w.Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	return userOut(u), http.StatusCreated, nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	u, err := s.Auth.GetUser(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	return userOut(u), http.StatusOK, nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	cur, err := s.Auth.GetUser(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	b := userBody{OrgID: cur.OrgID, Username: cur.Username, DisplayName: cur.DisplayName, Email: cur.Email,
		Locale: cur.Locale, Roles: cur.Roles}
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	if b.Password != "" {
		return nil, 0, errs.Invalid("api: update user").Field("password", "api.err.password_here")
	}
	ctx := r.Context()
	// Disabling is a second write after UpdateUser: refuse it before the
	// first one, so that a refused request changes nothing.
	if b.Disabled != nil && *b.Disabled != cur.Disabled {
		if err := policy.Check(a, policy.UserWrite, cur.Resource()); err != nil {
			return nil, 0, err
		}
		if *b.Disabled && !a.System && a.UserID == id {
			return nil, 0, errs.Invalid("api: update user").Field("disabled", "auth.err.cannot_disable_self")
		}
	}
	u, err := s.Auth.UpdateUser(ctx, a, id, auth.UserInput{OrgID: b.OrgID, Username: b.Username,
		DisplayName: b.DisplayName, Email: b.Email, Locale: b.Locale, Roles: b.Roles})
	if err != nil {
		return nil, 0, err
	}
	if b.Disabled != nil && *b.Disabled != u.Disabled {
		if err := s.Auth.SetDisabled(ctx, a, id, *b.Disabled); err != nil {
			return nil, 0, err
		}
		if u, err = s.Auth.GetUser(ctx, a, id); err != nil {
			return nil, 0, err
		}
	}
	return userOut(u), http.StatusOK, nil
}

type tokenJSON struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Token is the plaintext, present only in the answer that creates it.
	Token string `json:"token,omitempty"`
}

func tokenOut(t auth.Token) tokenJSON {
	j := tokenJSON{ID: t.ID, UserID: t.UserID, Name: t.Name, Prefix: t.Prefix, Scopes: t.Scopes,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
	if !t.RevokedAt.IsZero() {
		v := t.RevokedAt
		j.RevokedAt = &v
	}
	if !t.LastUsedAt.IsZero() {
		v := t.LastUsedAt
		j.LastUsedAt = &v
	}
	return j
}

type tokenBody struct {
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	ts, err := s.Auth.ListTokens(r.Context(), a, id)
	if err != nil {
		return nil, 0, err
	}
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenOut(t))
	}
	return map[string]any{"items": out}, http.StatusOK, nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	var b tokenBody
	if err := decode(r, &b); err != nil {
		return nil, 0, err
	}
	t, plain, err := s.Auth.CreateToken(r.Context(), a, id, b.Name, b.Scopes, b.ExpiresAt)
	if err != nil {
		return nil, 0, err
	}
	out := tokenOut(t)
	out.Token = plain
	return out, http.StatusCreated, nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a policy.Actor) (any, int, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, 0, err
	}
	tid, err := pathID(r, "tid")
	if err != nil {
		return nil, 0, err
	}
	return nil, http.StatusNoContent, s.Auth.RevokeToken(r.Context(), a, id, tid)
}
