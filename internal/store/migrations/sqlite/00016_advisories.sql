-- +goose Up
-- Advisories (cảnh báo) published to the network: each is targeted (the
-- targeting is kept as written, resolved at publish into one recipient row
-- per organisation), links indicators and CVEs, and every recipient moves
-- delivered → acknowledged → reported. The cve table holds what NVD (API
-- 2.0 JSON) and the CISA KEV catalogue say of a CVE.

CREATE TABLE advisories (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    title           TEXT NOT NULL,
    title_en        TEXT NOT NULL DEFAULT '',
    summary         TEXT NOT NULL DEFAULT '',
    summary_en      TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    body_en         TEXT NOT NULL DEFAULT '',
    severity        TEXT NOT NULL,              -- low, medium, high, critical
    cves            TEXT NOT NULL DEFAULT '',   -- CVE ids, one per line
    products        TEXT NOT NULL DEFAULT '[]', -- JSON [{vendor, product, version}]
    actions         TEXT NOT NULL DEFAULT '',   -- recommended actions
    tlp             TEXT NOT NULL,
    deadline_at     TIMESTAMP,
    status          TEXT NOT NULL,              -- draft, published, closed
    targeting       TEXT NOT NULL DEFAULT '{}', -- JSON, as the publisher wrote it
    stix_id         TEXT NOT NULL,
    created_by      INTEGER,
    created_name    TEXT NOT NULL DEFAULT '',
    published_by    INTEGER,
    published_name  TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    published_at    TIMESTAMP,
    closed_at       TIMESTAMP
);
CREATE INDEX advisories_owner ON advisories(owner_org_id, id);
CREATE INDEX advisories_status ON advisories(status, id);

CREATE TABLE advisory_indicators (
    advisory_id     INTEGER NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    indicator_id    INTEGER NOT NULL REFERENCES intel_indicators(id),
    PRIMARY KEY (advisory_id, indicator_id)
);

CREATE TABLE advisory_recipients (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    advisory_id     INTEGER NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    status          TEXT NOT NULL,              -- delivered, acknowledged, reported
    outcome         TEXT NOT NULL DEFAULT '',   -- remediated, not_affected, in_progress
    note            TEXT NOT NULL DEFAULT '',
    delivered_at    TIMESTAMP NOT NULL,
    ack_due_at      TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    reported_at     TIMESTAMP,
    updated_name    TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMP NOT NULL,
    ack_level       INTEGER NOT NULL DEFAULT 0, -- 1 reminded, 2 escalated (not acknowledged)
    due_level       INTEGER NOT NULL DEFAULT 0, -- 1 reminded, 2 escalated (deadline passed, not reported)
    UNIQUE (advisory_id, org_id)
);
CREATE INDEX advisory_recipients_org ON advisory_recipients(org_id, advisory_id);
CREATE INDEX advisory_recipients_due ON advisory_recipients(status, ack_due_at);

CREATE TABLE cves (
    id              TEXT PRIMARY KEY,           -- CVE-2023-0001
    description     TEXT NOT NULL DEFAULT '',
    cvss_score      DOUBLE PRECISION,           -- CVSS v3.1 (or v3.0) base score
    cvss_severity   TEXT NOT NULL DEFAULT '',
    cvss_vector     TEXT NOT NULL DEFAULT '',
    published       TIMESTAMP,
    modified        TIMESTAMP,
    in_nvd          BOOLEAN NOT NULL DEFAULT FALSE,
    kev             BOOLEAN NOT NULL DEFAULT FALSE,
    kev_name        TEXT NOT NULL DEFAULT '',
    kev_action      TEXT NOT NULL DEFAULT '',
    kev_added       TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD
    kev_due         TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD
    kev_ransomware  TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE cves;
DROP TABLE advisory_recipients;
DROP TABLE advisory_indicators;
DROP TABLE advisories;
