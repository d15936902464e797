package app

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"certnet/internal/store"
)

const pgBackupHelp = `certnet keeps its PostgreSQL data in the database itself; back it up with the PostgreSQL tools:
  pg_dump --format=custom --file=certnet.dump "$CERTNET_DB"
and restore into an empty database with
  pg_restore --clean --if-exists --no-owner --dbname="$CERTNET_DB" certnet.dump
then run "certnet migrate --db …" to bring the schema up to date.`

// runBackup writes an online, consistent copy of the SQLite database with
// VACUUM INTO: readers and writers carry on while it runs.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("backup", 0, stderr)
	var out string
	fs.StringVar(&out, "out", "", "file to write (default certnet-backup-<time>.db in the current folder)")
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	a, err := Open(ctx, *cfg, NewLogger(*cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	if a.DB.Engine == store.Postgres {
		fmt.Fprintln(stdout, pgBackupHelp)
		return fmt.Errorf("backup of PostgreSQL is done with pg_dump (see above)")
	}
	if out == "" {
		out = "certnet-backup-" + time.Now().UTC().Format("20060102T150405Z") + ".db"
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose another --out", out)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := a.DB.SQL.ExecContext(ctx, "VACUUM INTO ?", abs); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := checkSQLite(ctx, abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("backup written but failed its check, removed: %w", err)
	}
	fi, _ := os.Stat(abs)
	fmt.Fprintf(stdout, "backup written to %s (%d bytes, %s, integrity ok)\n", abs, fi.Size(), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "the federation secrets in it are sealed with %s: keep a copy of that file too (apart from the backup)\n",
		a.Cfg.SealingKeyFile())
	return nil
}

// checkSQLite opens a database file read-only and runs integrity_check.
func checkSQLite(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity_check: %s", res)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM goose_db_version").Scan(&n); err != nil {
		return fmt.Errorf("not a certnet database: %w", err)
	}
	return nil
}

// runRestore puts a backup in place of the data folder's database. certnet
// must be stopped; the current database is kept beside it.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfg, finish := newFlags("restore", 0, stderr)
	var force bool
	fs.BoolVar(&force, "force", false, "replace an existing database (it is kept as certnet.db.before-restore-<time>)")
	if err := parse(fs, args, finish); err != nil {
		return err
	}
	if strings.HasPrefix(cfg.DB, "postgres") {
		fmt.Fprintln(stdout, pgBackupHelp)
		return fmt.Errorf("restore of PostgreSQL is done with pg_restore (see above)")
	}
	if fs.NArg() != 1 {
		return usagef("usage: certnet restore [--data DIR] [--force] BACKUP.db")
	}
	src := fs.Arg(0)
	if err := checkSQLite(ctx, src); err != nil {
		return fmt.Errorf("%s is not a usable certnet backup: %w", src, err)
	}
	target := filepath.Join(cfg.Data, "certnet.db")
	if strings.HasPrefix(cfg.DB, "sqlite:") {
		target = strings.TrimPrefix(cfg.DB, "sqlite:")
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(target); err == nil {
		if !force {
			return fmt.Errorf("%s exists; stop certnet and run again with --force to replace it", target)
		}
		if err := lockedByServer(ctx, target); err != nil {
			return err
		}
		keep := target + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(target, keep); err != nil {
			return err
		}
		os.Remove(target + "-wal")
		os.Remove(target + "-shm")
		fmt.Fprintf(stdout, "previous database kept as %s\n", keep)
	}
	if err := copyFile(src, target+".restoring"); err != nil {
		return err
	}
	if err := os.Rename(target+".restoring", target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s to %s\n", src, target)
	return nil
}

// lockedByServer refuses to restore under a running certnet: it takes an
// exclusive lock on the database for a moment.
func lockedByServer(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(200)")
	if err != nil {
		return err
	}
	defer db.Close()
	// Checkpoint the WAL into the file we are about to keep, then make sure
	// nobody else holds it.
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("the database is in use — stop certnet first: %w", err)
	}
	if _, err := db.ExecContext(ctx, "BEGIN EXCLUSIVE; COMMIT;"); err != nil {
		return fmt.Errorf("the database is in use — stop certnet first: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
