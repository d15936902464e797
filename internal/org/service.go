package org

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"certnet/internal/errs"
	"certnet/internal/policy"
	"certnet/internal/store"
)

// generationKey is the settings row every change to the registry's
// hierarchy or constituency increments, in the same transaction as the
// change. Each certnet node compares it with the generation of its
// in-memory whois index and hierarchy, at most once per second, so nodes
// sharing one PostgreSQL see each other's changes.
const generationKey = "registry.generation"

// genCheckEvery is how often the generation is read from the database.
const genCheckEvery = time.Second

// Service is the network registry.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	Log *slog.Logger

	// dbGen is the last generation read from (or written to) the database;
	// genCheckedAt is when, in unix nanoseconds of Now (0: never).
	dbGen        atomic.Int64
	genCheckedAt atomic.Int64

	// One rebuild of each cache at a time; readers of the current copy
	// never wait.
	indexMu sync.Mutex
	hierMu  sync.Mutex
	index   atomic.Pointer[Index]
	hier    atomic.Pointer[hierarchy]
}

// NewService returns the registry service. now is the clock (time.Now when
// nil); log may be nil.
func NewService(db *store.DB, now func() time.Time, log *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{DB: db, Now: now, Log: log}
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// stamp is the time written to the store: UTC, to the microsecond (what
// PostgreSQL keeps), so that a value read back equals the value written.
func (s *Service) stamp() time.Time { return s.now().Truncate(time.Microsecond) }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Log
}

// write carries one transaction's actor, clock and registry generation.
type write struct {
	tx     *store.Tx
	a      policy.Actor
	now    time.Time
	gen    int64 // the generation this transaction wrote, 0 if none
	bumped bool
}

func (s *Service) newWrite(tx *store.Tx, a policy.Actor) *write {
	return &write{tx: tx, a: a, now: s.stamp()}
}

// bump increments the registry generation once per transaction. Doing it
// before checking for overlaps also serialises registry writers on
// PostgreSQL (the settings row stays locked until commit).
func (w *write) bump(ctx context.Context) error {
	if w.bumped {
		return nil
	}
	var v string
	err := w.tx.QueryRow(ctx, `INSERT INTO settings (key, value) VALUES (?, '1')
		ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)
		RETURNING value`, generationKey).Scan(&v)
	if err != nil {
		return errs.Internal("org: registry generation", err)
	}
	g, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return errs.Internal("org: registry generation", err)
	}
	w.gen, w.bumped = g, true
	return nil
}

// committed is called after a transaction that bumped the generation has
// committed: this node's caches are rebuilt on their next use.
func (s *Service) committed(w *write) {
	if w == nil || w.gen == 0 {
		return
	}
	for {
		cur := s.dbGen.Load()
		if w.gen <= cur || s.dbGen.CompareAndSwap(cur, w.gen) {
			break
		}
	}
	s.genCheckedAt.Store(s.now().UnixNano())
}

// generation returns the registry generation, reading it from the database
// at most once per genCheckEvery unless force is set.
func (s *Service) generation(ctx context.Context, force bool) (int64, error) {
	now := s.now().UnixNano()
	last := s.genCheckedAt.Load()
	if !force && last != 0 && now-last < int64(genCheckEvery) && now >= last {
		return s.dbGen.Load(), nil
	}
	var v string
	err := s.DB.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", generationKey).Scan(&v)
	var g int64
	switch {
	case store.IsNoRows(err):
		g = 0
	case err != nil:
		return s.dbGen.Load(), err
	default:
		if g, err = strconv.ParseInt(v, 10, 64); err != nil {
			return s.dbGen.Load(), err
		}
	}
	s.dbGen.Store(g)
	s.genCheckedAt.Store(now)
	return g, nil
}

// Invalidate drops the in-memory whois index and hierarchy: their next use
// rebuilds them from the store. The registry keeps them current by itself;
// this is for data changed behind its back (a restore, a hand edit).
func (s *Service) Invalidate() {
	s.indexMu.Lock()
	s.hierMu.Lock()
	defer s.indexMu.Unlock()
	defer s.hierMu.Unlock()
	s.index.Store(nil)
	s.hier.Store(nil)
	s.genCheckedAt.Store(0)
}

// notFound is errs.NotFound with a message of its own.
func notFound(op, key string, args ...any) *errs.Error {
	e := errs.NotFound(op)
	if key != "" {
		e.Message = errs.Msg{Key: key, Args: args}
	}
	return e
}

// conflict is errs.Conflict with the same message on a form field.
func conflict(op, field, key string, args ...any) *errs.Error {
	return errs.Conflict(op, key, args...).Field(field, key, args...)
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
