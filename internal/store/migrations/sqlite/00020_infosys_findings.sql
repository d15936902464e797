-- +goose Up
-- Findings of vulnerability scans on an information system, imported from
-- scan reports and tracked to remediation. One row per (system, key) where
-- key is host|port|CVE (or the lower-cased name when there is no CVE): a
-- finding seen again in a later scan updates its row instead of adding one.
CREATE TABLE infosys_findings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    system_id    INTEGER NOT NULL REFERENCES infosys_systems(id),
    fkey         TEXT NOT NULL,
    host         TEXT NOT NULL,
    port         INTEGER NOT NULL DEFAULT 0,
    name         TEXT NOT NULL,
    cve          TEXT NOT NULL DEFAULT '',
    severity     TEXT NOT NULL,
    cvss         REAL,
    description  TEXT NOT NULL DEFAULT '',
    solution     TEXT NOT NULL DEFAULT '',
    first_seen   TIMESTAMP NOT NULL,
    last_seen    TIMESTAMP NOT NULL,
    status       TEXT NOT NULL,
    status_note  TEXT NOT NULL DEFAULT '',
    status_by    INTEGER,
    status_at    TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    UNIQUE (system_id, fkey)
);
-- Open findings by severity per system: the index answers the count.
CREATE INDEX infosys_findings_open ON infosys_findings(system_id, status, severity);

-- +goose Down
DROP INDEX infosys_findings_open;
DROP TABLE infosys_findings;
