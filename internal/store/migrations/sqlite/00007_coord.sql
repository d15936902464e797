-- +goose Up
-- Coordination orders (lệnh điều phối) issued on an incident to one or more
-- organisations, each target with its own state and escalation level;
-- support requests from members to their response unit or the national
-- coordinator; effort and costs of helping organisations (QĐ 1622).

CREATE TABLE coord_support_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    requester_org_id INTEGER NOT NULL REFERENCES organisations(id),
    requested_by    INTEGER,
    requested_name  TEXT NOT NULL DEFAULT '',
    receiver_org_id INTEGER NOT NULL REFERENCES organisations(id),
    needed          TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    status          TEXT NOT NULL,
    answer          TEXT NOT NULL DEFAULT '',
    decided_by      INTEGER,
    decided_name    TEXT NOT NULL DEFAULT '',
    decided_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX coord_support_incident ON coord_support_requests(incident_id, id);
CREATE INDEX coord_support_receiver ON coord_support_requests(receiver_org_id, status);
CREATE INDEX coord_support_requester ON coord_support_requests(requester_org_id, status);

CREATE TABLE coord_orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    issuer_org_id   INTEGER NOT NULL REFERENCES organisations(id),
    issued_by       INTEGER,
    issued_name     TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL,
    actions         TEXT NOT NULL,
    priority        TEXT NOT NULL,
    tlp             TEXT NOT NULL,
    deadline_at     TIMESTAMP NOT NULL,
    observables     TEXT NOT NULL DEFAULT '[]',
    support_id      INTEGER REFERENCES coord_support_requests(id),
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX coord_orders_incident ON coord_orders(incident_id, id);
CREATE INDEX coord_orders_issuer ON coord_orders(issuer_org_id, id);

-- One row per target organisation. escalation: 0 none, 1 reminder sent to
-- the target, 2 sent to the target's parent and the issuer; overdue_sent
-- once the deadline passed. Changed in the same transaction as the
-- notification, so a step fires once.
CREATE TABLE coord_order_targets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id        INTEGER NOT NULL REFERENCES coord_orders(id) ON DELETE CASCADE,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    status          TEXT NOT NULL,
    result          TEXT NOT NULL DEFAULT '',
    ack_due_at      TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    finished_at     TIMESTAMP,
    updated_by      INTEGER,
    updated_name    TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMP NOT NULL,
    escalation      INTEGER NOT NULL DEFAULT 0,
    overdue_sent    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (order_id, org_id)
);
CREATE INDEX coord_targets_org ON coord_order_targets(org_id, status);
CREATE INDEX coord_targets_open ON coord_order_targets(status, ack_due_at);

CREATE TABLE coord_efforts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    work_date       TEXT NOT NULL,
    people          INTEGER NOT NULL,
    hours_tenths    INTEGER NOT NULL,
    cost_vnd        BIGINT NOT NULL,
    description     TEXT NOT NULL,
    order_id        INTEGER REFERENCES coord_orders(id),
    recorded_by     INTEGER,
    recorded_name   TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX coord_efforts_incident ON coord_efforts(incident_id, org_id);
CREATE INDEX coord_efforts_org ON coord_efforts(org_id, work_date);

-- +goose Down
DROP TABLE coord_efforts;
DROP TABLE coord_order_targets;
DROP TABLE coord_orders;
DROP TABLE coord_support_requests;
