package auth

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/obs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Field limits.
const (
	MinUsernameLen    = 3
	MaxUsernameLen    = 64
	MaxDisplayNameLen = 200
	MaxEmailLen       = 254
)

// NormalizeUsername is how a username is compared and stored: trimmed and in
// lower case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validUsername: 3–64 characters of [a-z0-9._-], starting with a letter or a
// digit (so it is never mistaken for a command-line flag or a hidden file).
func validUsername(s string) bool {
	if len(s) < MinUsernameLen || len(s) > MaxUsernameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

func validLocale(s string) bool {
	for _, l := range i18n.Langs {
		if string(l) == s {
			return true
		}
	}
	return false
}

// validateProfile checks and cleans the fields a user may change about
// themself.
func validateProfile(v *errs.Error, in *UserInput) {
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	in.Email = strings.TrimSpace(in.Email)
	in.Locale = strings.ToLower(strings.TrimSpace(in.Locale))
	switch {
	case utf8.RuneCountInString(in.DisplayName) > MaxDisplayNameLen:
		v.Field("display_name", "field.too_long", MaxDisplayNameLen)
	case !utf8.ValidString(in.DisplayName) || strings.IndexFunc(in.DisplayName, unicode.IsControl) >= 0:
		v.Field("display_name", "field.invalid")
	}
	if in.Email != "" {
		if len(in.Email) > MaxEmailLen {
			v.Field("email", "field.too_long", MaxEmailLen)
		} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || a.Name != "" {
			v.Field("email", "field.invalid_email")
		}
	}
	if in.Locale != "" && !validLocale(in.Locale) {
		v.Field("locale", "field.invalid_choice")
	}
}

// validateRoles checks roles and returns them without duplicates, in
// policy.Roles order.
func validateRoles(v *errs.Error, roles []policy.Role) []policy.Role {
	var out []policy.Role
	for _, r := range roles {
		if !policy.ValidRole(r) {
			v.Field("roles", "field.invalid_choice")
			return nil
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		v.Field("roles", "auth.err.role_required")
		return nil
	}
	sortRoles(out)
	return out
}

func usernameConflict(op string) error {
	return errs.Conflict(op, "auth.err.username_taken").Field("username", "auth.err.username_taken")
}

// CreateUser creates an account with a first password. A zero OrgID means
// the actor's own organisation.
func (s *Service) CreateUser(ctx context.Context, a policy.Actor, in UserInput) (User, error) {
	const op = "auth: create user"
	if in.OrgID == 0 && !a.System {
		in.OrgID = a.OrgID
	}
	if err := policy.Check(a, policy.UserWrite, policy.Resource{OwnerOrg: in.OrgID, TLP: policy.TLPAmber}); err != nil {
		return User{}, err
	}
	in.Username = NormalizeUsername(in.Username)
	v := errs.Invalid(op)
	if in.OrgID == 0 {
		v.Field("org_id", "field.required")
	} else if ok, err := orgExists(ctx, s.DB, in.OrgID); err != nil {
		return User{}, errs.Internal(op, err)
	} else if !ok {
		v.Field("org_id", "field.invalid_choice")
	}
	if in.Username == "" {
		v.Field("username", "field.required")
	} else if !validUsername(in.Username) {
		v.Field("username", "auth.err.username_invalid", MinUsernameLen, MaxUsernameLen)
	}
	validateProfile(v, &in)
	if in.Locale == "" {
		in.Locale = string(i18n.VI)
	}
	roles := validateRoles(v, in.Roles)
	if key, args := checkPassword(in.Username, in.Password); key != "" {
		v.Field("password", key, args...)
	}
	if err := v.OrNil(); err != nil {
		return User{}, err
	}
	if taken, err := usernameTaken(ctx, s.DB, in.Username, 0); err != nil {
		return User{}, errs.Internal(op, err)
	} else if taken {
		return User{}, usernameConflict(op)
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return User{}, errs.Internal(op, err)
	}
	now := s.now()
	u := User{OrgID: in.OrgID, Username: in.Username, DisplayName: in.DisplayName, Email: in.Email,
		Locale: in.Locale, Roles: roles, CreatedAt: now, UpdatedAt: now}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := insertUser(ctx, tx, u, hash)
		if err != nil {
			return err
		}
		u.ID = id
		if err := setRoles(ctx, tx, u.ID, u.Roles); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.create", Entity: "user",
			EntityID: idString(u.ID), After: viewOf(u)})
	})
	if store.IsUniqueViolation(err) {
		return User{}, usernameConflict(op)
	}
	if err != nil {
		return User{}, errs.Internal(op, err)
	}
	return u, nil
}

