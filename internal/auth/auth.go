// Package auth is about people and how they prove who they are: user
// accounts and their roles, passwords (argon2id), browser sessions, the TOTP
// second factor with single-use recovery codes, API tokens, and the login
// throttle that several certnet nodes share through the database.
//
// Every method that acts for someone takes a policy.Actor, asks policy first,
// validates second, and writes in one transaction together with its audit
// entry. Secrets (password hashes, TOTP secrets, token and session hashes)
// never reach the audit log.
//
// How a transport uses it:
//
//   - Sign-in: Login gives a session token for the cookie. When the result
//     (or later Session) says NeedMFA, only VerifyTOTP and Logout may follow;
//     when it says NeedEnroll, only BeginTOTP, ConfirmTOTP and Logout.
//   - Each request: Session(token) → ActorFor(user, requestID), and
//     ctx = WithSession(ctx, token) so that ConfirmTOTP passes that session
//     and SetPassword keeps it. Changes to one's own credentials made from a
//     session short of its second factor are refused here too.
//   - API: AuthenticateToken(bearer) gives an actor limited to the token's
//     scopes.
//   - A background job calls PruneExpired.
package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"

	"certnet/internal/policy"
	"certnet/internal/store"
)

// Orgs is what auth needs from the organisation registry. The org package
// implements it; auth does not import org.
type Orgs interface {
	// ScopeOf returns the organisation and its descendants, or All for the
	// national coordinator.
	ScopeOf(ctx context.Context, orgID int64) (policy.Scope, error)
	// RequiresMFA reports whether the organisation makes a second factor
	// compulsory for its people.
	RequiresMFA(ctx context.Context, orgID int64) (bool, error)
	// Active reports whether the organisation is an active member: the
	// people of a deactivated one can neither sign in nor use tokens.
	Active(ctx context.Context, orgID int64) (bool, error)
}

// User is a person's account. It never carries a secret.
type User struct {
	ID          int64
	OrgID       int64
	Username    string
	DisplayName string
	Email       string
	Locale      string
	Roles       []policy.Role
	Disabled    bool
	TOTPEnabled bool
	LastLoginAt time.Time // zero when the user never signed in
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Resource is the policy resource for acting on the user.
func (u User) Resource() policy.Resource {
	return policy.Resource{OwnerOrg: u.OrgID, TLP: policy.TLPAmber, Subject: u.ID}
}

// Session is a browser session. The plaintext token lives only in the
// user's cookie; the database keeps its SHA-256.
type Session struct {
	IDHash    string
	UserID    int64
	CSRFToken string // empty in lists: it belongs to the browser that holds the session
	MFAPassed bool
	IP        string
	UserAgent string
	CreatedAt time.Time
	// LastSeenAt is refreshed at most once a minute.
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// NeedMFA: the password was right but the user must still give a TOTP
	// or recovery code (VerifyTOTP). Filled in by Service.Session.
	NeedMFA bool
	// NeedEnroll: the organisation requires a second factor and the user has
	// none; only enrolment (BeginTOTP, ConfirmTOTP) and logout may happen
	// until it is done. Filled in by Service.Session.
	NeedEnroll bool
}

// Token is an API token as listed; the plaintext is shown once, at creation.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	Prefix     string // the first characters of the plaintext, to recognise it
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time // zero unless revoked
	LastUsedAt time.Time // zero until first used
}

// Active reports whether the token can still be used at t.
func (t Token) Active(at time.Time) bool { return t.RevokedAt.IsZero() && at.Before(t.ExpiresAt) }

// TOTPEnrolment is what the user needs to add certnet to an authenticator
// app: the secret (to type in), the otpauth:// URL and the same URL as a QR
// code PNG.
type TOTPEnrolment struct {
	Secret string
	URL    string
	QRPNG  []byte
}

// LoginResult is the outcome of a successful password check.
type LoginResult struct {
	User User
	// SessionToken is the plaintext for the cookie; it is not stored.
	SessionToken string
	Session      Session
	// NeedMFA: the user must pass VerifyTOTP before anything else.
	NeedMFA bool
	// NeedEnroll: the organisation requires a second factor the user does
	// not have yet: enrol (BeginTOTP, ConfirmTOTP) before anything else.
	NeedEnroll bool
}

// UserInput creates or updates a user. On update, a zero OrgID, an empty
// Username, an empty Locale and nil Roles keep the current values;
// DisplayName and Email are replaced.
type UserInput struct {
	OrgID       int64
	Username    string
	DisplayName string
	Email       string
	Locale      string
	Roles       []policy.Role
	Password    string // create only
}

// UserFilter selects users for ListUsers.
type UserFilter struct {
	OrgID           int64
	Q               string // matches username, display name and e-mail, diacritics ignored
	Role            policy.Role
	IncludeDisabled bool
	Limit, Offset   int
}

