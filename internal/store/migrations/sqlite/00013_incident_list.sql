-- +goose Up
-- The incident list's most common pair of filters, status and type (open
-- incidents of one kind), newest first: with the status index alone a page
-- and its count looked at every incident of the status (about 100 000 of
-- 1 000 000 in certnet bench incidents).
CREATE INDEX incidents_status_type ON incidents(status, type, reported_at);

-- +goose Down
DROP INDEX incidents_status_type;
