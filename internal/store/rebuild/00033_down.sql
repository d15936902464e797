-- Migration 33 undone on SQLite (see 00033_up.sql).
CREATE TABLE intel_indicator_sources_old (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id    INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    source          TEXT NOT NULL,
    ref             TEXT NOT NULL DEFAULT '',
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    UNIQUE (indicator_id, source)
);
INSERT INTO intel_indicator_sources_old (indicator_id, source, ref, first_seen, last_seen)
SELECT indicator_id, source, ref, first_seen, last_seen FROM intel_indicator_sources ORDER BY indicator_id, first_seen;
DROP TABLE intel_indicator_sources;
ALTER TABLE intel_indicator_sources_old RENAME TO intel_indicator_sources;

CREATE TABLE intel_indicators_old (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    pattern         TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    search          TEXT NOT NULL DEFAULT '',
    confidence      INTEGER NOT NULL DEFAULT 50,
    valid_from      TIMESTAMP NOT NULL,
    valid_until     TIMESTAMP,
    tlp             TEXT NOT NULL,
    tags            TEXT NOT NULL DEFAULT '',
    kill_chain      TEXT NOT NULL DEFAULT '',
    stix_id         TEXT NOT NULL,
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (owner_org_id, kind, value)
);
INSERT INTO intel_indicators_old (id, owner_org_id, kind, value, pattern, name, description, search, confidence, valid_from,
    valid_until, tlp, tags, kill_chain, stix_id, revoked, created_by, created_at, updated_at)
SELECT id, owner_org_id, kind, value, pattern, name, description, search, confidence, valid_from,
    valid_until, tlp, tags, kill_chain, stix_id, revoked, created_by, created_at, updated_at
FROM intel_indicators ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'intel_indicators_old';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'intel_indicators_old', MAX(seq) FROM sqlite_sequence WHERE name = 'intel_indicators' HAVING COUNT(*) > 0;
DROP TABLE intel_indicators;
ALTER TABLE intel_indicators_old RENAME TO intel_indicators;
CREATE INDEX intel_indicators_value ON intel_indicators(kind, value);
CREATE INDEX intel_indicators_until ON intel_indicators(valid_until);
CREATE INDEX intel_indicators_updated ON intel_indicators(updated_at, id);
CREATE INDEX intel_indicators_stix ON intel_indicators(stix_id);
CREATE INDEX intel_indicators_taxii ON intel_indicators(tlp, updated_at, id);
CREATE INDEX intel_indicators_taxii_owner ON intel_indicators(tlp, owner_org_id, updated_at, id);
