// Package ingest receives SOC event batches and turns them into sightings:
// the sources (one token per SOC, bound to its organisation, with a quota),
// the HTTP endpoint POST /ingest/v1/events (decode, idempotency, quota,
// publish to JetStream, answer only once durable), and the pipeline workers
// that consume the stream, match every event against the indicators and
// the constituency in memory, and aggregate sightings (indicator ×
// organisation × hour) in one transaction per batch.
package ingest

import (
	"context"
	"io"
	"log/slog"
	"time"

	"certnet/internal/bus"
	"certnet/internal/org"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Service is the ingest service.
type Service struct {
	DB   *store.DB
	Bus  *bus.Bus // nil: batches are refused (503)
	Orgs *org.Service
	Now  func() time.Time
	Log  *slog.Logger

	// MaxBatch is the largest decompressed batch in bytes; MaxEvents the
	// most events in one batch.
	MaxBatch  int64
	MaxEvents int
	// DefaultQuota is a new source's quota in events per minute.
	DefaultQuota int
}

// Defaults of the limits.
const (
	DefaultMaxBatch  = 64 << 20
	DefaultMaxEvents = 100_000
	DefaultQuota     = 600_000
	maxQuota         = 100_000_000
)

// NewService returns the service; now is the clock (time.Now when nil).
func NewService(db *store.DB, b *bus.Bus, orgs *org.Service, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Bus: b, Orgs: orgs, Now: now, Log: log, MaxBatch: DefaultMaxBatch, MaxEvents: DefaultMaxEvents,
		DefaultQuota: DefaultQuota}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Resource is what the ingest actions are checked against: the sources of
// an organisation, under TLP AMBER.
func Resource(orgID int64) policy.Resource {
	return policy.Resource{OwnerOrg: orgID, TLP: policy.TLPAmber}
}

// CanManage reports whether the actor may manage the organisation's
// sources: its administrator (or one above it) or the national coordinator.
func CanManage(a policy.Actor, orgID int64) bool {
	return checkManage(a, orgID) == nil
}

func checkManage(a policy.Actor, orgID int64) error {
	err := policy.Check(a, policy.IngestManage, Resource(orgID))
	if err == nil {
		return nil
	}
	if policy.Check(a, policy.IngestManageNational, Resource(orgID)) == nil {
		return nil
	}
	return err
}

// checkRead lets the actor read the organisation's sources: the
// organisation must be one they may see (an AMBER+STRICT organisation
// stays hidden, its sources too), then its sources readable.
func (s *Service) checkRead(ctx context.Context, a policy.Actor, orgID int64) error {
	if s.Orgs != nil && !a.System {
		if _, err := s.Orgs.Get(ctx, a, orgID); err != nil {
			return err
		}
	}
	return policy.Check(a, policy.IngestRead, Resource(orgID))
}

// orgExists reports whether the organisation is there.
func orgExists(ctx context.Context, q store.Q, id int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT 1 FROM organisations WHERE id = ?", id).Scan(&n)
	if store.IsNoRows(err) {
		return false, nil
	}
	return err == nil, err
}

// JobPrune is the job that forgets batch records older than the retention
// window.
const JobPrune = "ingest.prune"
