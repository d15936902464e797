-- +goose Up
-- Early warning and the 24/7 view (issue 5, items 4 and 7). The pipeline
-- keeps small counters in the same transaction as the sightings: events and
-- matches per source × minute (the 24/7 rates), events per source and per
-- organisation × hour (rate baselines), and signatures (Suricata signature
-- ids, Wazuh rule ids) and CVEs per organisation × hour. The warning job
-- reads these, never raw events.

CREATE TABLE ingest_minutes (
    source_id   INTEGER NOT NULL REFERENCES ingest_sources(id) ON DELETE CASCADE,
    minute      TIMESTAMP NOT NULL,
    events      INTEGER NOT NULL DEFAULT 0,
    matches     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, minute)
);
CREATE INDEX ingest_minutes_minute ON ingest_minutes(minute);

-- subject: 'source' (an ingest source id) or 'org' (the organisation the
-- events were routed to).
CREATE TABLE ingest_rates (
    subject     TEXT NOT NULL,
    subject_id  INTEGER NOT NULL,
    hour        TIMESTAMP NOT NULL,
    events      INTEGER NOT NULL DEFAULT 0,
    matches     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, subject_id, hour)
);
CREATE INDEX ingest_rates_hour ON ingest_rates(hour);

-- kind: 'signature' (key suricata:<sid> or wazuh:<rule id>) or 'cve'.
CREATE TABLE ingest_signals (
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    org_id      INTEGER NOT NULL,
    hour        TIMESTAMP NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    first_seen  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, key, org_id, hour)
);
CREATE INDEX ingest_signals_hour ON ingest_signals(hour);

-- The early-warning job reads the sightings of a window.
CREATE INDEX intel_sightings_last_seen ON intel_sightings(last_seen);

-- A national warning. active_key (kind|subject|key) is set while the
-- condition lasts, so there is one warning per subject at a time, updated
-- rather than duplicated; it is cleared when the condition ends.
CREATE TABLE warnings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,          -- spread | rate
    subject         TEXT NOT NULL,          -- indicator | signature | cve | source | org
    subject_key     TEXT NOT NULL,
    label           TEXT NOT NULL,
    indicator_id    INTEGER REFERENCES intel_indicators(id) ON DELETE SET NULL,
    state           TEXT NOT NULL,          -- open | acknowledged | closed
    active_key      TEXT UNIQUE,
    orgs            INTEGER NOT NULL DEFAULT 0,
    provinces       INTEGER NOT NULL DEFAULT 0,
    total           INTEGER NOT NULL DEFAULT 0,
    rate            INTEGER NOT NULL DEFAULT 0,
    baseline        REAL NOT NULL DEFAULT 0,
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    raised_at       TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    ended_at        TIMESTAMP,
    acked_by        INTEGER,
    acked_name      TEXT NOT NULL DEFAULT '',
    acked_at        TIMESTAMP,
    closed_by       INTEGER,
    closed_name     TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMP,
    note            TEXT NOT NULL DEFAULT '',
    advisory_id     INTEGER REFERENCES advisories(id) ON DELETE SET NULL
);
CREATE INDEX warnings_state ON warnings(state, last_seen);
CREATE INDEX warnings_last_seen ON warnings(last_seen);

CREATE TABLE warning_orgs (
    warning_id  INTEGER NOT NULL REFERENCES warnings(id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    first_seen  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL,
    PRIMARY KEY (warning_id, org_id)
);
CREATE INDEX warning_orgs_org ON warning_orgs(org_id);

-- The incident draft a high-confidence indicator seen in a member's range
-- opened: one open link per member × indicator (never a duplicate).
CREATE TABLE warning_incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    indicator_id    INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    count           INTEGER NOT NULL DEFAULT 0,
    last_seen       TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    ended_at        TIMESTAMP
);
CREATE UNIQUE INDEX warning_incidents_open ON warning_incidents(org_id, indicator_id) WHERE ended_at IS NULL;

-- +goose Down
DROP TABLE warning_incidents;
DROP TABLE warning_orgs;
DROP TABLE warnings;
DROP INDEX intel_sightings_last_seen;
DROP TABLE ingest_signals;
DROP TABLE ingest_rates;
DROP TABLE ingest_minutes;
