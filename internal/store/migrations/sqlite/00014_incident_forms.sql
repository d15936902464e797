-- +goose Up
-- Form 05 (TT 20/2017, the six-monthly and annual summary) counts incidents
-- by how they were handled and sums their damage: the closure report (form
-- 04) now says both, and the latest one filed is copied onto the incident
-- in the same transaction, so that the summary is one GROUP BY.
--   handling:   '' (not stated), in_house, domestic_help, foreign_help
--   damage_vnd: estimated damage in VND; NULL when not estimated
ALTER TABLE incidents ADD COLUMN handling TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN damage_vnd BIGINT;

-- +goose Down
ALTER TABLE incidents DROP COLUMN damage_vnd;
ALTER TABLE incidents DROP COLUMN handling;
