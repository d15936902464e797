// Package warning is certnet's early warning (issue 5, item 4) and the
// figures of the 24/7 view (item 7). A job run every minute reads the
// counters the ingest pipeline keeps in the same transaction as its
// sightings (intel_sightings, ingest_signals, ingest_rates,
// ingest_minutes) — never raw events — and:
//
//   - raises one national warning when the same indicator, signature or
//     CVE is seen at ≥ N organisations or ≥ M provinces within the window,
//     updated (never duplicated) while the condition lasts;
//   - raises one when a source's or a member's hourly rate jumps above k ×
//     its baseline (median of the same hour of the previous 7 days, or of
//     the trailing 24 hours when the subject is newer), above a minimum;
//   - opens an incident for a member (or updates its open one) when an
//     indicator of high confidence is seen inside its range, and tells the
//     member once through the outbox.
//
// It is its own package rather than part of internal/ingest: the pipeline
// is the hot path and only counts; deciding, the warnings' life cycle
// (acknowledge, close, turn into an advisory) and the pages' figures need
// intel, incident and org, which ingest must not depend on.
package warning

import (
	"io"
	"log/slog"
	"time"

	"certnet/internal/incident"
	"certnet/internal/ingest"
	"certnet/internal/intel"
	"certnet/internal/notify"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Kinds of warnings.
const (
	KindSpread = "spread" // one subject at many organisations or provinces
	KindRate   = "rate"   // a source or member above its baseline
)

// Subjects of warnings.
const (
	SubjectIndicator = "indicator"
	SubjectSignature = "signature"
	SubjectCVE       = "cve"
	SubjectSource    = "source"
	SubjectOrg       = "org"
)

// States of a warning.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateClosed       = "closed"
)

// Kinds, Subjects and States list the values, for forms and validation.
var (
	Kinds    = []string{KindSpread, KindRate}
	Subjects = []string{SubjectIndicator, SubjectSignature, SubjectCVE, SubjectSource, SubjectOrg}
	States   = []string{StateOpen, StateAcknowledged, StateClosed}
)

// Notification kinds.
const (
	KindRaised   = "warning.raised"
	KindIncident = "warning.incident"
)

func init() {
	notify.RegisterKind(KindRaised, "warning.kind.raised")
	notify.RegisterKind(KindIncident, "warning.kind.incident")
}

// JobEvaluate is the job that evaluates the thresholds every minute.
const JobEvaluate = "warning.evaluate"

// JobPrune is the job that forgets old per-minute and hourly counters.
const JobPrune = "warning.prune"

// Warning is a national warning.
type Warning struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Subject     string    `json:"subject"`
	SubjectKey  string    `json:"subject_key"`
	Label       string    `json:"label"`
	IndicatorID int64     `json:"indicator_id,omitempty"`
	State       string    `json:"state"`
	Active      bool      `json:"active"` // the condition still holds
	Orgs        int       `json:"orgs"`
	Provinces   int       `json:"provinces"`
	Total       int64     `json:"total"`
	Rate        int64     `json:"rate,omitempty"`
	Baseline    float64   `json:"baseline,omitempty"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	RaisedAt    time.Time `json:"raised_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	AckedName   string    `json:"acknowledged_by,omitempty"`
	AckedAt     time.Time `json:"acknowledged_at,omitzero"`
	ClosedName  string    `json:"closed_by,omitempty"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	Note        string    `json:"note,omitempty"`
	AdvisoryID  int64     `json:"advisory_id,omitempty"`
	// Affected are the organisations (and their provinces) the actor may
	// see, with counts; filled by Get.
	Affected []Affected `json:"affected,omitempty"`
}

// Affected is one organisation a warning concerns.
type Affected struct {
	OrgID     int64     `json:"org_id"`
	Name      string    `json:"name"`
	Province  string    `json:"province,omitempty"` // code
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Service is the early-warning service.
type Service struct {
	DB        *store.DB
	Orgs      *org.Service
	Intel     *intel.Service
	Incidents *incident.Service
	Ingest    *ingest.Service
	Now       func() time.Time
	Log       *slog.Logger
}

// NewService returns the service; now is the clock (time.Now when nil).
func NewService(db *store.DB, orgs *org.Service, in *intel.Service, inc *incident.Service, ing *ingest.Service,
	now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Orgs: orgs, Intel: in, Incidents: inc, Ingest: ing, Now: now, Log: log}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// resource is what reading the warnings (and the 24/7 figures) of the
// actor's organisation is checked against.
func resource(orgID int64) policy.Resource {
	return policy.Resource{OwnerOrg: orgID, TLP: policy.TLPAmber}
}

// CanRead reports whether the actor may read warnings and the 24/7 view.
func CanRead(a policy.Actor) bool { return policy.Allowed(a, policy.WarningRead, resource(a.OrgID)) }

// CanManage reports whether the actor may acknowledge, close and turn
// warnings into advisories.
func CanManage(a policy.Actor) bool {
	return policy.Allowed(a, policy.WarningManage, resource(a.OrgID))
}

// CanSettings reports whether the actor may change the thresholds.
func CanSettings(a policy.Actor) bool {
	return policy.Allowed(a, policy.WarningSettings, resource(a.OrgID))
}
