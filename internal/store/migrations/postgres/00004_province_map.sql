-- +goose Up
-- Where a province sits on the dashboards' tile-grid map (column, row from
-- the top-left; 0/0 with map_set false when not placed). Data, not code:
-- provinces merge and split.
ALTER TABLE provinces ADD COLUMN map_col INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provinces ADD COLUMN map_row INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provinces ADD COLUMN map_set BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE provinces DROP COLUMN map_set;
ALTER TABLE provinces DROP COLUMN map_row;
ALTER TABLE provinces DROP COLUMN map_col;
