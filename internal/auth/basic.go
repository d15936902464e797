package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"certnet/internal/audit"
	"certnet/internal/errs"
	"certnet/internal/obs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// basicTTL is how long a checked username and password is taken again
// without a new argon2id check (a TAXII client sends them with every page).
// A changed password or a disabled account takes effect within it.
const basicTTL = time.Minute

// basicCacheMax bounds the cache; past it the cache starts again empty.
const basicCacheMax = 1024

// basicCache remembers recent successful password checks by a keyed
// SHA-256 of username and password (the key is random per process, so the
// map holds nothing a stolen memory dump could be reversed from cheaply
// for another process).
type basicCache struct {
	mu   sync.Mutex
	key  [32]byte
	once sync.Once
	m    map[[32]byte]basicEntry
}

type basicEntry struct {
	userID int64
	until  time.Time
}

// basicCaches holds one cache per Service (one per database: a user id
// means nothing to another).
var basicCaches struct {
	sync.Mutex
	m map[*Service]*basicCache
}

func (s *Service) basics() *basicCache {
	basicCaches.Lock()
	defer basicCaches.Unlock()
	if basicCaches.m == nil {
		basicCaches.m = map[*Service]*basicCache{}
	}
	c := basicCaches.m[s]
	if c == nil {
		c = &basicCache{}
		basicCaches.m[s] = c
	}
	return c
}

func (c *basicCache) sum(username, password string) [32]byte {
	c.once.Do(func() { rand.Read(c.key[:]) })
	h := sha256.New()
	h.Write(c.key[:])
	h.Write([]byte(username))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (c *basicCache) get(k [32]byte, now time.Time) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.until) {
		return 0
	}
	return e.userID
}

func (c *basicCache) put(k [32]byte, id int64, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= basicCacheMax {
		c.m = map[[32]byte]basicEntry{}
	}
	c.m[k] = basicEntry{id, until}
}

// AuthenticatePassword checks a username and password sent with a request
// (HTTP Basic on the TAXII server) and returns the user's actor, without a
// session. It is Login's check: the same argon2id hash, the same failure
// counters per account and per client address and the same locks (while
// locked: errs.TooMany, whatever the password), the same audit entry for a
// failure. A user who must pass a second factor to sign in (TOTP enabled,
// or an organisation that requires one) is refused: a password alone must
// not open what the web asks a second factor for. Such users, and every
// machine client, use an API token (Basic with the token as password, or
// Bearer), which is the recommended way. A refusal is
// errs.Unauthenticated "auth.err.bad_credentials" in every case, so that
// it tells nothing of the account. A success is remembered for basicTTL.
func (s *Service) AuthenticatePassword(ctx context.Context, username, password, ip, requestID string) (policy.Actor, User, error) {
	const op = "auth: password"
	refused := errs.Unauthenticated(op, "auth.err.bad_credentials")
	name := truncate(NormalizeUsername(username), 2*MaxUsernameLen)
	ip = truncate(ip, 64)
	keys := s.loginKeys(name, ip)
	if wait, err := s.lockedFor(ctx, keys); err != nil {
		return policy.Actor{}, User{}, errs.Internal(op, err)
	} else if wait > 0 {
		return policy.Actor{}, User{}, throttledErr(op, wait)
	}
	now := s.now()
	basics := s.basics()
	ck := basics.sum(name, password)
	if id := basics.get(ck, now); id != 0 {
		u, err := loadUser(ctx, s.DB, id)
		if err == nil && !u.Disabled && !u.TOTPEnabled {
			a, err := s.ActorFor(ctx, u, requestID)
			if err == nil {
				return a, u, nil
			}
		}
		// Changed since: check again.
	}
	u, err := loadUserByName(ctx, s.DB, name)
	known := err == nil
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return policy.Actor{}, User{}, errs.Ensure(op, err)
	}
	ok := false
	if known {
		sec, err := loadSecrets(ctx, s.DB, u.ID)
		if err != nil {
			return policy.Actor{}, User{}, errs.Ensure(op, err)
		}
		if ok, _, err = s.verifyPassword(ctx, password, sec.PasswordHash); err != nil {
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
		reason = "org_inactive"
	}
	if reason != "" {
		if err := s.loginFailed(ctx, name, u, ip, "http-basic", reason, keys); err != nil {
			return policy.Actor{}, User{}, errs.Internal(op, err)
		}
		return policy.Actor{}, User{}, refused
	}
	mfa := u.TOTPEnabled
	if !mfa {
		if s.Orgs == nil {
			return policy.Actor{}, User{}, errs.Internal(op, errNoOrgs)
		}
		if mfa, err = s.Orgs.RequiresMFA(ctx, u.OrgID); err != nil {
			return policy.Actor{}, User{}, errs.Ensure(op, err)
		}
	}
	if mfa {
		// The right password of an account with a second factor: not a
		// guess to count (the owner's client is misconfigured), but
		// refused alike and written down.
		err := s.DB.InTx(ctx, func(tx *store.Tx) error {
			return audit.Record(ctx, tx, now, policy.Actor{Username: u.Username, RequestID: obs.RequestID(ctx)}, audit.Change{OrgID: u.OrgID,
				Action: "auth.login_failed", Entity: "user", EntityID: idString(u.ID),
				After: map[string]any{"username": u.Username, "ip": ip, "user_agent": "http-basic", "reason": "second_factor_required"}})
		})
		if err != nil {
			return policy.Actor{}, User{}, errs.Internal(op, err)
		}
		return policy.Actor{}, User{}, refused
	}
	a, err := s.ActorFor(ctx, u, requestID)
	if err != nil {
		return policy.Actor{}, User{}, err
	}
	// The account's counter is forgiven, as after a sign-in; only when
	// there is one, so that a good request writes nothing.
	var n int
	if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM login_throttle WHERE key = ?", keys[0].Key).Scan(&n); err != nil {
		return policy.Actor{}, User{}, errs.Internal(op, err)
	}
	if n > 0 {
		if err := s.DB.InTx(ctx, func(tx *store.Tx) error { return clearThrottle(ctx, tx, keys[0].Key) }); err != nil {
			return policy.Actor{}, User{}, errs.Internal(op, err)
		}
	}
	basics.put(ck, u.ID, now.Add(basicTTL))
	return a, u, nil
}

// LooksLikeToken reports whether s has the shape of a certnet API token
// (so that HTTP Basic's password field is taken as a token, not as a
// password to check and count).
func LooksLikeToken(s string) bool {
	_, ok := parseToken(s)
	return ok
}
