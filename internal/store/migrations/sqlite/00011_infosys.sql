-- +goose Up
-- Information systems and their security levels (internal/infosys, NĐ 85/2016,
-- TT 12/2022): the inventory, level dossiers with their workflow history, and
-- the dated activities (assessments, scans, threat hunts, drills) from which
-- the schedules are computed.

CREATE TABLE infosys_systems (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id          INTEGER NOT NULL REFERENCES organisations(id),
    operator_org_id       INTEGER REFERENCES organisations(id),
    name                  TEXT NOT NULL,
    purpose               TEXT NOT NULL DEFAULT '',
    sector                TEXT NOT NULL DEFAULT '',
    ioc                   TEXT NOT NULL DEFAULT '',
    national_critical     BOOLEAN NOT NULL DEFAULT 0,
    data_kind             TEXT NOT NULL DEFAULT 'public',
    personal_count        INTEGER NOT NULL DEFAULT 0,
    public_service_level  INTEGER NOT NULL DEFAULT 0,
    users                 INTEGER NOT NULL DEFAULT 0,
    addresses             TEXT NOT NULL DEFAULT '',
    domains               TEXT NOT NULL DEFAULT '',
    providers             TEXT NOT NULL DEFAULT '',
    components            TEXT NOT NULL DEFAULT '',
    level                 INTEGER NOT NULL DEFAULT 0,
    level_approved_on     TIMESTAMP,
    plan_deployed         BOOLEAN NOT NULL DEFAULT 0,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    UNIQUE (owner_org_id, name)
);
CREATE INDEX infosys_systems_operator ON infosys_systems(operator_org_id);
CREATE INDEX infosys_systems_level ON infosys_systems(level);

CREATE TABLE infosys_dossiers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    system_id          INTEGER NOT NULL REFERENCES infosys_systems(id),
    status             TEXT NOT NULL,
    proposed_level     INTEGER NOT NULL,
    computed_level     INTEGER NOT NULL,
    answers            TEXT NOT NULL DEFAULT '{}',
    reasons            TEXT NOT NULL DEFAULT '',
    justification      TEXT NOT NULL DEFAULT '',
    overview           TEXT NOT NULL DEFAULT '',
    design             TEXT NOT NULL DEFAULT '',
    security_plan      TEXT NOT NULL DEFAULT '',
    expert_opinion     TEXT NOT NULL DEFAULT '',
    comments           TEXT NOT NULL DEFAULT '',
    decision_ref       TEXT NOT NULL DEFAULT '',
    submitted_at       TIMESTAMP,
    appraisal_due      TIMESTAMP,
    appraised_at       TIMESTAMP,
    approval_due       TIMESTAMP,
    decided_at         TIMESTAMP,
    created_by         INTEGER,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX infosys_dossiers_system ON infosys_dossiers(system_id, id);
CREATE INDEX infosys_dossiers_status ON infosys_dossiers(status);

CREATE TABLE infosys_dossier_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id   INTEGER NOT NULL REFERENCES infosys_dossiers(id),
    at           TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX infosys_dossier_events_dossier ON infosys_dossier_events(dossier_id, id);

CREATE TABLE infosys_activities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    system_id   INTEGER NOT NULL REFERENCES infosys_systems(id),
    kind        TEXT NOT NULL,
    done_on     TIMESTAMP NOT NULL,
    performer   TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX infosys_activities_system ON infosys_activities(system_id, kind, done_on);

-- Public holidays (and days the government shifts) that working days skip;
-- data an administrator of the national coordinator keeps, day as YYYY-MM-DD.
CREATE TABLE work_holidays (
    day         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE work_holidays;
DROP TABLE infosys_activities;
DROP TABLE infosys_dossier_events;
DROP TABLE infosys_dossiers;
DROP TABLE infosys_systems;
