package auth

import (
	"bufio"
	"context"
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Password rules.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // characters; argon2id takes anything, people do not type more
)

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m[strings.ToLower(l)] = true
	}
	return m
}()

// checkPassword applies the password policy and returns the i18n key and
// arguments of the first problem, or "" when the password is acceptable.
func checkPassword(username, pw string) (string, []any) {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return "auth.err.password_too_short", []any{MinPasswordLen}
	case n > MaxPasswordLen:
		return "auth.err.password_too_long", []any{MaxPasswordLen}
	case !utf8.ValidString(pw):
		return "field.invalid", nil
	}
	lower := strings.ToLower(pw)
	// The word people dress up with digits and symbols: "Password2024!".
	base := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if username != "" && (lower == strings.ToLower(username) || base == strings.ToLower(username)) {
		return "auth.err.password_is_username", nil
	}
	if commonPasswords[lower] || (base != "" && commonPasswords[base]) {
		return "auth.err.password_common", nil
	}
	distinct := map[rune]bool{}
	for _, r := range lower {
		distinct[r] = true
	}
	if len(distinct) < 4 { // "aaaaaaaaaaaa", "abababababab"
		return "auth.err.password_common", nil
	}
	return "", nil
}

// hashPassword makes an argon2id hash with the service's parameters.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	if err := s.acquireHash(ctx); err != nil {
		return "", err
	}
	defer s.releaseHash()
	p := s.HashParams
	if p.Memory == 0 {
		p = DefaultHashParams
	}
	return argon2id.CreateHash(pw, &p)
}

// verifyPassword compares pw with hash in constant time. rehash is true when
// the hash was made with other parameters than the service's current ones.
func (s *Service) verifyPassword(ctx context.Context, pw, hash string) (ok, rehash bool, err error) {
	if err := s.acquireHash(ctx); err != nil {
		return false, false, err
	}
	defer s.releaseHash()
	match, params, err := argon2id.CheckHash(pw, hash)
	if err != nil {
		return false, false, err
	}
	cur := s.HashParams
	if cur.Memory == 0 {
		cur = DefaultHashParams
	}
	rehash = match && (params.Memory != cur.Memory || params.Iterations != cur.Iterations ||
		params.Parallelism != cur.Parallelism || params.KeyLength != cur.KeyLength)
	return match, rehash, nil
}

// burnDummy spends the time a real password check would take, so that an
// unknown username answers as slowly as a known one.
func (s *Service) burnDummy(ctx context.Context, pw string) {
	s.dummyOnce.Do(func() {
		// Not the request's context: a cancelled first request must not
		// leave unknown usernames answering fast for the life of the process.
		h, err := s.hashPassword(context.Background(), "certnet-dummy-"+randomToken(16))
		if err == nil {
			s.dummy = h
		}
	})
	if s.dummy != "" {
		s.verifyPassword(ctx, pw, s.dummy)
	}
}

func (s *Service) acquireHash(ctx context.Context) error {
	s.once.Do(func() {
		n := s.MaxConcurrentHashes
		if n <= 0 {
			n = 4
		}
		s.hashSem = make(chan struct{}, n)
	})
	select {
	case s.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) releaseHash() { <-s.hashSem }

// SetPassword changes a password. The user themself must give the current
// one; an administrator resetting someone else's does not. Every other
// session of the user ends (the caller's own session is kept when the
// context carries it, see WithSession).
func (s *Service) SetPassword(ctx context.Context, a policy.Actor, id int64, current, newPassword string) error {
	const op = "auth: set password"
	u, err := loadUser(ctx, s.DB, id)
	if err != nil {
		return err
	}
	self := !a.System && a.UserID == id
	if err := checkManage(a, u); err != nil {
		return err
	}
	if self {
		if err := s.sessionGate(ctx, op, a, false); err != nil {
			return err
		}
		if err := s.checkCurrentPassword(ctx, op, u, current, "current"); err != nil {
			return err
		}
	}
	if key, args := checkPassword(u.Username, newPassword); key != "" {
		return errs.Invalid(op).Field("password", key, args...)
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return errs.Internal(op, err)
	}
	now := s.now()
	keep := ""
	if self {
		keep = sessionHashFrom(ctx)
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", hash, now, id); err != nil {
			return err
		}
		n, err := deleteSessions(ctx, tx, id, keep)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: u.OrgID, Action: "user.password_set", Entity: "user",
			EntityID: idString(id), After: map[string]any{"by_self": self, "sessions_ended": n}})
	})
	return errs.Ensure(op, err)
}

// checkCurrentPassword verifies the password the user typed to confirm a
// sensitive change. Wrong guesses count against the account's login
// throttle, so a stolen session cannot be used to guess the password.
func (s *Service) checkCurrentPassword(ctx context.Context, op string, u User, pw, field string) error {
	keys := []throttleKey{{Key: accountKey(u.Username), Limit: s.throttle().AccountLimit}}
	if wait, err := s.lockedFor(ctx, keys); err != nil {
		return errs.Internal(op, err)
	} else if wait > 0 {
		return throttledErr(op, wait)
	}
	sec, err := loadSecrets(ctx, s.DB, u.ID)
	if err != nil {
		return err
	}
	ok, _, err := s.verifyPassword(ctx, pw, sec.PasswordHash)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return errs.Internal(op, ctxErr)
	}
	if err != nil {
		ok = false // no usable hash (an account made by a script): nothing matches
	}
	if ok {
		return nil
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.countFailure(ctx, tx, keys)
		return err
	})
	if err != nil {
		return errs.Internal(op, err)
	}
	return errs.Invalid(op).Field(field, "auth.err.bad_password")
}
