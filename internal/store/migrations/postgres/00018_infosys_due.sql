-- +goose Up
-- Each system's earliest due obligation (assessment, scan, hunt, drill),
-- kept on the row so that compliance KPIs over 100 000 systems are one
-- GROUP BY instead of a schedule computed per system. The due date depends
-- only on the level, the IOC kind, the dates of approval and registration
-- and the last activities, never on the clock: triggers bump due_gen when
-- any of them changes, and certnet recomputes the rows whose due_at_gen
-- lags behind (infosys.refreshDue) before it counts.
ALTER TABLE infosys_systems ADD COLUMN next_due_at TIMESTAMPTZ;
ALTER TABLE infosys_systems ADD COLUMN due_gen BIGINT NOT NULL DEFAULT 1;
ALTER TABLE infosys_systems ADD COLUMN due_at_gen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX infosys_systems_due_stale ON infosys_systems(id) WHERE due_at_gen <> due_gen;
-- The KPIs read only these columns, grouped by the first three: the index
-- alone answers them, in order, without touching the rows.
CREATE INDEX infosys_systems_kpi ON infosys_systems(owner_org_id, operator_org_id, sector, level, plan_deployed, next_due_at);

-- +goose StatementBegin
CREATE FUNCTION infosys_systems_due() RETURNS trigger AS $$
BEGIN
    IF NEW.level IS DISTINCT FROM OLD.level OR NEW.ioc IS DISTINCT FROM OLD.ioc
        OR NEW.level_approved_on IS DISTINCT FROM OLD.level_approved_on OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        NEW.due_gen := OLD.due_gen + 1;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER infosys_systems_due BEFORE UPDATE ON infosys_systems FOR EACH ROW EXECUTE FUNCTION infosys_systems_due();

-- +goose StatementBegin
CREATE FUNCTION infosys_activities_due() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE infosys_systems SET due_gen = due_gen + 1 WHERE id = OLD.system_id;
        RETURN OLD;
    END IF;
    UPDATE infosys_systems SET due_gen = due_gen + 1 WHERE id = NEW.system_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER infosys_activities_due AFTER INSERT OR DELETE ON infosys_activities FOR EACH ROW EXECUTE FUNCTION infosys_activities_due();

-- +goose Down
DROP TRIGGER infosys_activities_due ON infosys_activities;
DROP FUNCTION infosys_activities_due();
DROP TRIGGER infosys_systems_due ON infosys_systems;
DROP FUNCTION infosys_systems_due();
DROP INDEX infosys_systems_kpi;
DROP INDEX infosys_systems_due_stale;
ALTER TABLE infosys_systems DROP COLUMN due_at_gen;
ALTER TABLE infosys_systems DROP COLUMN due_gen;
ALTER TABLE infosys_systems DROP COLUMN next_due_at;
