-- +goose Up
-- Incidents (TT 20/2017 Điều 11, QĐ 05/2017 Điều 14): the incident, its
-- reports (notice, initial, progress, support request, closure) with their
-- acknowledgement, the timeline, watchers, links and observables.

-- One row per year: the last sequence number handed out for SC-YYYY-NNNNNN,
-- incremented by an upsert inside the creating transaction.
CREATE TABLE incident_sequences (
    year    INTEGER PRIMARY KEY,
    last    BIGINT NOT NULL
);

CREATE TABLE incidents (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    ref                 TEXT NOT NULL UNIQUE,
    year                INTEGER NOT NULL,
    seq                 BIGINT NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    type                TEXT NOT NULL,
    severity            TEXT NOT NULL,
    class               TEXT NOT NULL DEFAULT 'ordinary',
    status              TEXT NOT NULL,
    tlp                 TEXT NOT NULL DEFAULT 'AMBER',
    reporter_org_id     INTEGER NOT NULL REFERENCES organisations(id),
    affected_org_id     INTEGER NOT NULL REFERENCES organisations(id),
    reported_by         INTEGER,
    reported_by_name    TEXT NOT NULL DEFAULT '',
    detected_at         TIMESTAMP NOT NULL,
    reported_at         TIMESTAMP NOT NULL,
    exceeds_capacity    BOOLEAN NOT NULL DEFAULT 0,
    details             TEXT NOT NULL DEFAULT '{}',
    serious_state       TEXT NOT NULL DEFAULT '',
    serious_json        TEXT NOT NULL DEFAULT '',
    duplicate_of        INTEGER REFERENCES incidents(id),
    response_ended_at   TIMESTAMP,
    closed_at           TIMESTAMP,
    next_due_at         TIMESTAMP,
    search_text         TEXT NOT NULL DEFAULT '',
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX incidents_reported ON incidents(reported_at, id);
CREATE INDEX incidents_affected ON incidents(affected_org_id, reported_at);
CREATE INDEX incidents_reporter ON incidents(reporter_org_id, reported_at);
CREATE INDEX incidents_status ON incidents(status, reported_at);
CREATE INDEX incidents_due ON incidents(next_due_at);

CREATE TABLE incident_reports (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id         INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    body                TEXT NOT NULL DEFAULT '{}',
    submitted_by        INTEGER,
    submitted_by_name   TEXT NOT NULL DEFAULT '',
    submitted_org_id    INTEGER,
    submitted_at        TIMESTAMP NOT NULL,
    ack_by              INTEGER,
    ack_by_name         TEXT NOT NULL DEFAULT '',
    ack_org_id          INTEGER,
    ack_at              TIMESTAMP
);
CREATE INDEX incident_reports_incident ON incident_reports(incident_id, id);

CREATE TABLE incident_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    at              TIMESTAMP NOT NULL,
    actor_user_id   INTEGER,
    actor           TEXT NOT NULL DEFAULT '',
    actor_org_id    INTEGER,
    detail          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX incident_events_incident ON incident_events(incident_id, id);

CREATE TABLE incident_watchers (
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (incident_id, user_id)
);
CREATE INDEX incident_watchers_user ON incident_watchers(user_id);

CREATE TABLE incident_links (
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    other_id        INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    created_by      INTEGER,
    PRIMARY KEY (incident_id, other_id)
);
CREATE INDEX incident_links_other ON incident_links(other_id);

CREATE TABLE incident_observables (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    created_by      INTEGER,
    UNIQUE (incident_id, kind, value)
);
CREATE INDEX incident_observables_value ON incident_observables(kind, value);

-- +goose Down
DROP TABLE incident_observables;
DROP TABLE incident_links;
DROP TABLE incident_watchers;
DROP TABLE incident_events;
DROP TABLE incident_reports;
DROP TABLE incidents;
DROP TABLE incident_sequences;
