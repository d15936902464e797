-- +goose Up
-- The transactional outbox (internal/notify): a feature writes one row per
-- thing to tell people in the same transaction as the change it is about;
-- the dispatcher fans each row out to in-app inbox entries, e-mails and
-- webhook calls and marks it fanned. A second row with the same dedupe_key
-- is refused (the feature's Enqueue is then a no-op), so a retried job never
-- tells anyone twice.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    org_ids         TEXT NOT NULL DEFAULT '[]',
    roles           TEXT NOT NULL DEFAULT '[]',
    user_ids        TEXT NOT NULL DEFAULT '[]',
    subject         TEXT NOT NULL DEFAULT '{}',
    body            TEXT NOT NULL DEFAULT '{}',
    link            TEXT NOT NULL DEFAULT '',
    tlp             TEXT NOT NULL DEFAULT 'AMBER',
    exercise        BOOLEAN NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    fanned_at       TIMESTAMP
);
CREATE INDEX notifications_pending ON notifications(fanned_at, id);

-- Leases of the background jobs (internal/jobs): one holder at a time per
-- job across every node sharing the database.
CREATE TABLE job_leases (
    name            TEXT PRIMARY KEY,
    holder          TEXT NOT NULL,
    lease_until     TIMESTAMP NOT NULL,
    last_run_at     TIMESTAMP,
    last_ok_at      TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE job_leases;
DROP TABLE notifications;
