-- +goose Up
-- The 4-layer model (CT 14/2019, CV 1552/2020) per organisation and per
-- system, the KPI columns kept on each system row, and the daily KPI
-- snapshots behind the trend charts (internal/infosys fourlayer.go,
-- kpi.go, trend.go).
--
-- One row of infosys_layers per organisation (system_id 0: its own, which
-- its systems inherit layer by layer) or per system (its owner's org_id):
-- 1 local force, the named security staff (JSON list of names, each
--   possibly a person of readiness_people);
-- 2 professional monitoring, in-house SOC or a provider with its contract;
-- 3 independent assessment, the assessor and the date of the last report;
-- 4 connection to the national monitoring centre, since when and the
--   ranges shared.
CREATE TABLE infosys_layers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id               INTEGER NOT NULL REFERENCES organisations(id),
    system_id            INTEGER NOT NULL DEFAULT 0,
    staff                TEXT NOT NULL DEFAULT '[]',
    monitoring           TEXT NOT NULL DEFAULT '',
    monitoring_provider  TEXT NOT NULL DEFAULT '',
    contract_start       TIMESTAMP,
    contract_end         TIMESTAMP,
    assessor             TEXT NOT NULL DEFAULT '',
    last_report_on       TIMESTAMP,
    connected_since      TIMESTAMP,
    ranges_shared        TEXT NOT NULL DEFAULT '',
    updated_by           INTEGER,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    UNIQUE (org_id, system_id)
);
CREATE INDEX infosys_layers_system ON infosys_layers(system_id);

-- When the four layers are all evidenced, as an interval [layers_from,
-- layers_until) (until NULL: open-ended; from NULL: never): it depends on
-- the system's and its owner's layer rows, never on the clock, so triggers
-- bump layers_gen when they change and certnet recomputes the rows whose
-- layers_at_gen lags behind before it counts (infosys.refreshLayers).
-- open_critical and open_high count the open (or in progress) findings of
-- those severities, kept by the triggers on infosys_findings.
ALTER TABLE infosys_systems ADD COLUMN layers_from TIMESTAMP;
ALTER TABLE infosys_systems ADD COLUMN layers_until TIMESTAMP;
ALTER TABLE infosys_systems ADD COLUMN layers_gen BIGINT NOT NULL DEFAULT 1;
ALTER TABLE infosys_systems ADD COLUMN layers_at_gen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE infosys_systems ADD COLUMN open_critical INTEGER NOT NULL DEFAULT 0;
ALTER TABLE infosys_systems ADD COLUMN open_high INTEGER NOT NULL DEFAULT 0;
CREATE INDEX infosys_systems_layers_stale ON infosys_systems(id) WHERE layers_at_gen <> layers_gen;
UPDATE infosys_systems SET
    open_critical = (SELECT COUNT(*) FROM infosys_findings f WHERE f.system_id = infosys_systems.id AND f.status IN ('open', 'in_progress') AND f.severity = 'critical'),
    open_high = (SELECT COUNT(*) FROM infosys_findings f WHERE f.system_id = infosys_systems.id AND f.status IN ('open', 'in_progress') AND f.severity = 'high');

-- The KPIs read only these columns, grouped by the first three: the index
-- alone answers them (it replaces the one of 00018 with the new columns).
DROP INDEX infosys_systems_kpi;
CREATE INDEX infosys_systems_kpi ON infosys_systems(owner_org_id, operator_org_id, sector, level, plan_deployed, next_due_at,
    layers_from, layers_until, open_critical, open_high);

-- +goose StatementBegin
CREATE TRIGGER infosys_systems_layers AFTER UPDATE OF owner_org_id ON infosys_systems BEGIN
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE id = new.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_layers_insert AFTER INSERT ON infosys_layers BEGIN
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE new.system_id <> 0 AND id = new.system_id;
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE new.system_id = 0 AND owner_org_id = new.org_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_layers_update AFTER UPDATE ON infosys_layers BEGIN
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE new.system_id <> 0 AND id = new.system_id;
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE new.system_id = 0 AND owner_org_id = new.org_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_layers_delete AFTER DELETE ON infosys_layers BEGIN
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE old.system_id <> 0 AND id = old.system_id;
    UPDATE infosys_systems SET layers_gen = layers_gen + 1 WHERE old.system_id = 0 AND owner_org_id = old.org_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_findings_open_insert AFTER INSERT ON infosys_findings
