package store

import "github.com/pressly/goose/v3"

// Provider is the migration provider, for tests that move the schema down
// and up again.
func (db *DB) Provider() (*goose.Provider, error) { return db.provider() }
