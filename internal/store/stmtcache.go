package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCache keeps prepared statements by their text, for SQLite: the
// driver parses every statement it is given, and parsing was a quarter of
// the CPU of creating an incident (certnet bench incidents). database/sql
// prepares a cached statement once on each connection that runs it and
// reuses it there, also inside transactions (Tx.StmtContext).
//
// A statement is prepared on its second use, so that one-off texts (lists
// of ids written into the SQL) are not kept; the cache holds at most
// maxStmts statements and forgets the counts of texts seen once when they
// pile up. PostgreSQL needs none of this: pgx caches its own.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	seen  map[string]struct{}
}

const (
	maxStmts    = 1024
	maxSeen     = 4096
	prepareWait = 50 * time.Millisecond
)

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, seen: map[string]struct{}{}}
}

// get returns the prepared statement for q, or nil: q not seen before, the
// cache full, or preparing failed or had to wait (the caller then runs q as
// text, which reports any error).
//
// Preparing takes a connection of the pool, so it is done outside the
// lock and gives up after prepareWait: a transaction asking for a
// statement holds a connection already, and eight of them waiting for a
// ninth would wait for ever.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if st, ok := c.stmts[q]; ok {
		c.mu.Unlock()
		return st
	}
	if len(c.stmts) >= maxStmts {
		c.mu.Unlock()
		return nil
	}
	if _, ok := c.seen[q]; !ok {
		if len(c.seen) >= maxSeen {
			clear(c.seen)
		}
		c.seen[q] = struct{}{}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, prepareWait)
	st, err := c.db.PrepareContext(pctx, q)
	cancel()
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.stmts[q]; ok {
		st.Close() // prepared meanwhile by another caller
		return have
	}
	if len(c.stmts) >= maxStmts {
		st.Close()
		return nil
	}
	delete(c.seen, q)
	c.stmts[q] = st
	return st
}
