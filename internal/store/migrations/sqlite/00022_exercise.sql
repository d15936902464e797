-- +goose Up
-- Exercise mode (internal/exercise): a planned drill run on certnet itself.
-- Injects (an incident report or a coordination order to a participant)
-- are delivered by a job at start + offset; what they create carries the
-- exercise's id so that real lists, counts and notifications leave it out.
-- status: draft, running, stopped.
CREATE TABLE exercises (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    drill_id        INTEGER NOT NULL REFERENCES readiness_drills(id),
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    title           TEXT NOT NULL,
    status          TEXT NOT NULL,
    started_at      TIMESTAMP,
    stopped_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX exercises_drill ON exercises(drill_id);

-- kind: incident, order. delivered_at is set in the transaction that
-- creates the incident (or order): each inject is delivered once.
CREATE TABLE exercise_injects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise_id     INTEGER NOT NULL REFERENCES exercises(id),
    offset_minutes  INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    target_org_id   INTEGER NOT NULL REFERENCES organisations(id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    due_at          TIMESTAMP,
    delivered_at    TIMESTAMP,
    incident_id     INTEGER REFERENCES incidents(id),
    order_id        INTEGER,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX exercise_injects_exercise ON exercise_injects(exercise_id);
CREATE INDEX exercise_injects_due ON exercise_injects(due_at) WHERE delivered_at IS NULL;

-- Lessons (kind lesson) and open actions with an owner and a due date
-- (kind action) of the after-action report.
CREATE TABLE exercise_notes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise_id     INTEGER NOT NULL REFERENCES exercises(id),
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    owner           TEXT NOT NULL DEFAULT '',
    due_on          TIMESTAMP,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX exercise_notes_exercise ON exercise_notes(exercise_id);

ALTER TABLE incidents ADD COLUMN exercise_id INTEGER;
CREATE INDEX incidents_exercise ON incidents(exercise_id);

-- +goose Down
DROP INDEX incidents_exercise;
ALTER TABLE incidents DROP COLUMN exercise_id;
DROP TABLE exercise_notes;
DROP TABLE exercise_injects;
DROP TABLE exercises;
