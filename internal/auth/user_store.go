package auth

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"certnet/internal/errs"
	"certnet/internal/i18n"
	"certnet/internal/policy"
	"certnet/internal/store"
)

const userCols = `id, org_id, username, display_name, email, locale, disabled, totp_enabled,
	last_login_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(sc scanner) (User, error) {
	var u User
	var last sql.NullTime
	if err := sc.Scan(&u.ID, &u.OrgID, &u.Username, &u.DisplayName, &u.Email, &u.Locale, &u.Disabled,
		&u.TOTPEnabled, &last, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return User{}, err
	}
	if last.Valid {
		u.LastLoginAt = last.Time.UTC()
	}
	u.CreatedAt = u.CreatedAt.UTC()
	u.UpdatedAt = u.UpdatedAt.UTC()
	return u, nil
}

// loadUser reads one user with roles; errs.NotFound when there is none.
func loadUser(ctx context.Context, q store.Q, id int64) (User, error) {
	return loadUserWhere(ctx, q, "id = ?", id)
}

func loadUserByName(ctx context.Context, q store.Q, username string) (User, error) {
	return loadUserWhere(ctx, q, "username = ?", username)
}

func loadUserWhere(ctx context.Context, q store.Q, where string, arg any) (User, error) {
	const op = "auth: load user"
	u, err := scanUser(q.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE "+where, arg))
	if store.IsNoRows(err) {
		return User{}, errs.NotFound(op)
	}
	if err != nil {
		return User{}, errs.Internal(op, err)
	}
	roles, err := loadRoles(ctx, q, []int64{u.ID})
	if err != nil {
		return User{}, err
	}
	u.Roles = roles[u.ID]
	return u, nil
}

// loadRoles returns the roles of each user, in policy.Roles order.
func loadRoles(ctx context.Context, q store.Q, ids []int64) (map[int64][]policy.Role, error) {
	const op = "auth: load roles"
	out := map[int64][]policy.Role{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatInt(id, 10) // integers from the database, never user input
	}
	rows, err := q.Query(ctx, "SELECT user_id, role FROM user_roles WHERE user_id IN ("+strings.Join(list, ",")+")")
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var r policy.Role
		if err := rows.Scan(&id, &r); err != nil {
			return nil, errs.Internal(op, err)
		}
		out[id] = append(out[id], r)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	for id := range out {
		sortRoles(out[id])
	}
	return out, nil
}

func sortRoles(rs []policy.Role) {
	slices.SortFunc(rs, func(a, b policy.Role) int {
		return slices.Index(policy.Roles, a) - slices.Index(policy.Roles, b)
	})
}

func setRoles(ctx context.Context, tx *store.Tx, userID int64, roles []policy.Role) error {
	if _, err := tx.Exec(ctx, "DELETE FROM user_roles WHERE user_id = ?", userID); err != nil {
		return err
	}
	for _, r := range roles {
		if _, err := tx.Exec(ctx, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", userID, string(r)); err != nil {
			return err
		}
	}
	return nil
}

// secrets are the columns of a user that never leave this package.
type secrets struct {
	PasswordHash string
	TOTPSecret   string
	TOTPPending  string
	TOTPLastStep int64
}

func loadSecrets(ctx context.Context, q store.Q, id int64) (secrets, error) {
	const op = "auth: load secrets"
	var s secrets
	err := q.QueryRow(ctx, `SELECT password_hash, totp_secret, totp_pending, totp_last_step FROM users WHERE id = ?`, id).
		Scan(&s.PasswordHash, &s.TOTPSecret, &s.TOTPPending, &s.TOTPLastStep)
	if store.IsNoRows(err) {
		return s, errs.NotFound(op)
	}
	if err != nil {
		return s, errs.Internal(op, err)
	}
	return s, nil
}

func orgExists(ctx context.Context, q store.Q, id int64) (bool, error) {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM organisations WHERE id = ?", id).Scan(&one)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

func usernameTaken(ctx context.Context, q store.Q, username string, except int64) (bool, error) {
	var id int64
	err := q.QueryRow(ctx, "SELECT id FROM users WHERE username = ?", username).Scan(&id)
	if store.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return id != except, nil
}

func searchText(u User) string {
	return i18n.Fold(u.Username + " " + u.DisplayName + " " + u.Email)
}

func insertUser(ctx context.Context, tx *store.Tx, u User, hash string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO users (org_id, username, display_name, email, search_text, password_hash,
		locale, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.OrgID, u.Username, u.DisplayName, u.Email, searchText(u), hash, u.Locale, u.Disabled,
		u.CreatedAt, u.UpdatedAt).Scan(&id)
	return id, err
}

func updateUserRow(ctx context.Context, tx *store.Tx, u User) error {
	_, err := tx.Exec(ctx, `UPDATE users SET org_id = ?, username = ?, display_name = ?, email = ?, search_text = ?,
		locale = ?, updated_at = ? WHERE id = ?`,
		u.OrgID, u.Username, u.DisplayName, u.Email, searchText(u), u.Locale, u.UpdatedAt, u.ID)
	return err
}

// deleteSessions removes a user's sessions except keep (a session hash, or
// "") and returns how many went.
func deleteSessions(ctx context.Context, tx *store.Tx, userID int64, keep string) (int64, error) {
	res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?", userID, keep)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// userView is a user as the audit log records it: no secret.
type userView struct {
	ID          int64         `json:"id"`
	OrgID       int64         `json:"org_id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Email       string        `json:"email"`
	Locale      string        `json:"locale"`
	Roles       []policy.Role `json:"roles"`
	Disabled    bool          `json:"disabled"`
	TOTPEnabled bool          `json:"totp_enabled"`
}

func viewOf(u User) userView {
	return userView{ID: u.ID, OrgID: u.OrgID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Locale: u.Locale, Roles: u.Roles, Disabled: u.Disabled, TOTPEnabled: u.TOTPEnabled}
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
