-- +goose Up
-- Malware-cleanup campaigns (issue 5, item 5; QĐ 566): a campaign of the
-- national coordinator or a response unit, the imports of infected or
-- vulnerable addresses, each address routed at import to the member that
-- owns it and the ISP that announces it (de-duplicated per campaign and
-- address), and each member's part with its remediation status.

CREATE TABLE campaigns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    name            TEXT NOT NULL,
    malware         TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    actions         TEXT NOT NULL DEFAULT '',
    tlp             TEXT NOT NULL,
    starts_at       TIMESTAMP NOT NULL,
    ends_at         TIMESTAMP NOT NULL,
    ack_days        INTEGER NOT NULL,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX campaigns_org ON campaigns(org_id);

CREATE TABLE campaign_imports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    source          TEXT NOT NULL DEFAULT '',
    rows_ok         INTEGER NOT NULL DEFAULT 0,
    rows_bad        INTEGER NOT NULL DEFAULT 0,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX campaign_imports_campaign ON campaign_imports(campaign_id);

-- status: open, cleaned, reinfected. member_org_id / isp_org_id NULL when
-- the constituency does not route the address.
CREATE TABLE campaign_addresses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    ip              TEXT NOT NULL,
    port            INTEGER NOT NULL DEFAULT 0,
    asn             BIGINT NOT NULL DEFAULT 0,
    malware         TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    member_org_id   INTEGER REFERENCES organisations(id),
    isp_org_id      INTEGER REFERENCES organisations(id),
    status          TEXT NOT NULL,
    first_import_id INTEGER,
    last_import_id  INTEGER,
    reinfections    INTEGER NOT NULL DEFAULT 0,
    first_seen_at   TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    cleaned_at      TIMESTAMP,
    cleaned_by      INTEGER,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, ip)
);
CREATE INDEX campaign_addresses_member ON campaign_addresses(campaign_id, member_org_id);
CREATE INDEX campaign_addresses_isp ON campaign_addresses(campaign_id, isp_org_id);

-- A member's part: notified → acknowledged → cleaning → cleaned /
-- not_affected (with a note).
CREATE TABLE campaign_parts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    status          TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    notified_at     TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    reminder_sent   INTEGER NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP NOT NULL,
    UNIQUE (campaign_id, org_id)
);
CREATE INDEX campaign_parts_due ON campaign_parts(status, reminder_sent, notified_at);

-- +goose Down
DROP TABLE campaign_parts;
DROP TABLE campaign_addresses;
DROP TABLE campaign_imports;
DROP TABLE campaigns;
