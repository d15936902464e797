// Package federation links this certnet instance (a province, a city
// IOC) to its parent instance over TAXII 2.1: on a schedule it pushes what
// it may share upward (CLEAR, GREEN and AMBER objects its own
// organisations hold, since the last push) and pulls what the parent
// publishes for it (indicators and objects, attributed to the local
// organisation that stands for the parent; the parent's advisories become
// local advisories delivered to this instance's members). Cursors per
// peer and direction move only once a page is stored, so a crash costs
// at most one page fetched again, and the intel import is idempotent.
package federation

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/errs"
	"certnet/internal/intel"
	"certnet/internal/policy"
	"certnet/internal/secretbox"
	"certnet/internal/store"
)

// JobSync is the background job that syncs the peers that are due.
const JobSync = "federation.sync"

// Authentication kinds of a peer.
const (
	AuthBearer = "bearer" // a certnet API token of the parent, as Bearer
	AuthBasic  = "basic"  // HTTP Basic: username and token (or password)
)

// Limits of a peer's fields.
const (
	maxName        = 100
	maxRoot        = 500
	maxSecret      = 500
	maxCollections = 10
	MinInterval    = time.Minute
	MaxInterval    = 7 * 24 * time.Hour
)

// DefaultPullCollections are certnet's own TAXII collections (their
// aliases); DefaultPushCollection takes every label that may go up.
var (
	DefaultPullCollections = []string{"indicators-clear", "indicators-green", "amber"}
	DefaultPushCollection  = "amber"
)

