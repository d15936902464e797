-- +goose Up
-- Finding incidents at scale: full-text search over the folded search_text
-- (reference, title, description, system name, addresses, domains and the
-- organisations' names; no diacritics, lower case, punctuation as spaces)
-- kept in step by triggers; indexes for the list filters; saved filters.

CREATE VIRTUAL TABLE incidents_fts USING fts5(search_text, content='incidents', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
INSERT INTO incidents_fts(incidents_fts) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_fts(incidents_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF search_text ON incidents BEGIN
    INSERT INTO incidents_fts(incidents_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO incidents_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

CREATE INDEX incidents_detected ON incidents(detected_at, id);
CREATE INDEX incidents_type ON incidents(type, reported_at);
CREATE INDEX incidents_severity ON incidents(severity, reported_at);

-- A user's named incident-list filter (the query string), optionally shared
-- with the user's organisation.
CREATE TABLE incident_saved_filters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    name        TEXT NOT NULL,
    query       TEXT NOT NULL DEFAULT '',
    shared      BOOLEAN NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (user_id, name)
);
CREATE INDEX incident_saved_filters_org ON incident_saved_filters(org_id, shared);

-- +goose Down
DROP TABLE incident_saved_filters;
DROP INDEX incidents_severity;
DROP INDEX incidents_type;
DROP INDEX incidents_detected;
DROP TRIGGER incidents_fts_update;
DROP TRIGGER incidents_fts_delete;
DROP TRIGGER incidents_fts_insert;
DROP TABLE incidents_fts;