// UpdateUser changes a user. An administrator in scope (UserWrite) may change
// everything, moving the user only to an organisation also in scope; the
// user themself (SelfManage) may change their display name, e-mail and
// language.
func (s *Service) UpdateUser(ctx context.Context, a policy.Actor, id int64, in UserInput) (User, error) {
	const op = "auth: update user"
	before, err := loadUser(ctx, s.DB, id)
	if err != nil {
		return User{}, err
	}
	adminErr := policy.Check(a, policy.UserWrite, before.Resource())
	admin := adminErr == nil
	if !admin {
		if policy.Check(a, policy.SelfManage, before.Resource()) != nil {
			return User{}, adminErr
		}
	}
	in.Username = NormalizeUsername(in.Username)
	after := before
	after.Roles = slices.Clone(before.Roles)
	if !admin {
		// Only an administrator changes who someone is or what they may do.
		if (in.OrgID != 0 && in.OrgID != before.OrgID) || (in.Username != "" && in.Username != before.Username) ||
			(in.Roles != nil && !sameRoles(in.Roles, before.Roles)) {
			return User{}, errs.Forbidden(op)
		}
	} else if in.OrgID != 0 && in.OrgID != before.OrgID {
		if err := policy.Check(a, policy.UserWrite, policy.Resource{OwnerOrg: in.OrgID, TLP: policy.TLPAmber}); err != nil {
			return User{}, err
		}
	}
	v := errs.Invalid(op)
	if in.Username != "" && in.Username != before.Username {
		if !validUsername(in.Username) {
			v.Field("username", "auth.err.username_invalid", MinUsernameLen, MaxUsernameLen)
		}
		after.Username = in.Username
	}
	if in.OrgID != 0 && in.OrgID != before.OrgID {
		if ok, err := orgExists(ctx, s.DB, in.OrgID); err != nil {
			return User{}, errs.Internal(op, err)
		} else if !ok {
			v.Field("org_id", "field.invalid_choice")
		}
		after.OrgID = in.OrgID
	}
	validateProfile(v, &in)
	after.DisplayName, after.Email = in.DisplayName, in.Email
	if in.Locale != "" {
		after.Locale = in.Locale
	}
	if in.Roles != nil {
		after.Roles = validateRoles(v, in.Roles)
	}
	if err := v.OrNil(); err != nil {
		return User{}, err
	}
	if after.Username != before.Username {
		if taken, err := usernameTaken(ctx, s.DB, after.Username, id); err != nil {
			return User{}, errs.Internal(op, err)
		} else if taken {
			return User{}, usernameConflict(op)
		}
	}
	after.UpdatedAt = s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := updateUserRow(ctx, tx, after); err != nil {
			return err
		}
		if !sameRoles(after.Roles, before.Roles) {
			if err := setRoles(ctx, tx, id, after.Roles); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, after.UpdatedAt, a, audit.Change{OrgID: after.OrgID, Action: "user.update",
			Entity: "user", EntityID: idString(id), Before: viewOf(before), After: viewOf(after)})
	})
	if store.IsUniqueViolation(err) {
		return User{}, usernameConflict(op)
	}
	if err != nil {
		return User{}, errs.Internal(op, err)
	}
	return after, nil
}

func sameRoles(a, b []policy.Role) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// checkManage allows the user themself (SelfManage) or an administrator of
// the user's organisation (UserWrite).
func checkManage(a policy.Actor, u User) error {
	if !a.System && a.UserID != 0 && a.UserID == u.ID {
		return policy.Check(a, policy.SelfManage, u.Resource())
	}
	return policy.Check(a, policy.UserWrite, u.Resource())
}

// SetDisabled disables or re-enables an account. A disabled user's sessions
// end at once and their API tokens stop working. Nobody disables themself.
func (s *Service) SetDisabled(ctx context.Context, a policy.Actor, id int64, disabled bool) error {
	const op = "auth: set disabled"
	u, err := loadUser(ctx, s.DB, id)
	if err != nil {
		return err
	}
	if err := policy.Check(a, policy.UserWrite, u.Resource()); err != nil {
		return err
	}
	if disabled && !a.System && a.UserID == id {
		return errs.Invalid(op).Field("disabled", "auth.err.cannot_disable_self")
	}
	if u.Disabled == disabled {
		return nil
	}
	now := s.now()
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	after := u
	after.Disabled = disabled
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?", disabled, now, id); err != nil {
			return err
		}
		if disabled {
			if _, err := deleteSessions(ctx, tx, id, ""); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: action, Entity: "user",
			EntityID: idString(id), Before: viewOf(u), After: viewOf(after)})
	})
	return errs.Ensure(op, err)
}

// GetUser returns a user the actor may read: themself, or anyone in scope
// for administrators and auditors.
func (s *Service) GetUser(ctx context.Context, a policy.Actor, id int64) (User, error) {
	u, err := loadUser(ctx, s.DB, id)
	if err != nil {
		return User{}, err
	}
	if err := policy.Check(a, policy.UserRead, u.Resource()); err != nil {
		return User{}, err
	}
	return u, nil
}

// GetByUsername is GetUser by username.
func (s *Service) GetByUsername(ctx context.Context, a policy.Actor, username string) (User, error) {
	u, err := loadUserByName(ctx, s.DB, NormalizeUsername(username))
	if err != nil {
		return User{}, err
	}
	if err := policy.Check(a, policy.UserRead, u.Resource()); err != nil {
		return User{}, err
	}
	return u, nil
}

