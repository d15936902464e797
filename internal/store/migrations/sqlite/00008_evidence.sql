-- +goose Up
-- Evidence files of an incident with their custody log, incident tasks, and
-- the public report queue (reports from citizens and organisations outside
-- the network, with a rate limit shared by every node).

-- An evidence file: the bytes live in the content-addressed store
-- <data>/evidence/<aa>/<bb>/<sha256>, written and synced before the row.
CREATE TABLE evidence (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    media_type      TEXT NOT NULL DEFAULT '',
    tlp             TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    uploaded_by     INTEGER,
    uploaded_name   TEXT NOT NULL DEFAULT '',
    uploaded_org_id INTEGER,
    uploaded_at     TIMESTAMP NOT NULL
);
CREATE INDEX evidence_incident ON evidence(incident_id, id);
CREATE INDEX evidence_sha256 ON evidence(sha256);

-- Custody log: append-only (no UPDATE, no DELETE in the code).
CREATE TABLE evidence_custody (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    evidence_id     INTEGER NOT NULL REFERENCES evidence(id) ON DELETE CASCADE,
    action          TEXT NOT NULL,
    at              TIMESTAMP NOT NULL,
    user_id         INTEGER,
    actor           TEXT NOT NULL DEFAULT '',
    org_id          INTEGER,
    address         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX evidence_custody_evidence ON evidence_custody(evidence_id, id);

CREATE TABLE incident_tasks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    owner_id        INTEGER,
    owner_name      TEXT NOT NULL DEFAULT '',
    due_at          TIMESTAMP,
    status          TEXT NOT NULL DEFAULT 'open',
    done_by         INTEGER,
    done_name       TEXT NOT NULL DEFAULT '',
    done_at         TIMESTAMP,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX incident_tasks_incident ON incident_tasks(incident_id, id);
CREATE INDEX incident_tasks_owner ON incident_tasks(owner_id, status, due_at);

CREATE TABLE public_report_sequences (
    year    INTEGER PRIMARY KEY,
    last    BIGINT NOT NULL
);

CREATE TABLE public_reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ref             TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    phone           TEXT NOT NULL DEFAULT '',
    organisation    TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL,
    happened_at     TIMESTAMP,
    addresses       TEXT NOT NULL DEFAULT '[]',
    type_guess      TEXT NOT NULL DEFAULT '',
    client_address  TEXT NOT NULL DEFAULT '',
    -- The response unit whose constituency holds the addresses (0: none
    -- found, the national coordinator triages).
    route_org_id    INTEGER,
    status          TEXT NOT NULL DEFAULT 'new',
    reason          TEXT NOT NULL DEFAULT '',
    duplicate_of    TEXT NOT NULL DEFAULT '',
    incident_id     INTEGER REFERENCES incidents(id),
    triaged_by      INTEGER,
    triaged_name    TEXT NOT NULL DEFAULT '',
    triaged_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX public_reports_status ON public_reports(status, created_at);
CREATE INDEX public_reports_route ON public_reports(route_org_id, status);

-- Rate-limit counters of the public report page, one row per key and
-- window (an hour): "addr:203.0.113.7" and "all".
CREATE TABLE public_report_limits (
    key             TEXT NOT NULL,
    window_start    TIMESTAMP NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- +goose Down
DROP TABLE public_report_limits;
DROP TABLE public_reports;
DROP TABLE public_report_sequences;
DROP TABLE incident_tasks;
DROP TABLE evidence_custody;
DROP TABLE evidence;
