-- +goose Up
-- Response plans (phương án ứng cứu sự cố, QĐ 05/2017 Phụ lục II) of an
-- organisation, optionally for one of its important information systems.
-- A plan keeps every version: an approved version is never changed, a
-- change to it starts a new draft version; the approved one stays in force
-- (and its review date counts) until a newer one is approved. The content
-- of a version (scope, systems, scenarios with their response options,
-- priority conditions, contacts, escalation) is one JSON document, a
-- snapshot that keeps the names it referred to as they were.
CREATE TABLE readiness_plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    system_id       INTEGER REFERENCES infosys_systems(id),
    title           TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX readiness_plans_org ON readiness_plans(org_id);

-- status: draft, submitted, returned, approved, superseded.
CREATE TABLE readiness_plan_versions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id         INTEGER NOT NULL REFERENCES readiness_plans(id),
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    content         TEXT NOT NULL DEFAULT '{}',
    return_reason   TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',
    submitted_at    TIMESTAMP,
    submitted_by    TEXT NOT NULL DEFAULT '',
    decided_at      TIMESTAMP,
    decided_by      TEXT NOT NULL DEFAULT '',
    approver_title  TEXT NOT NULL DEFAULT '',
    approver_org_id INTEGER REFERENCES organisations(id),
    review_due      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (plan_id, version)
);
CREATE INDEX readiness_plan_versions_review ON readiness_plan_versions(status, review_due);

-- +goose Down
DROP TABLE readiness_plan_versions;
DROP TABLE readiness_plans;
