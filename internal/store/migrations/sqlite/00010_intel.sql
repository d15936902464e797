-- +goose Up
-- Threat intelligence: indicators (one row per normalised value and owning
-- organisation, with every source that reported it and every sighting), the
-- other STIX objects certnet keeps (vulnerabilities, malware, identities,
-- reports, sightings) and the record of each import with its per-object
-- errors.

CREATE TABLE intel_indicators (
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
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (owner_org_id, kind, value)
);
CREATE INDEX intel_indicators_value ON intel_indicators(kind, value);
CREATE INDEX intel_indicators_until ON intel_indicators(valid_until);
CREATE INDEX intel_indicators_updated ON intel_indicators(updated_at, id);
CREATE INDEX intel_indicators_stix ON intel_indicators(stix_id);

CREATE TABLE intel_indicator_sources (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id    INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    source          TEXT NOT NULL,          -- "manual", "stix:<bundle id>", "misp:<event uuid>"
    ref             TEXT NOT NULL DEFAULT '', -- the object id in that source
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    UNIQUE (indicator_id, source)
);

CREATE TABLE intel_sightings (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    indicator_id    INTEGER NOT NULL REFERENCES intel_indicators(id) ON DELETE CASCADE,
    stix_id         TEXT NOT NULL,
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    count           INTEGER NOT NULL DEFAULT 1,
    source          TEXT NOT NULL DEFAULT '',
    org_id          INTEGER,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (indicator_id, stix_id)
);
CREATE INDEX intel_sightings_indicator ON intel_sightings(indicator_id, last_seen);

-- Other STIX objects, kept as the JSON they came in (validated) with the
-- fields lists and policy need.
CREATE TABLE intel_objects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    stix_id         TEXT NOT NULL,
    stix_type       TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    tlp             TEXT NOT NULL,
    modified        TIMESTAMP NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (owner_org_id, stix_id)
);
CREATE INDEX intel_objects_type ON intel_objects(stix_type, id);

CREATE TABLE intel_imports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    format          TEXT NOT NULL,          -- stix, misp
    name            TEXT NOT NULL,
    total           INTEGER NOT NULL,
    accepted        INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    errors          TEXT NOT NULL DEFAULT '[]', -- JSON [{index, id, type, error}]
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX intel_imports_org ON intel_imports(owner_org_id, id);

-- +goose Down
DROP TABLE intel_imports;
DROP TABLE intel_objects;
DROP TABLE intel_sightings;
DROP TABLE intel_indicator_sources;
DROP TABLE intel_indicators;
