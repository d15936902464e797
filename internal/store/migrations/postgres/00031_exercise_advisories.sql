-- +goose Up
-- Exercise mode injects coordination orders and advisories too
-- (internal/exercise). An exercise advisory carries its exercise's id:
-- left out of the real advisory lists, rates, the public page and feed,
-- and its messages stay inside certnet. An inject records the advisory
-- it delivered (order_id is already there).
ALTER TABLE advisories ADD COLUMN exercise_id BIGINT REFERENCES exercises(id);
CREATE INDEX advisories_exercise ON advisories(exercise_id) WHERE exercise_id IS NOT NULL;
ALTER TABLE exercise_injects ADD COLUMN advisory_id BIGINT REFERENCES advisories(id);
-- A recipient's first answer (reported_at is its latest): the exercise's
-- time to report.
ALTER TABLE advisory_recipients ADD COLUMN first_reported_at TIMESTAMPTZ;
-- The public page and Atom feed: published TLP:CLEAR advisories, newest
-- first.
CREATE INDEX advisories_public ON advisories(published_at, id)
    WHERE tlp = 'CLEAR' AND published_at IS NOT NULL AND exercise_id IS NULL;

-- +goose Down
DROP INDEX advisories_public;
ALTER TABLE advisory_recipients DROP COLUMN first_reported_at;
ALTER TABLE exercise_injects DROP COLUMN advisory_id;
DROP INDEX advisories_exercise;
ALTER TABLE advisories DROP COLUMN exercise_id;
