// Package testkit gives tests real databases of both engines, a fake clock and
// small builders.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"certnet/internal/store"
)

// PostgresURL returns the PostgreSQL URL for contract tests, or "" when they
// are switched off. Inside CI (CI=true) a missing URL fails the test run
// instead of skipping silently.
func PostgresURL(t testing.TB) string {
	u := os.Getenv("CERTNET_TEST_POSTGRES")
	if u == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but CERTNET_TEST_POSTGRES is empty: the PostgreSQL contract tests must run in CI")
	}
	return u
}

// Engine is a database engine under test.
type Engine struct {
	Name store.Engine
	Open func(t testing.TB) *store.DB
}

// Engines lists SQLite always and PostgreSQL when CERTNET_TEST_POSTGRES is set.
func Engines(t testing.TB) []Engine {
	out := []Engine{{Name: store.SQLite, Open: NewSQLite}}
	if PostgresURL(t) != "" {
		out = append(out, Engine{Name: store.Postgres, Open: NewPostgres})
	} else {
		t.Logf("PostgreSQL contract tests skipped: set CERTNET_TEST_POSTGRES=postgres://… to run them")
	}
	return out
}

// ForEachEngine runs fn as a subtest against a fresh, migrated database of
// every engine.
func ForEachEngine(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(string(e.Name), func(t *testing.T) {
			fn(t, e.Open(t))
		})
	}
}

// NewSQLite opens a migrated SQLite database in a temporary folder.
func NewSQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "certnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

var pgMu sync.Mutex

// NewPostgres opens a migrated PostgreSQL database in a schema of its own,
// dropped when the test ends.
func NewPostgres(t testing.TB) *store.DB {
	t.Helper()
	base := PostgresURL(t)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: CERTNET_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "t_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	pgMu.Lock()
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	pgMu.Unlock()
	if err != nil {
		t.Fatalf("create schema on %s: %v", base, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Its own name: the test databases of other packages, run at the same
	// time in the same PostgreSQL database, are not this certnet's
	// sessions (intel.Horizon).
	q.Set("application_name", "certnet_"+schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, "", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("pgx", base)
		if err == nil {
			a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	})
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set sets the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
