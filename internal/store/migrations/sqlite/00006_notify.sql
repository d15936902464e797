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

-- In-app inbox: one row per recipient of a fanned-out notification.
CREATE TABLE notify_inbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    created_at      TIMESTAMP NOT NULL,
    read_at         TIMESTAMP,
    UNIQUE (user_id, notification_id)
);
CREATE INDEX notify_inbox_user ON notify_inbox(user_id, id);
-- The header's unread badge: one indexed COUNT.
CREATE INDEX notify_inbox_unread ON notify_inbox(user_id) WHERE read_at IS NULL;

-- Per-user, per-kind channel preferences; no row means the default
-- (e-mail on). The inbox is always on.
CREATE TABLE notify_prefs (
    user_id         INTEGER NOT NULL REFERENCES users(id),
    kind            TEXT NOT NULL,
    email           BOOLEAN NOT NULL DEFAULT 1,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Webhook endpoints of an organisation, managed by its administrators.
-- kinds is a JSON list; empty means every kind. The secret signs each call
-- (HMAC-SHA256); it is shown once when created. A deleted endpoint keeps
-- its row (deleted_at) so that its delivery log stays readable to audit.
CREATE TABLE notify_webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    url             TEXT NOT NULL,
    kinds           TEXT NOT NULL DEFAULT '[]',
    secret          TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT 1,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    deleted_at      TIMESTAMP
);
CREATE INDEX notify_webhooks_org ON notify_webhooks(org_id);

-- One e-mail or webhook call to make. status: pending (to send, maybe after
-- failures), sent, dead (gave up after the last attempt), cancelled (its
-- endpoint went away). A sender claims a row by setting claimed_until and
-- claimed_by; another node skips a claimed row until the claim expires.
-- notification_id is NULL for a webhook's "send a test".
CREATE TABLE notify_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER REFERENCES notifications(id),
    channel         TEXT NOT NULL,
    user_id         INTEGER REFERENCES users(id),
    webhook_id      INTEGER REFERENCES notify_webhooks(id),
    address         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    claimed_by      TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    last_status     INTEGER NOT NULL DEFAULT 0,
    sent_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX notify_deliveries_due ON notify_deliveries(status, next_attempt_at);
CREATE INDEX notify_deliveries_webhook ON notify_deliveries(webhook_id, id);
CREATE INDEX notify_deliveries_notification ON notify_deliveries(notification_id);

-- +goose Down
DROP TABLE notify_deliveries;
DROP TABLE notify_webhooks;
DROP TABLE notify_prefs;
DROP TABLE notify_inbox;
DROP TABLE job_leases;
DROP TABLE notifications;
