package store

import (
	"context"
	"crypto/md5"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// SQLite cannot change a table's constraints in place: its procedure
// (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
// Schema Changes") makes the new table, copies the rows, drops the old one
// and renames the new — with foreign keys off, or dropping the old table
// would delete (cascade) or refuse on every row that refers to it. Foreign
// keys cannot be turned off inside a transaction, and goose runs a SQL
// migration in one, so such a migration is a Go migration here: on one
// connection, foreign keys off, the script in one transaction with SQLite's
// foreign_key_check before the commit, foreign keys back on.
//
//go:embed rebuild/*.sql
var rebuilds embed.FS

// sqliteGoMigrations are the SQLite migrations that rebuild tables; their
// versions have no SQL file in migrations/sqlite.
func sqliteGoMigrations() []*goose.Migration {
	return []*goose.Migration{
		// 33: indicators keyed by (kind, value, owner); sources WITHOUT ROWID.
		rebuildMigration(33, "intel_indicator_sources", fillStixHash, "intel_indicators", "intel_indicator_sources"),
	}
}

// rebuildMigration runs rebuild/<version>_up.sql (and _down.sql) through
// runRebuild.
func rebuildMigration(version int64, marker string, fill func(context.Context, *sql.Tx) error, check ...string) *goose.Migration {
	run := func(up bool) func(ctx context.Context, db *sql.DB) error {
		return func(ctx context.Context, db *sql.DB) error {
			after := fill
			if !up {
				after = nil
			}
			return runRebuild(ctx, db, version, up, marker, after, check)
		}
	}
	return goose.NewGoMigration(version, &goose.GoFunc{RunDB: run(true)}, &goose.GoFunc{RunDB: run(false)})
}

// runRebuild runs a rebuild script. The marker table's definition says
// whether it already ran — it ends with WITHOUT ROWID after the up script
// and not after the down one — so that a migration whose commit went
// through but whose version goose did not record is a no-op when started
// again. after, when set, runs after the script in its transaction (what
// SQL cannot compute); check names the tables foreign_key_check reads.
func runRebuild(ctx context.Context, db *sql.DB, version int64, up bool, marker string, after func(context.Context, *sql.Tx) error, check []string) error {
	name := fmt.Sprintf("rebuild/%05d_up.sql", version)
	if !up {
		name = fmt.Sprintf("rebuild/%05d_down.sql", version)
	}
	script, err := rebuilds.ReadFile(name)
	if err != nil {
		return err
	}
	return rebuild(ctx, db, string(script), func(tx *sql.Tx) (bool, error) {
		var def string
		if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", marker).Scan(&def); err != nil {
			return false, err
		}
		rowless := strings.Contains(strings.ToUpper(def), "WITHOUT ROWID")
		return rowless == up, nil
	}, after, check)
}

func rebuild(ctx context.Context, db *sql.DB, script string, done func(*sql.Tx) (bool, error), after func(context.Context, *sql.Tx) error, check []string) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if ok, err := done(tx); err != nil || ok {
		return err
	}
	if _, err := tx.ExecContext(ctx, script); err != nil {
		return err
	}
	if after != nil {
		if err := after(ctx, tx); err != nil {
			return err
		}
	}
	for _, t := range check {
		rows, err := tx.QueryContext(ctx, "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check(?)", t)
		if err != nil {
			return err
		}
		bad := rows.Next()
		var table, parent string
		var rowid sql.NullInt64
		if bad {
			rows.Scan(&table, &rowid, &parent)
		}
		rows.Close()
		if bad {
			return fmt.Errorf("rebuild: %s row %d refers to a missing %s row", table, rowid.Int64, parent)
		}
	}
	return tx.Commit()
}

// StixHash is the lookup key of a STIX id in intel_indicators.stix_hash:
// the first 8 bytes of its MD5, big-endian, as a signed integer — what
// PostgreSQL computes as ('x' || substr(md5(id), 1, 16))::bit(64)::bigint.
// Every query by STIX id names both: the hash finds the rows, the id
// settles a collision.
func StixHash(id string) int64 {
	sum := md5.Sum([]byte(id))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// fillStixHash sets stix_hash on the rows migration 33 copied.
func fillStixHash(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, stix_id FROM intel_indicators")
	if err != nil {
		return err
	}
	type row struct {
		id   int64
		hash int64
	}
	var all []row
	for rows.Next() {
		var r row
		var sid string
		if err := rows.Scan(&r.id, &sid); err != nil {
			rows.Close()
			return err
		}
		r.hash = StixHash(sid)
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "UPDATE intel_indicators SET stix_hash = ? WHERE id = ?")
	if err != nil {
		return err
	}
	defer st.Close()
	for _, r := range all {
		if _, err := st.ExecContext(ctx, r.hash, r.id); err != nil {
			return err
		}
	}
	return nil
}