// ThrottlePolicy says how many failures lock what for how long.
type ThrottlePolicy struct {
	Window         time.Duration // failures are counted over this window
	AccountLimit   int           // failures per account in Window before it is locked
	AddressLimit   int           // failures per client address in Window before it is locked
	LockFor        time.Duration // how long a lock lasts
	IPv6PrefixBits int           // IPv6 clients are counted per prefix of this length
}

// DefaultThrottle: 5 failures per account or 30 per address in 15 minutes
// lock for 15 minutes.
var DefaultThrottle = ThrottlePolicy{
	Window:         15 * time.Minute,
	AccountLimit:   5,
	AddressLimit:   30,
	LockFor:        15 * time.Minute,
	IPv6PrefixBits: 64,
}

// DefaultHashParams are argon2id's parameters for new password hashes:
// RFC 9106's second recommendation (64 MiB) with two passes and two lanes —
// a little stronger than argon2id.DefaultParams and the same on every
// machine.
var DefaultHashParams = argon2id.Params{
	Memory:      64 * 1024,
	Iterations:  2,
	Parallelism: 2,
	SaltLength:  16,
	KeyLength:   32,
}

// Service manages people and authentication.
type Service struct {
	DB   *store.DB
	Orgs Orgs
	Now  func() time.Time
	Log  *slog.Logger
	// Issuer names certnet in authenticator apps.
	Issuer string
	// SessionTTL is the absolute lifetime of a session (default 12h);
	// IdleTimeout ends a session unused for that long (default 2h).
	SessionTTL, IdleTimeout time.Duration
	// TokenDefaultTTL and TokenMaxTTL bound API token expiry (90 days, 1 year).
	TokenDefaultTTL, TokenMaxTTL time.Duration
	// HashParams are the argon2id parameters for new hashes. Tests lower them.
	// Existing hashes made with other parameters are rehashed at the next
	// successful login.
	HashParams argon2id.Params
	// MaxConcurrentHashes bounds how many argon2id computations run at once,
	// so a burst of logins cannot exhaust memory (default 4).
	MaxConcurrentHashes int
	Throttle            ThrottlePolicy

	once      sync.Once
	hashSem   chan struct{}
	dummyOnce sync.Once
	dummy     string
}

// NewService builds the service with the defaults.
func NewService(db *store.DB, orgs Orgs, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		DB:                  db,
		Orgs:                orgs,
		Now:                 now,
		Log:                 log.With("component", "auth"),
		Issuer:              "certnet",
		SessionTTL:          12 * time.Hour,
		IdleTimeout:         2 * time.Hour,
		TokenDefaultTTL:     90 * 24 * time.Hour,
		TokenMaxTTL:         366 * 24 * time.Hour,
		HashParams:          DefaultHashParams,
		MaxConcurrentHashes: 4,
		Throttle:            DefaultThrottle,
	}
}

// now is the injected clock, in UTC and at the precision both engines keep.
// Every time auth stores is UTC: SQLite keeps times as text
// ("2026-11-26 07:00:00.5+00:00"), which sorts in time order only when all
// share one offset, and the SQL comparisons on expiry rely on that.
func (s *Service) now() time.Time {
	f := s.Now
	if f == nil {
		f = time.Now
	}
	return f().UTC().Truncate(time.Microsecond)
}

func (s *Service) sessionTTL() time.Duration  { return orDefault(s.SessionTTL, 12*time.Hour) }
func (s *Service) idleTimeout() time.Duration { return orDefault(s.IdleTimeout, 2*time.Hour) }
func (s *Service) tokenDefaultTTL() time.Duration {
	return orDefault(s.TokenDefaultTTL, 90*24*time.Hour)
}
func (s *Service) tokenMaxTTL() time.Duration { return orDefault(s.TokenMaxTTL, 366*24*time.Hour) }

func (s *Service) throttle() ThrottlePolicy {
	t := s.Throttle
	d := DefaultThrottle
	t.Window = orDefault(t.Window, d.Window)
	t.LockFor = orDefault(t.LockFor, d.LockFor)
	if t.AccountLimit <= 0 {
		t.AccountLimit = d.AccountLimit
	}
	if t.AddressLimit <= 0 {
		t.AddressLimit = d.AddressLimit
	}
	if t.IPv6PrefixBits <= 0 || t.IPv6PrefixBits > 128 {
		t.IPv6PrefixBits = d.IPv6PrefixBits
	}
	return t
}

func (s *Service) issuer() string {
	if s.Issuer == "" {
		return "certnet"
	}
	return s.Issuer
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

type sessionKey struct{}

// WithSession records in ctx the plaintext token of the session the request
// came with. The web layer sets it after Service.Session, so that:
// ConfirmTOTP marks that session as past the second factor, and SetPassword
// keeps that session while it signs the user out everywhere else.
func WithSession(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, sessionKey{}, token)
}

// sessionHashFrom returns the hash of the session token in ctx, or "".
func sessionHashFrom(ctx context.Context) string {
	t, _ := ctx.Value(sessionKey{}).(string)
	if !validSessionToken(t) {
		return ""
	}
	return hashSecret(t)
}
