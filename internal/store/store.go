// Package store opens certnet's database — SQLite (pure Go, WAL) by default,
// PostgreSQL for scale — applies the embedded migrations, and gives the
// feature packages one small query interface that works on both engines.
package store

import (
	"certnet/internal/errs"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // SQLite driver "sqlite", pure Go
)

//go:embed migrations
var migrations embed.FS

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open certnet database.
type DB struct {
	SQL    *sql.DB
	Engine Engine
	// Where is a human description of the database (a path or a redacted URL).
	Where string

	stmts *stmtCache // SQLite only: prepared statements by text

	// checkpoints are the WAL checkpoints that bulk transactions left to
	// run after their commit (SQLite); Close waits for them.
	checkpoints sync.WaitGroup
}

// Open opens the database. dsn is either empty (SQLite in dataDir) or a
// postgres:// URL.
func Open(ctx context.Context, dataDir, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	if dsn != "" && !strings.HasPrefix(dsn, "sqlite:") {
		return nil, fmt.Errorf("store: --db must be a postgres:// URL or sqlite:PATH, got %q", redact(dsn))
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data folder: %w", err)
		}
		path = filepath.Join(dataDir, "certnet.db")
	}
	return OpenSQLite(ctx, path)
}

// OpenSQLite opens (creating if needed) the SQLite database at path.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	// WAL for concurrent readers; synchronous FULL so that an acknowledged
	// commit survives power loss; immediate transactions so that two writers
	// never deadlock on a lock upgrade; foreign keys on; a page cache of 32
	// MiB per connection (SQLite's default is 2 MiB: at 1 000 000 incidents
	// one list page in twenty took over 100 ms re-reading index pages from
	// the file; with the larger cache p95 is 8–11 ms in certnet bench
	// incidents).
	q := "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(15000)" +
		"&_pragma=foreign_keys(1)&_pragma=cache_size(-32768)&_txlock=immediate&_time_format=sqlite"
	db, err := sql.Open("sqlite", "file:"+path+q)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return &DB{SQL: db, Engine: SQLite, Where: path, stmts: newStmtCache(db)}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	// certnet's sessions name themselves (unless the address does) so
	// that they know each other in pg_stat_activity (intel.Horizon).
	if u, err := url.Parse(dsn); err == nil && !u.Query().Has("application_name") {
		q := u.Query()
		q.Set("application_name", "certnet")
		u.RawQuery = q.Encode()
		dsn = u.String()
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", redact(dsn), err)
	}
	return &DB{SQL: db, Engine: Postgres, Where: redact(dsn)}, nil
}

func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			cred := rest[:at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return dsn[:i+3] + cred[:c] + ":***" + rest[at:]
			}
		}
	}
	return dsn
}

// Close closes the database (after any checkpoint a bulk transaction left
// running).
func (db *DB) Close() error {
	db.checkpoints.Wait()
	return db.SQL.Close()
}

// WaitCheckpoints waits for the WAL checkpoints bulk transactions left to
// run after their commit.
func (db *DB) WaitCheckpoints() { db.checkpoints.Wait() }

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Engine))
	if err != nil {
		return nil, err
	}
	if db.Engine == Postgres {
		return goose.NewProvider(goose.DialectPostgres, db.SQL, sub)
	}
	return goose.NewProvider(goose.DialectSQLite3, db.SQL, sub, goose.WithGoMigrations(sqliteGoMigrations()...))
}

// Migrate applies every pending migration and returns how many ran.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) (int, error) {
	p, err := db.provider()
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
		}
	}
	return len(res), nil
}

// Pending reports whether migrations are waiting (for /readyz).
func (db *DB) Pending(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

// Version returns the current schema version.
func (db *DB) Version(ctx context.Context) (int64, error) {
	p, err := db.provider()
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

// Q is what DB and Tx have in common: queries with `?` placeholders, rebound
// for PostgreSQL.
type Q interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Dialect() Engine
}

// Exec runs a statement.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := db.stmts.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return db.SQL.ExecContext(ctx, Rebind(db.Engine, q), args...)
}

// Query runs a query.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := db.stmts.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.SQL.QueryContext(ctx, Rebind(db.Engine, q), args...)
}

// QueryRow runs a query returning one row.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := db.stmts.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.SQL.QueryRowContext(ctx, Rebind(db.Engine, q), args...)
}

// Dialect returns the engine.
func (db *DB) Dialect() Engine { return db.Engine }

// Tx is a transaction.
type Tx struct {
	tx     *sql.Tx
	engine Engine
	stmts  *stmtCache
}

// stmt is the cached statement for q bound to the transaction, or nil.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if st := t.stmts.get(ctx, q); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	return nil
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, Rebind(t.engine, q), args...)
}

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, Rebind(t.engine, q), args...)
}