WHEN new.status IN ('open', 'in_progress') AND new.severity IN ('critical', 'high') BEGIN
    UPDATE infosys_systems SET open_critical = open_critical + (CASE WHEN new.severity = 'critical' THEN 1 ELSE 0 END),
        open_high = open_high + (CASE WHEN new.severity = 'high' THEN 1 ELSE 0 END) WHERE id = new.system_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_findings_open_update AFTER UPDATE OF status, severity, system_id ON infosys_findings BEGIN
    UPDATE infosys_systems SET
        open_critical = open_critical - (CASE WHEN old.status IN ('open', 'in_progress') AND old.severity = 'critical' THEN 1 ELSE 0 END),
        open_high = open_high - (CASE WHEN old.status IN ('open', 'in_progress') AND old.severity = 'high' THEN 1 ELSE 0 END)
        WHERE id = old.system_id AND old.status IN ('open', 'in_progress') AND old.severity IN ('critical', 'high');
    UPDATE infosys_systems SET
        open_critical = open_critical + (CASE WHEN new.status IN ('open', 'in_progress') AND new.severity = 'critical' THEN 1 ELSE 0 END),
        open_high = open_high + (CASE WHEN new.status IN ('open', 'in_progress') AND new.severity = 'high' THEN 1 ELSE 0 END)
        WHERE id = new.system_id AND new.status IN ('open', 'in_progress') AND new.severity IN ('critical', 'high');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_findings_open_delete AFTER DELETE ON infosys_findings
WHEN old.status IN ('open', 'in_progress') AND old.severity IN ('critical', 'high') BEGIN
    UPDATE infosys_systems SET open_critical = open_critical - (CASE WHEN old.severity = 'critical' THEN 1 ELSE 0 END),
        open_high = open_high - (CASE WHEN old.severity = 'high' THEN 1 ELSE 0 END) WHERE id = old.system_id;
END;
-- +goose StatementEnd

-- KPI snapshots, one row a day per owner organisation (its systems'
-- counts) and one national row (org_id 0), written by the daily job and
-- read by the trend charts.
CREATE TABLE infosys_kpi_snapshots (
    day            TEXT NOT NULL,
    org_id         INTEGER NOT NULL,
    systems        INTEGER NOT NULL,
    classified     INTEGER NOT NULL,
    high           INTEGER NOT NULL,
    high_plan      INTEGER NOT NULL,
    on_time        INTEGER NOT NULL,
    layers         INTEGER NOT NULL,
    open_critical  INTEGER NOT NULL,
    open_high      INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, day)
);

-- +goose Down
DROP TABLE infosys_kpi_snapshots;
DROP TRIGGER infosys_findings_open_delete;
DROP TRIGGER infosys_findings_open_update;
DROP TRIGGER infosys_findings_open_insert;
DROP TRIGGER infosys_layers_delete;
DROP TRIGGER infosys_layers_update;
DROP TRIGGER infosys_layers_insert;
DROP TRIGGER infosys_systems_layers;
DROP INDEX infosys_systems_kpi;
CREATE INDEX infosys_systems_kpi ON infosys_systems(owner_org_id, operator_org_id, sector, level, plan_deployed, next_due_at);
DROP INDEX infosys_systems_layers_stale;
ALTER TABLE infosys_systems DROP COLUMN open_high;
ALTER TABLE infosys_systems DROP COLUMN open_critical;
ALTER TABLE infosys_systems DROP COLUMN layers_at_gen;
ALTER TABLE infosys_systems DROP COLUMN layers_gen;
ALTER TABLE infosys_systems DROP COLUMN layers_until;
ALTER TABLE infosys_systems DROP COLUMN layers_from;
DROP TABLE infosys_layers;
