package store_test

import (
	"context"
	"testing"

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
