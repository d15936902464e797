package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"certnet/internal/audit"
	"certnet/internal/auth"
	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// Source is a SOC that pushes event batches with its own token.
type Source struct {
	ID          int64     `json:"id"`
	OrgID       int64     `json:"org_id"`
	Name        string    `json:"name"`
	TokenPrefix string    `json:"token_prefix"`
	Enabled     bool      `json:"enabled"`
	Quota       int       `json:"quota_per_minute"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	RotatedAt   time.Time `json:"rotated_at,omitzero"`
	DisabledAt  time.Time `json:"disabled_at,omitzero"`
	Health      Health    `json:"health"`

	quotaWindow time.Time
	quotaUsed   int64
}

// Health is what the duty officer watches of a source.
type Health struct {
	Batches          int64     `json:"batches"`
	Events           int64     `json:"events"`
	Rejected         int64     `json:"rejected"`
	ProcessedBatches int64     `json:"processed_batches"`
	ProcessedEvents  int64     `json:"processed_events"`
	Matches          int64     `json:"matches"`
	LastBatchAt      time.Time `json:"last_batch_at,omitzero"`
	LastProcessedAt  time.Time `json:"last_processed_at,omitzero"`
	// Backlog is how many accepted batches the pipeline has not counted
	// yet; ErrorRate the share of lines refused (0–1).
	Backlog   int64   `json:"backlog"`
	ErrorRate float64 `json:"error_rate"`
	// State: "ok", "idle" (no batch for an hour), "never" (no batch yet),
	// "lagging" (accepted batches wait for the pipeline more than a
	// minute), "errors" (more than 5% of lines refused), "disabled".
	State string `json:"state"`
}

const sourceCols = `id, org_id, name, token_prefix, enabled, quota_per_minute, quota_window, quota_used, batches, events, rejected,
	processed_batches, processed_events, matches, last_batch_at, last_processed_at, rotated_at, disabled_at, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanSource(sc scanner) (Source, error) {
	var s Source
	var qw, lb, lp, rot, dis sql.NullTime
	if err := sc.Scan(&s.ID, &s.OrgID, &s.Name, &s.TokenPrefix, &s.Enabled, &s.Quota, &qw, &s.quotaUsed, &s.Health.Batches,
		&s.Health.Events, &s.Health.Rejected, &s.Health.ProcessedBatches, &s.Health.ProcessedEvents, &s.Health.Matches,
		&lb, &lp, &rot, &dis, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return Source{}, err
	}
	s.quotaWindow = store.TimeOf(qw)
	s.Health.LastBatchAt, s.Health.LastProcessedAt = store.TimeOf(lb), store.TimeOf(lp)
	s.RotatedAt, s.DisabledAt = store.TimeOf(rot), store.TimeOf(dis)
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

// health fills the derived health fields as of now.
func (s *Source) health(now time.Time) {
	h := &s.Health
	h.Backlog = h.Batches - h.ProcessedBatches
	if h.Backlog < 0 {
		h.Backlog = 0
	}
	if total := h.Events + h.Rejected; total > 0 {
		h.ErrorRate = float64(h.Rejected) / float64(total)
	}
	switch {
	case !s.Enabled:
		h.State = "disabled"
	case h.LastBatchAt.IsZero():
		h.State = "never"
	case h.Backlog > 0 && now.Sub(h.LastProcessedAt) > time.Minute && now.Sub(h.LastBatchAt) > time.Minute:
		h.State = "lagging"
	case h.ErrorRate > 0.05:
		h.State = "errors"
	case now.Sub(h.LastBatchAt) > time.Hour:
		h.State = "idle"
	default:
		h.State = "ok"
	}
}

// Lag is how long the oldest uncounted batch has waited (zero when none).
func (s Source) Lag(now time.Time) time.Duration {
	if s.Health.Backlog == 0 || s.Health.LastBatchAt.IsZero() {
		return 0
	}
	from := s.Health.LastProcessedAt
	if from.IsZero() || from.After(s.Health.LastBatchAt) {
		from = s.Health.LastBatchAt
	}
	return now.Sub(from)
}

// SourceInput is what a person gives for a new or changed source.
type SourceInput struct {
	OrgID int64
	Name  string
	// Quota in events per minute; 0 for the default.
	Quota int
}

const maxSourceName = 100

func (s *Service) validate(in *SourceInput, op string) error {
	v := errs.Invalid(op)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		v.Field("name", "field.required")
	case !utf8.ValidString(in.Name) || strings.IndexFunc(in.Name, unicode.IsControl) >= 0:
		v.Field("name", "field.invalid")
	case utf8.RuneCountInString(in.Name) > maxSourceName:
		v.Field("name", "field.too_long", maxSourceName)
	}
	if in.Quota == 0 {
		in.Quota = s.DefaultQuota
	}
	if in.Quota < 1 || in.Quota > maxQuota {
		v.Field("quota_per_minute", "ingest.err.quota", maxQuota)
	}
	return v.OrNil()
}

// CreateSource adds a source to an organisation and returns it with its
// token, shown this once (only its hash is kept).
func (s *Service) CreateSource(ctx context.Context, a policy.Actor, in SourceInput) (Source, string, error) {
	const op = "ingest: create source"
	if err := s.checkRead(ctx, a, in.OrgID); err != nil {
		return Source{}, "", err
	}
	if err := checkManage(a, in.OrgID); err != nil {
		return Source{}, "", err
	}
	if err := s.validate(&in, op); err != nil {
		return Source{}, "", err
	}
	ok, err := orgExists(ctx, s.DB, in.OrgID)
	if err != nil {
		return Source{}, "", errs.Internal(op, err)
	}
	if !ok {
		return Source{}, "", errs.NotFound(op)
	}
	now := s.now()
	plain, hash := auth.NewSourceToken()
	src := Source{OrgID: in.OrgID, Name: in.Name, TokenPrefix: plain[:auth.SourceTokenShown], Enabled: true, Quota: in.Quota,
		CreatedAt: now, UpdatedAt: now}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO ingest_sources (org_id, name, token_prefix, token_hash, enabled, quota_per_minute, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, TRUE, ?, ?, ?, ?) RETURNING id`, in.OrgID, in.Name, src.TokenPrefix, hash, in.Quota,
			store.NullID(a.UserID), now, now).Scan(&src.ID); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Invalid(op).Field("name", "ingest.err.name_taken")
			}
			return err
		}
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: in.OrgID, Action: "ingest.source.create", Entity: "ingest_source",
			EntityID: fmt.Sprint(src.ID), After: sourceView(src)})
	})
	if err != nil {
		return Source{}, "", errs.Ensure(op, err)
	}
	src.health(now)
	return src, plain, nil
}

// sourceView is a source as the audit log records it (never the token).
func sourceView(s Source) map[string]any {
	return map[string]any{"id": s.ID, "org_id": s.OrgID, "name": s.Name, "token_prefix": s.TokenPrefix, "enabled": s.Enabled,
		"quota_per_minute": s.Quota}
}

func loadSource(ctx context.Context, q store.Q, id int64) (Source, error) {
	src, err := scanSource(q.QueryRow(ctx, "SELECT "+sourceCols+" FROM ingest_sources WHERE id = ?", id))
	if err != nil {
		return Source{}, store.Wrap("ingest: source", err)
	}
	return src, nil
}

// Source returns one source.
func (s *Service) Source(ctx context.Context, a policy.Actor, id int64) (Source, error) {
	src, err := loadSource(ctx, s.DB, id)
	if err != nil {
		return Source{}, err
	}
	if err := s.checkRead(ctx, a, src.OrgID); err != nil {
		return Source{}, err
	}
	src.health(s.now())
	return src, nil
}

// Sources lists the sources of an organisation (orgID > 0) or of every
// organisation in the actor's scope (orgID 0), by organisation and name.
func (s *Service) Sources(ctx context.Context, a policy.Actor, orgID int64) ([]Source, error) {
	const op = "ingest: sources"
	q := "SELECT " + sourceCols + " FROM ingest_sources"
	var args []any
	if orgID > 0 {
		if err := s.checkRead(ctx, a, orgID); err != nil {
			return nil, err
		}
		q += " WHERE org_id = ?"
		args = append(args, orgID)
	} else if !a.Scope.All && !a.System {
		ids := a.Scope.IDs()
		if len(ids) == 0 {
			return []Source{}, nil
		}
		in, iargs := store.InList(ids)
		q += " WHERE org_id IN " + in
		args = iargs
	}
	rows, err := s.DB.Query(ctx, q+" ORDER BY org_id, name, id", args...)
	if err != nil {
		return nil, errs.Internal(op, err)
	}
	defer rows.Close()
	now := s.now()
	out := []Source{}
	var all []Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, errs.Internal(op, err)
		}
		all = append(all, src)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	rows.Close()
	readable := map[int64]bool{}
	for _, src := range all {
		ok, seen := readable[src.OrgID]
		if !seen {
			ok = orgID > 0 || s.checkRead(ctx, a, src.OrgID) == nil
			readable[src.OrgID] = ok
		}
		if !ok {
			continue
		}
		src.health(now)
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Internal(op, err)
	}
	return out, nil
}

// SetEnabled disables (batches are refused with 401 at once) or enables a
// source again.
func (s *Service) SetEnabled(ctx context.Context, a policy.Actor, id int64, enabled bool) (Source, error) {
	action := "ingest.source.enable"
	if !enabled {
		action = "ingest.source.disable"
	}
	return s.change(ctx, a, id, action, func(tx *store.Tx, src *Source, now time.Time) error {
		src.Enabled = enabled
		src.DisabledAt = time.Time{}
		if !enabled {
			src.DisabledAt = now
		}
		_, err := tx.Exec(ctx, "UPDATE ingest_sources SET enabled = ?, disabled_at = ?, updated_at = ? WHERE id = ?",
			enabled, store.NullTime(src.DisabledAt), now, id)
		return err
	})
}

// SetQuota changes a source's quota (events per minute).
func (s *Service) SetQuota(ctx context.Context, a policy.Actor, id int64, quota int) (Source, error) {
	if quota < 1 || quota > maxQuota {
		src, err := loadSource(ctx, s.DB, id)
		if err != nil {
			return Source{}, err
		}
		if err := s.checkRead(ctx, a, src.OrgID); err != nil {
			return Source{}, err
		}
		if err := checkManage(a, src.OrgID); err != nil {
			return Source{}, err
		}
		return Source{}, errs.Invalid("ingest: quota").Field("quota_per_minute", "ingest.err.quota", maxQuota)
	}
	return s.change(ctx, a, id, "ingest.source.quota", func(tx *store.Tx, src *Source, now time.Time) error {
		src.Quota = quota
		_, err := tx.Exec(ctx, "UPDATE ingest_sources SET quota_per_minute = ?, updated_at = ? WHERE id = ?", quota, now, id)
		return err
	})
}

// Rotate gives a source a new token, returned this once; the old one stops
// working at once.
func (s *Service) Rotate(ctx context.Context, a policy.Actor, id int64) (Source, string, error) {
	plain, hash := auth.NewSourceToken()
	src, err := s.change(ctx, a, id, "ingest.source.rotate", func(tx *store.Tx, src *Source, now time.Time) error {
		src.TokenPrefix = plain[:auth.SourceTokenShown]
		src.RotatedAt = now
		_, err := tx.Exec(ctx, "UPDATE ingest_sources SET token_prefix = ?, token_hash = ?, rotated_at = ?, updated_at = ? WHERE id = ?",
			src.TokenPrefix, hash, now, now, id)
		return err
	})
	if err != nil {
		return Source{}, "", err
	}
	return src, plain, nil
}

func (s *Service) change(ctx context.Context, a policy.Actor, id int64, action string, fn func(tx *store.Tx, src *Source, now time.Time) error) (Source, error) {
	op := "ingest: " + action
	src, err := loadSource(ctx, s.DB, id)
	if err != nil {
		return Source{}, err
	}
	if err := s.checkRead(ctx, a, src.OrgID); err != nil {
		return Source{}, err
	}
	if err := checkManage(a, src.OrgID); err != nil {
		return Source{}, err
	}
	now := s.now()
	before := sourceView(src)
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := fn(tx, &src, now); err != nil {
			return err
		}
		src.UpdatedAt = now
		return audit.Record(ctx, tx, now, a, audit.Change{OrgID: src.OrgID, Action: action, Entity: "ingest_source",
			EntityID: fmt.Sprint(id), Before: before, After: sourceView(src)})
	})
	if err != nil {
		return Source{}, errs.Ensure(op, err)
	}
	src.health(now)
	return src, nil
}