// Peer is a parent instance this one federates with.
type Peer struct {
	ID              int64         `json:"id"`
	OrgID           int64         `json:"org_id"`
	ParentOrgID     int64         `json:"parent_org_id"`
	Name            string        `json:"name"`
	APIRoot         string        `json:"api_root"`
	PushCollection  string        `json:"push_collection"`
	PullCollections []string      `json:"pull_collections"`
	AuthKind        string        `json:"auth_kind"`
	Username        string        `json:"username,omitempty"`
	Interval        time.Duration `json:"-"`
	IntervalSecs    int64         `json:"interval_seconds"`
	Enabled         bool          `json:"enabled"`
	Pushed          int64         `json:"pushed_count"`
	Pulled          int64         `json:"pulled_count"`
	Advisories      int64         `json:"advisories_count"`
	Failures        int           `json:"failures"`
	LastAttemptAt   time.Time     `json:"last_attempt_at,omitzero"`
	LastSuccessAt   time.Time     `json:"last_success_at,omitzero"`
	LastError       string        `json:"last_error,omitempty"`
	LastErrorAt     time.Time     `json:"last_error_at,omitzero"`
	NextRunAt       time.Time     `json:"next_run_at,omitzero"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
	// secret is the credential; it never leaves the service except to
	// the parent. Masked is what people see of it. stored is the column
	// as it is (sealed, see Service.Secrets); SecretUnreadable says it was
	// sealed under a key this server does not have (a database restored
	// elsewhere): the secret must be entered again.
	secret           string
	stored           string
	Masked           string `json:"secret"`
	SecretUnreadable bool   `json:"secret_unreadable,omitempty"`
}

// Mask shows the first characters of a secret only: enough to tell two
// tokens apart, not to use one.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	n := utf8.RuneCountInString(s)
	keep := min(6, n/4)
	return string([]rune(s)[:keep]) + strings.Repeat("•", 8)
}

// Resource is the policy resource of a peer.
func (p Peer) Resource() policy.Resource {
	return policy.Resource{OwnerOrg: p.OrgID, TLP: policy.TLPAmber}
}

// PeerInput is a peer as people write it.
type PeerInput struct {
	OrgID           int64         `json:"org_id"`
	ParentOrgID     int64         `json:"parent_org_id"`
	Name            string        `json:"name"`
	APIRoot         string        `json:"api_root"`
	PushCollection  string        `json:"push_collection"`
	PullCollections []string      `json:"pull_collections"`
	AuthKind        string        `json:"auth_kind"`
	Username        string        `json:"username"`
	Secret          string        `json:"secret"` // empty on update keeps the stored one
	Interval        time.Duration `json:"-"`
	IntervalSecs    int64         `json:"interval_seconds"`
	Enabled         bool          `json:"enabled"`
}

// Service holds what federation needs.
type Service struct {
	DB    *store.DB
	Intel *intel.Service
	// ScopeOf is the organisation's scope (itself and everything under
	// it): a push sends what the organisations of the peer's scope hold.
	ScopeOf func(ctx context.Context, orgID int64) (policy.Scope, error)
	Now     func() time.Time
	Log     *slog.Logger
	HTTP    *http.Client
	// PushBatch and PullLimit size the pages (1000 by default).
	PushBatch int
	PullLimit int
	// Settle: rows changed less than this long ago wait for the next
	// push, so that a transaction still open with an earlier timestamp
	// is not passed over by the cursor.
	Settle time.Duration
	// Retries of one request on a network error, 5xx or 429, and the
	// first backoff (doubled each time).
	Retries   int
	RetryWait time.Duration
	// StatusWait bounds the polling of a pending TAXII status.
	StatusWait time.Duration
	// Secrets seals the peers' secrets in the database (the data
	// folder's key); nil keeps them in clear (tests of other parts).
	Secrets *secretbox.Box

	mu      sync.Mutex
	running map[int64]bool
}

// NewService returns a service with the defaults.
func NewService(db *store.DB, in *intel.Service, scopeOf func(context.Context, int64) (policy.Scope, error), now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{DB: db, Intel: in, ScopeOf: scopeOf, Now: now, Log: log,
		HTTP:      &http.Client{Timeout: 2 * time.Minute},
		PushBatch: 500, PullLimit: 1000, Settle: 2 * time.Second, Retries: 3, RetryWait: 500 * time.Millisecond,
		StatusWait: time.Minute, running: map[int64]bool{}}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// validCollection: a TAXII collection id (UUID) or alias.
func validCollection(c string) bool {
	if c == "" || len(c) > 100 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// normalise checks and cleans a peer's input; creating says whether the
// secret is required.
func (s *Service) normalise(ctx context.Context, in *PeerInput, creating bool) error {
	const op = "federation: peer"
	e := errs.Invalid(op)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		e.Field("name", "field.required")
	case utf8.RuneCountInString(in.Name) > maxName:
		e.Field("name", "field.too_long", maxName)
	case !utf8.ValidString(in.Name) || hasControl(in.Name):
		e.Field("name", "field.invalid")
	}
	in.APIRoot = strings.TrimSpace(in.APIRoot)
	if in.APIRoot == "" {
		e.Field("api_root", "field.required")
	} else if u, err := url.Parse(in.APIRoot); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(in.APIRoot) > maxRoot {
		e.Field("api_root", "federation.err.api_root")
	} else if !strings.HasSuffix(in.APIRoot, "/") {
		in.APIRoot += "/"
	}
	in.PushCollection = strings.TrimSpace(in.PushCollection)
	if in.PushCollection != "" && !validCollection(in.PushCollection) {
		e.Field("push_collection", "federation.err.collection")
	}
	var pulls []string
	for _, c := range in.PullCollections {
		for _, x := range strings.FieldsFunc(c, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
			if !validCollection(x) {
				e.Field("pull_collections", "federation.err.collection")
				continue
			}
			dup := false
			for _, p := range pulls {
				dup = dup || p == x
			}
			if !dup {
				pulls = append(pulls, x)
			}
		}
	}
	if len(pulls) > maxCollections {
		e.Field("pull_collections", "federation.err.too_many", maxCollections)
	}
	in.PullCollections = pulls
	if in.PushCollection == "" && len(pulls) == 0 {
		e.Field("push_collection", "federation.err.nothing")
	}
	in.AuthKind = strings.ToLower(strings.TrimSpace(in.AuthKind))
	if in.AuthKind == "" {
		in.AuthKind = AuthBearer
	}
	in.Username = strings.TrimSpace(in.Username)
	switch in.AuthKind {
	case AuthBearer:
		in.Username = ""
	case AuthBasic:
		if in.Username == "" {
			e.Field("username", "field.required")
		} else if len(in.Username) > maxName || hasControl(in.Username) || strings.Contains(in.Username, ":") {
			e.Field("username", "field.invalid")
		}
	default:
		e.Field("auth_kind", "field.invalid")
	}
	in.Secret = strings.TrimSpace(in.Secret)
	switch {
	case in.Secret == "" && creating:
		e.Field("secret", "field.required")
	case len(in.Secret) > maxSecret:
		e.Field("secret", "field.too_long", maxSecret)
	case hasControl(in.Secret):
		e.Field("secret", "field.invalid")
	}
	if in.Interval == 0 && in.IntervalSecs != 0 {
		in.Interval = time.Duration(in.IntervalSecs) * time.Second
	}
	if in.Interval == 0 {
		in.Interval = 15 * time.Minute
	}
	if in.Interval < MinInterval || in.Interval > MaxInterval {
		e.Field("interval_seconds", "federation.err.interval")
	}
	in.Interval = in.Interval.Truncate(time.Second)
	if in.OrgID == 0 {
		e.Field("org_id", "field.required")
	}
	if in.ParentOrgID == 0 {
		e.Field("parent_org_id", "field.required")
	} else if in.ParentOrgID == in.OrgID {
		e.Field("parent_org_id", "federation.err.same_org")
	}
	for f, id := range map[string]int64{"org_id": in.OrgID, "parent_org_id": in.ParentOrgID} {
		if id == 0 || e.Has(f) {
			continue
		}
		var n int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM organisations WHERE id = ?", id).Scan(&n); err != nil {
			return errs.Internal(op, err)
		}
		if n == 0 {
			e.Field(f, "federation.err.org")
		}
	}
	return e.OrNil()
}
