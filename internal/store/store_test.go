package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"certnet/internal/store"
	"certnet/internal/testkit"
)

func TestMigrateEmptyDatabase(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		pending, err := db.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pending {
			t.Fatal("migrations still pending after Migrate")
		}
		v, err := db.Version(ctx)
		if err != nil || v < 1 {
			t.Fatalf("version %d, %v", v, err)
		}
		// Running again applies nothing.
		n, err := db.Migrate(ctx, nil)
		if err != nil || n != 0 {
			t.Fatalf("second migrate: %d, %v", n, err)
		}
	})
}

func TestTxRollsBackOnError(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "a", "1"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", "a", "2")
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("want unique violation, got %v", err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = ?", "a").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after rollback: %d, %v", n, err)
		}
	})
}

func TestRebind(t *testing.T) {
	got := store.Rebind(store.Postgres, "SELECT ? , '?' , ? WHERE a LIKE 'x?'")
	want := "SELECT $1 , '?' , $2 WHERE a LIKE 'x?'"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if store.Rebind(store.SQLite, "a = ?") != "a = ?" {
		t.Fatal("sqlite must not be rebound")
	}
}

// InBulkTx turns foreign-key enforcement and the automatic checkpoint off
// for its own transaction only: every connection of the pool has them on
// afterwards, a failed bulk transaction keeps nothing, and the checkpoint
// left to run after the commit copies the WAL.
func TestInBulkTxSQLite(t *testing.T) {
	db := testkit.NewSQLite(t)
	ctx := context.Background()
	err := db.InBulkTx(ctx, func(tx *store.Tx) error {
		var fk, ac int
		if err := tx.QueryRow(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "PRAGMA wal_autocheckpoint").Scan(&ac); err != nil {
			return err
		}
		if fk != 0 || ac != 0 {
			t.Errorf("inside: foreign_keys %d, wal_autocheckpoint %d; want 0, 0", fk, ac)
		}
		for i := range 3000 { // more than the automatic checkpoint's 1 000 pages
			if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", fmt.Sprintf("bulk-%05d", i), strings.Repeat("x", 2000)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("refused")
	if err := db.InBulkTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('lost', '1')"); err != nil {
			return err
		}
		return bad
	}); !errors.Is(err, bad) {
		t.Fatalf("failed bulk transaction: %v", err)
	}
	db.WaitCheckpoints()
	// Hold every connection of the pool at once: each has the settings the
	// pool expects.
	var conns []*sql.Conn
	for range 8 {
		c, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var fk, ac int
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&ac); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || ac != 1000 {
			t.Errorf("connection %d after: foreign_keys %d, wal_autocheckpoint %d; want 1, 1000", i, fk, ac)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	var n, lost int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key LIKE 'bulk-%'").Scan(&n); err != nil || n != 3000 {
		t.Fatalf("bulk rows %d, %v", n, err)
	}
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = 'lost'").Scan(&lost); err != nil || lost != 0 {
		t.Fatalf("rows of the failed transaction %d, %v", lost, err)
	}
	// The checkpoint after the commit copied the bulk write: a new
	// checkpoint has (almost) nothing left to copy.
	var busy, logFrames, copied int
	if err := db.QueryRow(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
		t.Fatal(err)
	}
	if busy != 0 || copied != logFrames {
		t.Fatalf("checkpoint after the bulk commit: busy %d, %d frames in the WAL, %d copied", busy, logFrames, copied)
	}
}

// A time bound as SQLiteTime text is stored as the driver stores the time
// itself, byte for byte, and reads back as the same instant.
func TestSQLiteTime(t *testing.T) {
	db := testkit.NewSQLite(t)
	ctx := context.Background()
	if _, err := db.Exec(ctx, "CREATE TABLE t_time (a TIMESTAMP, b TIMESTAMP)"); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{
		time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("ICT", 7*3600)),
	} {
		if _, err := db.Exec(ctx, "DELETE FROM t_time"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, "INSERT INTO t_time (a, b) VALUES (?, ?)", at, store.SQLiteTime(at)); err != nil {
			t.Fatal(err)
		}
		var same bool
		var a, b time.Time
		if err := db.QueryRow(ctx, "SELECT CAST(a AS BLOB) = CAST(b AS BLOB) AND typeof(a) = typeof(b), a, b FROM t_time").Scan(&same, &a, &b); err != nil {
			t.Fatal(err)
		}
		if !same || !a.Equal(at) || !b.Equal(at) {
			t.Fatalf("%v: stored alike %v, read %v and %v", at, same, a, b)
		}
	}
}

// StixHash is the hash PostgreSQL's migration computes in SQL.
func TestStixHashMatchesPostgres(t *testing.T) {
	db := testkit.NewPostgres(t)
	for _, id := range []string{"indicator--6ba7b811-9dad-11d1-80b4-00c04fd430c8", "indicator--a", "x", "indicator--ffffffff-ffff-4fff-bfff-ffffffffffff"} {
		var got int64
		if err := db.QueryRow(context.Background(), "SELECT ('x' || substr(md5(?), 1, 16))::bit(64)::bigint", id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := store.StixHash(id); got != want {
			t.Fatalf("%s: PostgreSQL %d, StixHash %d", id, got, want)
		}
	}
}

// Migration 33 goes down and up again on both engines with an indicator,
// its sources and what refers to it kept.
func TestMigration33DownUp(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
		var org, ind int64
		if err := db.QueryRow(ctx, `INSERT INTO organisations (code, name, created_at, updated_at) VALUES ('HN', 'Hà Nội', ?, ?) RETURNING id`, now, now).Scan(&org); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, `INSERT INTO intel_indicators (owner_org_id, kind, value, pattern, valid_from, tlp, stix_id, stix_hash, created_at, updated_at)
			VALUES (?, 'ipv4', '198.51.100.1', 'x', ?, 'AMBER', 'indicator--a', ?, ?, ?) RETURNING id`, org, now, store.StixHash("indicator--a"), now, now).Scan(&ind); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO intel_indicator_sources (indicator_id, source, ref, first_seen, last_seen) VALUES (?, 'manual', '', ?, ?)`, ind, now, now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO intel_sightings (indicator_id, stix_id, first_seen, last_seen, created_at) VALUES (?, 'sighting--a', ?, ?, ?)`, ind, now, now, now); err != nil {
			t.Fatal(err)
		}
		p, err := db.Provider()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 32); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM intel_indicators i JOIN intel_indicator_sources s ON s.indicator_id = i.id
			JOIN intel_sightings g ON g.indicator_id = i.id WHERE i.id = ? AND i.stix_hash = ?`, ind, store.StixHash("indicator--a")).Scan(&n); err != nil || n != 1 {
			t.Fatalf("after down and up: %d rows, %v", n, err)
		}
	})
}
