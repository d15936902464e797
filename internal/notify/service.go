package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Job names of the dispatcher and the sender (internal/jobs).
const (
	JobFanout  = "notify.fanout"
	JobDeliver = "notify.deliver"
)

// Defaults of the delivery machinery.
const (
	DefaultMaxAttempts = 8
	DefaultClaim       = 5 * time.Minute
	DefaultBatch       = 100
	WebhookTimeout     = 10 * time.Second
	backoffBase        = time.Minute
	backoffCap         = time.Hour
)

// Orgs is what notify needs of the registry (org.Service satisfies it).
type Orgs interface {
	ScopeOf(ctx context.Context, orgID int64) (policy.Scope, error)
}

// Service is the notification service: the dispatcher, the sender, the
// inbox, preferences and webhook endpoints.
type Service struct {
	DB   *store.DB
	Orgs Orgs
	Now  func() time.Time
	Log  *slog.Logger
	// Mailer sends e-mail; nil when no SMTP server is configured (then no
	// e-mail deliveries are made).
	Mailer Mailer
	// From is the envelope and header sender of e-mails.
	From string
	// BaseURL is the public URL that links in e-mails and webhooks start
	// with (config --base-url).
	BaseURL string
	// Host names this installation in Message-IDs.
	Host string
	// HTTP is the client of webhook calls; when nil, one with 10 s
	// timeouts that refuses loopback, private and link-local addresses
	// unless AllowPrivateWebhooks.
	HTTP *http.Client
	// AllowPrivateWebhooks lets webhooks reach addresses inside (config
	// --webhook-allow-private; tests with a local receiver).
	AllowPrivateWebhooks bool
	// Kick asks the job runner for a run of a job soon (may be nil).
	Kick func(job string)
	// MaxAttempts: a delivery that failed this often is dead.
	MaxAttempts int
	// Claim is how long a sender holds a delivery it is sending; it must
	// exceed the longest send (SMTP and webhook timeouts).
	Claim time.Duration
	// Batch is how many rows one run of a job takes at most.
	Batch int

	node     string
	once     sync.Once
	httpOnce sync.Once
	client   *http.Client
}

// NewService returns the service; now may be nil (time.Now), log may be nil.
func NewService(db *store.DB, orgs Orgs, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Orgs: orgs, Now: now, Log: log, Host: "certnet.local"}
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return s.Now().UTC().Truncate(time.Microsecond)
}

// Node names this process in claimed_by.
func (s *Service) Node() string {
	s.once.Do(func() {
		if s.node == "" {
			b := make([]byte, 6)
			rand.Read(b)
			s.node = hex.EncodeToString(b)
		}
	})
	return s.node
}

// SetNode names this process (tests run two "nodes" on one database).
func (s *Service) SetNode(n string) { s.once.Do(func() {}); s.node = n }

func (s *Service) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return s.MaxAttempts
}

func (s *Service) claim() time.Duration {
	if s.Claim <= 0 {
		return DefaultClaim
	}
	return s.Claim
}

func (s *Service) batch() int {
	if s.Batch <= 0 {
		return DefaultBatch
	}
	return s.Batch
}

func (s *Service) kick(job string) {
	if s.Kick != nil {
		s.Kick(job)
	}
}

// link is the absolute URL of a path of the web UI.
func (s *Service) link(path string) string {
	if path == "" {
		path = "/inbox"
	}
	return strings.TrimRight(s.BaseURL, "/") + path
}

// Backoff is the wait after the n-th failed attempt (n ≥ 1): 1 min, 2, 4 …
// capped at 1 hour.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := backoffBase
	for i := 1; i < n; i++ {
		d *= 2
		if d >= backoffCap {
			return backoffCap
		}
	}
	return d
}

// ---------------------------------------------------------------------------
// Kinds

// Kind is a kind of notification people can choose about.
type Kind struct {
	Name     string
	LabelKey string
}

var (
	kindsMu sync.Mutex
	kinds   = map[string]string{}
)

// RegisterKind adds a kind to the preferences page; areas call it from
// init. Kinds not registered still deliver (e-mail on). It panics on an
// empty or duplicate kind, at start-up.
func RegisterKind(kind, labelKey string) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if kind == "" || len(kind) > MaxKindLen || labelKey == "" {
		panic("notify: RegisterKind: empty kind or label")
	}
	if _, dup := kinds[kind]; dup {
		panic("notify: kind registered twice: " + kind)
	}
	kinds[kind] = labelKey
}

// Kinds lists the registered kinds people choose about (preferences,
// webhook subscriptions) by name: all but the webhook test.
func Kinds() []Kind {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	out := make([]Kind, 0, len(kinds))
	for k, l := range kinds {
		if k != WebhookTestKind {
			out = append(out, Kind{k, l})
		}
	}
	slices.SortFunc(out, func(a, b Kind) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// KindLabelKey returns the catalogue key naming a registered kind.
func KindLabelKey(kind string) (string, bool) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	l, ok := kinds[kind]
	return l, ok
}

// KnownKind reports whether kind was registered.
func KnownKind(kind string) bool {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	_, ok := kinds[kind]
	return ok
}

// WebhookTestKind is the kind of a webhook's "send a test".
const WebhookTestKind = "webhook.test"

func init() {
	RegisterKind(WebhookTestKind, "notify.kind.webhook_test")
}

// ---------------------------------------------------------------------------
// Stored messages

// decodeMsg reads a stored catalogue message; integral numbers come back as
// int64 so that %d verbs format them.
func decodeMsg(s string) errs.Msg {
	var m struct {
		Key  string            `json:"key"`
		Args []json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return errs.Msg{}
	}
	out := errs.Msg{Key: m.Key}
	for _, raw := range m.Args {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			out.Args = append(out.Args, "")
			continue
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = i
			} else if f, err := n.Float64(); err == nil {
				v = f
			}
		}
		out.Args = append(out.Args, v)
	}
	return out
}

func decodeIDs(s string) []int64 {
	var out []int64
	json.Unmarshal([]byte(s), &out)
	return out
}

func decodeStrings(s string) []string {
	var out []string
	json.Unmarshal([]byte(s), &out)
	return out
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func int64Args(xs []int64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
