-- +goose Up
-- TAXII 2.1: the status resource of each POST of objects, kept so that
-- GET status/{id} answers after the fact and on any node.
CREATE TABLE taxii_status (
    id              TEXT PRIMARY KEY,
    owner_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    collection      TEXT NOT NULL,
    status          TEXT NOT NULL,
    total_count     INTEGER NOT NULL,
    success_count   INTEGER NOT NULL,
    failure_count   INTEGER NOT NULL,
    pending_count   INTEGER NOT NULL,
    body            TEXT NOT NULL,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX taxii_status_org ON taxii_status(owner_org_id, created_at);

-- +goose Down
DROP TABLE taxii_status;
