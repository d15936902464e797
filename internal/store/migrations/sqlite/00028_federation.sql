-- +goose Up
-- Federation (issue 4, item 5): this certnet instance's peers — its parent
-- instance, reached over TAXII 2.1 — with what is pushed up and pulled
-- down, the credentials (kept here, never logged, shown masked), the sync
-- state, and one cursor per peer and direction, moved only once a page is
-- stored.
CREATE TABLE federation_peers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id), -- the local organisation whose objects go up
    parent_org_id   INTEGER NOT NULL REFERENCES organisations(id), -- the local organisation that stands for the parent
    name            TEXT NOT NULL,
    api_root        TEXT NOT NULL,
    push_collection TEXT NOT NULL DEFAULT '',   -- '' pushes nothing
    pull_collections TEXT NOT NULL DEFAULT '',  -- one per line; none pulls nothing
    auth_kind       TEXT NOT NULL,              -- bearer, basic
    username        TEXT NOT NULL DEFAULT '',
    secret          TEXT NOT NULL,
    interval_secs   INTEGER NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    pushed_count    INTEGER NOT NULL DEFAULT 0,
    pulled_count    INTEGER NOT NULL DEFAULT 0,
    advisories_count INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0, -- consecutive failed syncs (backoff)
    last_attempt_at TIMESTAMP,
    last_success_at TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    last_error_at   TIMESTAMP,
    next_run_at     TIMESTAMP,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (org_id, name)
);

-- direction: push:indicator, push:object (keyset over updated_at, id of
-- the local rows) or pull:<collection> (the last X-TAXII-Date-Added-Last
-- seen, as the server wrote it).
CREATE TABLE federation_cursors (
    peer_id         INTEGER NOT NULL REFERENCES federation_peers(id) ON DELETE CASCADE,
    direction       TEXT NOT NULL,
    pos             TEXT NOT NULL DEFAULT '',
    pos_at          TIMESTAMP,                  -- push: updated_at of the last row sent; pull: last date added
    last_id         INTEGER NOT NULL DEFAULT 0,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (peer_id, direction)
);

-- The parent's advisories (STIX reports) made local advisories, one per
-- peer and report.
CREATE TABLE federation_advisories (
    peer_id         INTEGER NOT NULL REFERENCES federation_peers(id) ON DELETE CASCADE,
    stix_id         TEXT NOT NULL,
    version         TEXT NOT NULL,
    advisory_id     INTEGER NOT NULL REFERENCES advisories(id),
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (peer_id, stix_id)
);

-- What is pushed is read in the order it changed.
CREATE INDEX intel_objects_updated ON intel_objects(updated_at, id);

-- +goose Down
DROP INDEX intel_objects_updated;
DROP TABLE federation_advisories;
DROP TABLE federation_cursors;
DROP TABLE federation_peers;
