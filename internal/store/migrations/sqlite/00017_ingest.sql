-- +goose Up
-- SOC ingest (issue 5): the sources that push event batches (one token each,
-- bound to the SOC's organisation, with a quota and health counters) and one
-- row per batch — its idempotency key, the answer given (counts and per-line
-- errors) and whether the pipeline has counted it, so that neither a retried
-- request nor a redelivered message is ever counted twice.

CREATE TABLE ingest_sources (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              INTEGER NOT NULL REFERENCES organisations(id),
    name                TEXT NOT NULL,
    token_prefix        TEXT NOT NULL,          -- first characters, for people to recognise it
    token_hash          TEXT NOT NULL UNIQUE,   -- hex SHA-256 of the token
    enabled             BOOLEAN NOT NULL DEFAULT TRUE,
    quota_per_minute    INTEGER NOT NULL,       -- accepted events per minute
    quota_window        TIMESTAMP,              -- start of the current quota minute
    quota_used          INTEGER NOT NULL DEFAULT 0,
    batches             INTEGER NOT NULL DEFAULT 0, -- batches accepted
    events              INTEGER NOT NULL DEFAULT 0, -- events accepted
    rejected            INTEGER NOT NULL DEFAULT 0, -- lines refused
    processed_batches   INTEGER NOT NULL DEFAULT 0,
    processed_events    INTEGER NOT NULL DEFAULT 0,
    matches             INTEGER NOT NULL DEFAULT 0,
    last_batch_at       TIMESTAMP,
    last_processed_at   TIMESTAMP,
    rotated_at          TIMESTAMP,
    disabled_at         TIMESTAMP,
    created_by          INTEGER,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE ingest_batches (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id           INTEGER NOT NULL REFERENCES ingest_sources(id) ON DELETE CASCADE,
    idem_key            TEXT NOT NULL,
    format              TEXT NOT NULL DEFAULT '',
    accepted            INTEGER NOT NULL DEFAULT 0,
    rejected            INTEGER NOT NULL DEFAULT 0,
    errors              TEXT NOT NULL DEFAULT '[]', -- JSON [{line, code, message}]
    bytes               INTEGER NOT NULL DEFAULT 0,
    stream_seq          INTEGER NOT NULL DEFAULT 0,
    received_at         TIMESTAMP,              -- set when the answer was given
    processed_at        TIMESTAMP,              -- set when the pipeline counted it
    matches             INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, idem_key)
);
CREATE INDEX ingest_batches_received ON ingest_batches(received_at);

-- +goose Down
DROP TABLE ingest_batches;
DROP TABLE ingest_sources;
