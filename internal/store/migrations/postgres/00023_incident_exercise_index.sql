-- +goose Up
-- incidents.exercise_id is NULL for every real incident: an index over it
-- held a million NULLs that queries must be kept from walking. Only the
-- exercise incidents are indexed now, which is what "this exercise's
-- incidents" (exercise_id = ?) reads.
DROP INDEX incidents_exercise;
CREATE INDEX incidents_exercise ON incidents(exercise_id) WHERE exercise_id IS NOT NULL;

-- +goose Down
DROP INDEX incidents_exercise;
CREATE INDEX incidents_exercise ON incidents(exercise_id);