// QueryRow runs a one-row query in the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, Rebind(t.engine, q), args...)
}

// Dialect returns the engine.
func (t *Tx) Dialect() Engine { return t.engine }

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise (also on panic).
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	return db.run(sqlTx, fn)
}

// run runs fn in the begun transaction: commit on nil, rollback otherwise
// (also on panic).
func (db *DB) run(sqlTx *sql.Tx, fn func(tx *Tx) error) error {
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(&Tx{tx: sqlTx, engine: db.Engine, stmts: db.stmts}); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// InBulkTx runs fn in a transaction meant for a bulk write (an import of
// hundreds of thousands of rows) whose caller has checked, inside fn, that
// every parent row its rows refer to exists. On SQLite the connection runs
// the transaction with foreign-key enforcement off: a multi-row INSERT into
// a table with a foreign key otherwise makes SQLite keep a statement
// journal, a copy of every page the statement changes (a quarter of the
// time of a million-row import). The setting is put back before the
// connection returns to the pool; a connection where that fails is closed
// instead.
//
// The commit does not wait for the WAL checkpoint that SQLite would run in
// it (copying a million-row write into the database file adds a tenth to
// its time): the transaction is durable once committed — in the
// WAL, synced — and the checkpoint runs after it on another connection
// while readers go on (WaitCheckpoints; Close waits for it). On PostgreSQL
// InBulkTx is InTx.
func (db *DB) InBulkTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if db.Engine != SQLite {
		return db.InTx(ctx, fn)
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: bulk connection: %w", err)
	}
	committed := false
	defer func() {
		// Back as the pool expects it; a connection where that fails must
		// not be used again.
		back := context.WithoutCancel(ctx)
		for _, q := range []string{"PRAGMA foreign_keys = ON", "PRAGMA wal_autocheckpoint = 1000"} {
			if _, rerr := conn.ExecContext(back, q); rerr != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn })
				break
			}
		}
		conn.Close()
		if committed {
			db.checkpoints.Add(1)
			go func() {
				defer db.checkpoints.Done()
				// PASSIVE, as SQLite's own automatic checkpoint: it copies
				// what no reader still needs and never blocks anyone; what
				// it leaves, a later checkpoint copies. An error is left to
				// those later checkpoints too.
				db.SQL.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
			}()
		}
	}()
	for _, q := range []string{"PRAGMA foreign_keys = OFF", "PRAGMA wal_autocheckpoint = 0"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: bulk connection: %w", err)
		}
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := db.run(sqlTx, fn); err != nil {
		return err
	}
	committed = true
	return nil
}

// Rebind turns `?` placeholders into `$1, $2…` for PostgreSQL. Question marks
// inside single-quoted literals are left alone.
func Rebind(e Engine, q string) string {
	if e != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// LockAudit serialises writers of the audit hash chain for the rest of the
// transaction. SQLite transactions are already exclusive (immediate), so only
// PostgreSQL needs an advisory lock.
func LockAudit(ctx context.Context, tx *Tx) error {
	if tx.engine != Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7340001)")
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505") ||
		strings.Contains(s, "duplicate key value")
}

// IsNoRows reports sql.ErrNoRows.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Like makes a LIKE pattern (used with ESCAPE '\') that finds s anywhere.
func Like(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

// LikePrefix makes a LIKE pattern (used with ESCAPE '\') for values that
// start with s.
func LikePrefix(s string) string { return likeEscaper.Replace(s) + "%" }

// NullTime is t for a nullable time column: NULL when t is zero, t in UTC
// otherwise.
func NullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// sqliteTimeLayout is how the SQLite driver writes a time.Time
// (_time_format=sqlite, see OpenSQLite).
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// SQLiteTime is the text the SQLite driver stores for t: a bulk writer
// that binds the same instant many times (or formats it on another
// goroutine) passes it instead of t and stores exactly the same bytes.
func SQLiteTime(t time.Time) string { return t.Format(sqliteTimeLayout) }

// TimeOf reads a nullable time column: the zero time for NULL, UTC
// otherwise.
func TimeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// NullID is id for a nullable reference column: NULL when id is 0.
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// IDs runs a query whose rows are one integer column (ids) and returns
// them in the query's order.
func IDs(ctx context.Context, q Q, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Wrap is errs.Ensure that also reads sql.ErrNoRows as errs.NotFound, for
// services whose lookups return the driver's error unchanged.
func Wrap(op string, err error) error {
	if IsNoRows(err) {
		return errs.NotFound(op)
	}
	return errs.Ensure(op, err)
}

// InList is the placeholder list "(?, ?, …)" and the arguments of an IN
// over ids (which must not be empty).
func InList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}