// ListUsers returns a page of users, ordered by username, and the total
// count. Administrators and auditors see the users in their scope; anyone
// else sees only themself.
func (s *Service) ListUsers(ctx context.Context, a policy.Actor, f UserFilter) ([]User, int, error) {
	const op = "auth: list users"
	if !a.System && a.UserID == 0 && a.OrgID == 0 {
		return nil, 0, errs.Unauthenticated(op, "")
	}
	full := policy.Check(a, policy.UserRead, policy.Resource{OwnerOrg: a.OrgID, TLP: policy.TLPAmber}) == nil
	var where []string
	var args []any
	if f.OrgID != 0 {
		if full {
			if err := policy.Check(a, policy.UserRead, policy.Resource{OwnerOrg: f.OrgID, TLP: policy.TLPAmber}); err != nil {
				return nil, 0, err
			}
		}
		where = append(where, "org_id = ?")
		args = append(args, f.OrgID)
	}
	switch {
	case !full:
		where = append(where, "id = ?")
		args = append(args, a.UserID)
	case !a.Scope.All:
		ids := a.Scope.IDs()
		if len(ids) == 0 {
			return []User{}, 0, nil
		}
		in, inArgs := store.InList(ids)
		where = append(where, "org_id IN "+in)
		args = append(args, inArgs...)
	}
	if q := i18n.Fold(truncate(f.Q, 200)); q != "" {
		where = append(where, "search_text LIKE ? ESCAPE '\\'")
		args = append(args, store.Like(q))
	}
	if f.Role != "" {
		if !policy.ValidRole(f.Role) {
			return nil, 0, errs.Invalid(op).Field("role", "field.invalid_choice")
		}
		where = append(where, "id IN (SELECT user_id FROM user_roles WHERE role = ?)")
		args = append(args, string(f.Role))
	}
	if !f.IncludeDisabled {
		where = append(where, "disabled = ?")
		args = append(args, false)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM users"+cond, args...).Scan(&total); err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	rows, err := s.DB.Query(ctx, "SELECT "+userCols+" FROM users"+cond+" ORDER BY username LIMIT ? OFFSET ?",
		append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	defer rows.Close()
	out := []User{}
	var ids []int64
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, errs.Internal(op, err)
		}
		out = append(out, u)
		ids = append(ids, u.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errs.Internal(op, err)
	}
	rows.Close()
	roles, err := loadRoles(ctx, s.DB, ids)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Roles = roles[out[i].ID]
	}
	return out, total, nil
}

// SetLocale sets the actor's own interface language.
func (s *Service) SetLocale(ctx context.Context, a policy.Actor, locale string) error {
	const op = "auth: set locale"
	if a.UserID == 0 {
		return errs.Unauthenticated(op, "")
	}
	u, err := loadUser(ctx, s.DB, a.UserID)
	if err != nil {
		return err
	}
	if err := policy.Check(a, policy.SelfManage, u.Resource()); err != nil {
		return err
	}
	locale = strings.ToLower(strings.TrimSpace(locale))
	if !validLocale(locale) {
		return errs.Invalid(op).Field("locale", "field.invalid_choice")
	}
	if locale == u.Locale {
		return nil
	}
	after := u
	after.Locale = locale
	after.UpdatedAt = s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET locale = ?, updated_at = ? WHERE id = ?", locale, after.UpdatedAt, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, after.UpdatedAt, a, audit.Change{OrgID: u.OrgID, Action: "user.update",
			Entity: "user", EntityID: idString(u.ID), Before: viewOf(u), After: viewOf(after)})
	})
	return errs.Ensure(op, err)
}

// ActorFor builds the actor for a signed-in user: roles, organisation and
// scope (the organisation and its subtree, or the whole network). An empty
// requestID is taken from ctx (obs.RequestID). A disabled user has no actor.
func (s *Service) ActorFor(ctx context.Context, u User, requestID string) (policy.Actor, error) {
	const op = "auth: actor"
	if u.ID == 0 || u.Disabled {
		return policy.Actor{}, errs.Unauthenticated(op, "")
	}
	if requestID == "" {
		requestID = obs.RequestID(ctx)
	}
	if s.Orgs == nil {
		return policy.Actor{}, errs.Internal(op, errNoOrgs)
	}
	if !s.orgActive(ctx, u.OrgID) {
		return policy.Actor{}, errs.Unauthenticated(op, "")
	}
	scope, err := s.Orgs.ScopeOf(ctx, u.OrgID)
	if err != nil {
		return policy.Actor{}, errs.Ensure(op, err)
	}
	return policy.Actor{UserID: u.ID, Username: u.Username, OrgID: u.OrgID, Roles: slices.Clone(u.Roles),
		Scope: scope, RequestID: requestID}, nil
}

// orgActive reports whether the user's organisation is an active member;
// an error reading it counts as inactive (fail closed).
func (s *Service) orgActive(ctx context.Context, orgID int64) bool {
	if s.Orgs == nil {
		return false
	}
	ok, err := s.Orgs.Active(ctx, orgID)
	if err != nil {
		s.log().Warn("organisation state", "org_id", orgID, "err", err)
		return false
	}
	return ok
}
