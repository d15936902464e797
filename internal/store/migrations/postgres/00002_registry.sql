-- +goose Up
-- Network registry: a folded name to sort by (Vietnamese order ignoring
-- diacritics) and the time of the last contact-point change (to find stale
-- contact points). The registry's generation counter lives in settings
-- (key registry.generation), created by the first change.

ALTER TABLE organisations ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contacts_updated_at TIMESTAMPTZ;
UPDATE organisations SET sort_name = lower(name);
-- The directory list, ordered by name. (The SQLite index also covers the
-- filtered columns; here search_text would risk PostgreSQL's index-row size
-- limit, and sequential scans of the table are fast.)
CREATE INDEX organisations_list ON organisations(sort_name, id);
-- The directory in province order.
CREATE INDEX organisations_province_list ON organisations(province_code, sort_name, id);
CREATE INDEX organisations_updated ON organisations(updated_at);
CREATE INDEX contacts_org_kind ON contacts(org_id, kind);

-- +goose Down
DROP INDEX contacts_org_kind;
DROP INDEX organisations_updated;
DROP INDEX organisations_province_list;
DROP INDEX organisations_list;
ALTER TABLE organisations DROP COLUMN contacts_updated_at;
ALTER TABLE organisations DROP COLUMN sort_name;
