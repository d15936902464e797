-- +goose Up
-- Each system's earliest due obligation (assessment, scan, hunt, drill),
-- kept on the row so that compliance KPIs over 100 000 systems are one
-- GROUP BY instead of a schedule computed per system. The due date depends
-- only on the level, the IOC kind, the dates of approval and registration
-- and the last activities, never on the clock: triggers bump due_gen when
-- any of them changes, and certnet recomputes the rows whose due_at_gen
-- lags behind (infosys.refreshDue) before it counts.
ALTER TABLE infosys_systems ADD COLUMN next_due_at TIMESTAMP;
ALTER TABLE infosys_systems ADD COLUMN due_gen BIGINT NOT NULL DEFAULT 1;
ALTER TABLE infosys_systems ADD COLUMN due_at_gen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX infosys_systems_due_stale ON infosys_systems(id) WHERE due_at_gen <> due_gen;
-- The KPIs read only these columns, grouped by the first three: the index
-- alone answers them, in order, without touching the rows.
CREATE INDEX infosys_systems_kpi ON infosys_systems(owner_org_id, operator_org_id, sector, level, plan_deployed, next_due_at);

-- +goose StatementBegin
CREATE TRIGGER infosys_systems_due AFTER UPDATE OF level, ioc, level_approved_on, created_at ON infosys_systems BEGIN
    UPDATE infosys_systems SET due_gen = due_gen + 1 WHERE id = new.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_activities_due_insert AFTER INSERT ON infosys_activities BEGIN
    UPDATE infosys_systems SET due_gen = due_gen + 1 WHERE id = new.system_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER infosys_activities_due_delete AFTER DELETE ON infosys_activities BEGIN
    UPDATE infosys_systems SET due_gen = due_gen + 1 WHERE id = old.system_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER infosys_activities_due_delete;
DROP TRIGGER infosys_activities_due_insert;
DROP TRIGGER infosys_systems_due;
DROP INDEX infosys_systems_kpi;
DROP INDEX infosys_systems_due_stale;
ALTER TABLE infosys_systems DROP COLUMN due_at_gen;
ALTER TABLE infosys_systems DROP COLUMN due_gen;
ALTER TABLE infosys_systems DROP COLUMN next_due_at;
