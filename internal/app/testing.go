package app

import (
	"context"
	"io"
	"log/slog"
	"time"

	"certnet/internal/config"
	"certnet/internal/store"
)

// ForTest builds an App on an already migrated database with an injected
// clock, for tests of the whole HTTP surface.
func ForTest(cfg config.Config, db *store.DB, now func() time.Time, log *slog.Logger) *App {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := build(cfg, log, db, now)
	if cfg.Data != "" {
		if err := a.openSecrets(context.Background()); err != nil {
			panic(err)
		}
	}
	return a
}
