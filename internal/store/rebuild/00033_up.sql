-- Migration 33 on SQLite, run by migrate33 on one connection with foreign
-- keys off (SQLite's procedure for changing a table's definition: make
-- the new table, copy, drop the old, rename; see rebuild.go).
--
-- Fewer B-trees to write per indicator (an import of a million indicators
-- spent most of its time inserting into ten of them):
-- * the unique key of an indicator becomes (kind, value, owner_org_id):
--   the same rows, and it answers "this value at any owner" as the
--   separate (kind, value) index did, which goes;
-- * a STIX id is looked up by a 64-bit hash of it (stix_hash, filled in
--   by the migration's Go part) rather than by its 47 characters: random
--   ids made the text index the dearest of all to insert into;
-- * valid_until is indexed only where it is set (every query on it
--   compares it, which implies it is not NULL);
-- * the (label, owner, date added) index that TAXII walks for an
--   organisation's AMBER and AMBER+STRICT rows holds only those (the
--   branches that read it name both labels, as SQLite needs to use it);
-- * an indicator's sources are keyed by (indicator, source) in one B-tree
--   (WITHOUT ROWID) instead of a rowid table and a unique index.
CREATE TABLE intel_indicators_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    kind            TEXT NOT NULL,          -- ipv4, ipv6, cidr, domain, url, md5, sha1, sha256, email, stix
    value           TEXT NOT NULL,          -- normalised value (the pattern for kind stix)
    pattern         TEXT NOT NULL,          -- STIX pattern
    name            TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    search          TEXT NOT NULL DEFAULT '', -- i18n.Fold of value, name and description
    confidence      INTEGER NOT NULL DEFAULT 50,
    valid_from      TIMESTAMP NOT NULL,
    valid_until     TIMESTAMP,
    tlp             TEXT NOT NULL,
    tags            TEXT NOT NULL DEFAULT '',   -- RSIT machine tags, one per line
    kill_chain      TEXT NOT NULL DEFAULT '',   -- kill_chain_name:phase_name, one per line
    stix_id         TEXT NOT NULL,
    stix_hash       INTEGER NOT NULL DEFAULT 0, -- store.StixHash(stix_id): the lookup key of the STIX id
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (kind, value, owner_org_id)
);
INSERT INTO intel_indicators_new (id, owner_org_id, kind, value, pattern, name, description, search, confidence, valid_from,
    valid_until, tlp, tags, kill_chain, stix_id, revoked, created_by, created_at, updated_at)
SELECT id, owner_org_id, kind, value, pattern, name, description, search, confidence, valid_from,
    valid_until, tlp, tags, kill_chain, stix_id, revoked, created_by, created_at, updated_at
FROM intel_indicators ORDER BY id;
-- The AUTOINCREMENT counter carries over (ids of deleted rows stay unused).
DELETE FROM sqlite_sequence WHERE name = 'intel_indicators_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'intel_indicators_new', MAX(seq) FROM sqlite_sequence WHERE name = 'intel_indicators' HAVING COUNT(*) > 0;
DROP TABLE intel_indicators;
ALTER TABLE intel_indicators_new RENAME TO intel_indicators;
CREATE INDEX intel_indicators_until ON intel_indicators(valid_until) WHERE valid_until IS NOT NULL;
CREATE INDEX intel_indicators_updated ON intel_indicators(updated_at, id);
CREATE INDEX intel_indicators_stix ON intel_indicators(stix_hash);
CREATE INDEX intel_indicators_taxii ON intel_indicators(tlp, updated_at, id);
CREATE INDEX intel_indicators_taxii_owner ON intel_indicators(tlp, owner_org_id, updated_at, id)
    WHERE tlp IN ('AMBER', 'AMBER+STRICT');

CREATE TABLE intel_indicator_sources_new (
    indicator_id    INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    source          TEXT NOT NULL,          -- "manual", "stix:<bundle id>", "misp:<event uuid>"
    ref             TEXT NOT NULL DEFAULT '', -- the object id in that source
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    PRIMARY KEY (indicator_id, source)
) WITHOUT ROWID;
INSERT INTO intel_indicator_sources_new (indicator_id, source, ref, first_seen, last_seen)
SELECT indicator_id, source, ref, first_seen, last_seen FROM intel_indicator_sources;
DROP TABLE intel_indicator_sources;
ALTER TABLE intel_indicator_sources_new RENAME TO intel_indicator_sources;
