package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestStmtCache: a statement is prepared on its second use and reused, in
// and out of transactions; one-off texts are not kept; more transactions
// than connections, each preparing statements, finish (no pool deadlock)
// with the right results.
func TestStmtCache(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	cached := func() int {
		db.stmts.mu.Lock()
		defer db.stmts.mu.Unlock()
		return len(db.stmts.stmts)
	}
	const ins = "INSERT INTO kv (k, v) VALUES (?, ?)"
	for i := range 3 {
		if _, err := db.Exec(ctx, ins, i, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n := cached(); n != 1 {
		t.Fatalf("after three uses of one text: %d cached", n)
	}
	// Texts seen once are not prepared.
	for i := range 20 {
		var n int
		if err := db.QueryRow(ctx, fmt.Sprintf("SELECT COUNT(*) FROM kv WHERE k IN (%d)", i)).Scan(&n); err != nil || n != min(1, max(0, 3-i)) {
			t.Fatal(i, n, err)
		}
	}
	if n := cached(); n != 1 {
		t.Fatalf("one-off texts kept: %d cached", n)
	}
	// Twelve goroutines' transactions at once on eight connections, each using
	// statements new to the cache.
	var wg sync.WaitGroup
	errc := make(chan error, 20*20)
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				err := db.InTx(ctx, func(tx *Tx) error {
					k := 1000 + g*100 + i
					if _, err := tx.Exec(ctx, ins, k, fmt.Sprint(k)); err != nil {
						return err
					}
					var v string
					if err := tx.QueryRow(ctx, "SELECT v FROM kv WHERE k = ?", k).Scan(&v); err != nil {
						return err
					}
					if v != fmt.Sprint(k) {
						return fmt.Errorf("read %q for %d", v, k)
					}
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM kv").Scan(&n); err != nil || n != 3+12*5 {
		t.Fatalf("%d rows (%v)", n, err)
	}
	if c := cached(); c < 2 || c > maxStmts {
		t.Fatalf("%d cached", c)
	}
}
