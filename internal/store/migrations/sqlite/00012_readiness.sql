-- +goose Up
-- Readiness (internal/readiness): response teams (đội ứng cứu sự cố) of an
-- organisation, the people on them, their certificates and courses, the
-- on-duty rota and SIM3 self-assessments.

-- A written agreement that lets people of partner_org serve on teams of
-- org_id (a member from another organisation only with such a record).
CREATE TABLE readiness_agreements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    partner_org_id  INTEGER NOT NULL REFERENCES organisations(id),
    doc_ref         TEXT NOT NULL,
    signed_on       TIMESTAMP NOT NULL,
    valid_until     TIMESTAMP,
    note            TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_agreements_org ON readiness_agreements(org_id, partner_org_id);

CREATE TABLE readiness_teams (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (org_id, name)
);

-- People of an organisation (not necessarily users of certnet).
CREATE TABLE readiness_people (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    full_name       TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    skills          TEXT NOT NULL DEFAULT '',
    ioc_role        TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_people_org ON readiness_people(org_id);

CREATE TABLE readiness_members (
    team_id         INTEGER NOT NULL REFERENCES readiness_teams(id),
    person_id       INTEGER NOT NULL REFERENCES readiness_people(id),
    role            TEXT NOT NULL,
    agreement_id    INTEGER REFERENCES readiness_agreements(id),
    joined_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX readiness_members_person ON readiness_members(person_id);

CREATE TABLE readiness_certificates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id       INTEGER NOT NULL REFERENCES readiness_people(id),
    name            TEXT NOT NULL,
    issuer          TEXT NOT NULL DEFAULT '',
    obtained_on     TIMESTAMP NOT NULL,
    expires_on      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_certificates_person ON readiness_certificates(person_id);
CREATE INDEX readiness_certificates_expiry ON readiness_certificates(expires_on);

CREATE TABLE readiness_trainings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id       INTEGER NOT NULL REFERENCES readiness_people(id),
    course          TEXT NOT NULL,
    provider        TEXT NOT NULL DEFAULT '',
    level           TEXT NOT NULL,
    finished_on     TIMESTAMP NOT NULL,
    hours           INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_trainings_person ON readiness_trainings(person_id);

-- On-duty rota: one row per shift of one person for one team.
CREATE TABLE readiness_shifts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id         INTEGER NOT NULL REFERENCES readiness_teams(id),
    person_id       INTEGER NOT NULL REFERENCES readiness_people(id),
    starts_at       TIMESTAMP NOT NULL,
    ends_at         TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_shifts_team ON readiness_shifts(team_id, starts_at);

-- SIM3 self-assessments: one row per assessment, one score per parameter.
CREATE TABLE readiness_sim3 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id         INTEGER NOT NULL REFERENCES readiness_teams(id),
    assessed_on     TIMESTAMP NOT NULL,
    assessor        TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    total           INTEGER NOT NULL DEFAULT 0,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_sim3_team ON readiness_sim3(team_id, assessed_on);

CREATE TABLE readiness_sim3_scores (
    assessment_id   INTEGER NOT NULL REFERENCES readiness_sim3(id),
    param           TEXT NOT NULL,
    level           INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
    evidence        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (assessment_id, param)
);

-- Drills (diễn tập): organised by an organisation, with participants; the
-- yearly obligations are counted from them.
CREATE TABLE readiness_drills (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    starts_on       TIMESTAMP NOT NULL,
    ends_on         TIMESTAMP NOT NULL,
    scenario        TEXT NOT NULL DEFAULT '',
    objectives      TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_drills_start ON readiness_drills(starts_on);

CREATE TABLE readiness_drill_participants (
    drill_id        INTEGER NOT NULL REFERENCES readiness_drills(id),
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (drill_id, org_id)
);
CREATE INDEX readiness_drill_participants_org ON readiness_drill_participants(org_id);

-- Incident scenarios: the national catalogue (org_id NULL) that
-- organisations copy (source_id) and adapt; ranked by likelihood x impact.
CREATE TABLE readiness_scenarios (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER REFERENCES organisations(id),
    source_id       INTEGER REFERENCES readiness_scenarios(id),
    title           TEXT NOT NULL,
    category        TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    likelihood      INTEGER NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact          INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 5),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_scenarios_org ON readiness_scenarios(org_id);

-- +goose Down
DROP TABLE readiness_scenarios;
DROP TABLE readiness_drill_participants;
DROP TABLE readiness_drills;
DROP TABLE readiness_sim3_scores;
DROP TABLE readiness_sim3;
DROP TABLE readiness_shifts;
DROP TABLE readiness_trainings;
DROP TABLE readiness_certificates;
DROP TABLE readiness_members;
DROP TABLE readiness_people;
DROP TABLE readiness_teams;
DROP TABLE readiness_agreements;
