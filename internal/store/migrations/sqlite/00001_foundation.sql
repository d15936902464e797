-- +goose Up
-- Foundation: the network registry, people, sessions, tokens, audit.

CREATE TABLE provinces (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_fold   TEXT NOT NULL,
    region      TEXT NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE clusters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    head_org_id     INTEGER,
    deputy_org_id   INTEGER,
    head_year       INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE organisations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    name_en         TEXT NOT NULL DEFAULT '',
    short_name      TEXT NOT NULL DEFAULT '',
    search_text     TEXT NOT NULL DEFAULT '',
    parent_id       INTEGER REFERENCES organisations(id),
    region          TEXT NOT NULL DEFAULT '',
    province_code   TEXT REFERENCES provinces(code),
    cluster_id      INTEGER REFERENCES clusters(id),
    sector          TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    intake_email    TEXT NOT NULL DEFAULT '',
    intake_phone    TEXT NOT NULL DEFAULT '',
    website         TEXT NOT NULL DEFAULT '',
    security_lead   TEXT NOT NULL DEFAULT '',
    profile         TEXT NOT NULL DEFAULT '{}',
    profile_year    INTEGER NOT NULL DEFAULT 0,
    require_mfa     BOOLEAN NOT NULL DEFAULT 0,
    active          BOOLEAN NOT NULL DEFAULT 1,
    tlp             TEXT NOT NULL DEFAULT 'GREEN',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX organisations_parent ON organisations(parent_id);
CREATE INDEX organisations_province ON organisations(province_code);
CREATE INDEX organisations_cluster ON organisations(cluster_id);
CREATE INDEX organisations_sector ON organisations(sector);
CREATE INDEX organisations_name ON organisations(name);

CREATE TABLE org_roles (
    org_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (org_id, role)
);
CREATE INDEX org_roles_role ON org_roles(role);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    phone_247   TEXT NOT NULL DEFAULT '',
    pgp_key     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  INTEGER
);
CREATE INDEX contacts_org ON contacts(org_id);

CREATE TABLE contact_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  INTEGER NOT NULL,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    change      TEXT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT '',
    changed_at  TIMESTAMP NOT NULL,
    changed_by  INTEGER
);
CREATE INDEX contact_history_org ON contact_history(org_id, changed_at);

-- Constituency. start_key/end_key are the first and last address of the
-- range as 32 hex digits (IPv4 mapped into IPv6), so overlap is a range
-- comparison that both engines index.
CREATE TABLE org_ranges (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    cidr        TEXT NOT NULL UNIQUE,
    family      INTEGER NOT NULL,
    start_key   TEXT NOT NULL,
    end_key     TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_ranges_org ON org_ranges(org_id);
CREATE INDEX org_ranges_start ON org_ranges(start_key);

CREATE TABLE org_asns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    asn         BIGINT NOT NULL UNIQUE,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_asns_org ON org_asns(org_id);

CREATE TABLE org_domains (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    domain      TEXT NOT NULL UNIQUE,
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX org_domains_org ON org_domains(org_id);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    search_text     TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT 'vi',
    disabled        BOOLEAN NOT NULL DEFAULT 0,
    totp_secret     TEXT NOT NULL DEFAULT '',
    totp_enabled    BOOLEAN NOT NULL DEFAULT 0,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    last_login_at   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE recovery_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    mfa_passed      BOOLEAN NOT NULL DEFAULT 0,
    ip              TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    scopes          TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP,
    last_used_at    TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE login_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL DEFAULT 0,
    window_start    TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP
);

CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,
    at              TIMESTAMP NOT NULL,
    actor_user_id   INTEGER,
    actor           TEXT NOT NULL,
    actor_org_id    INTEGER,
    org_id          INTEGER,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    before_json     TEXT NOT NULL DEFAULT '',
    after_json      TEXT NOT NULL DEFAULT '',
    request_id      TEXT NOT NULL DEFAULT '',
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, seq);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log(actor_user_id, seq);

CREATE TABLE settings (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE audit_log;
DROP TABLE login_throttle;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE recovery_codes;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE org_domains;
DROP TABLE org_asns;
DROP TABLE org_ranges;
DROP TABLE contact_history;
DROP TABLE contacts;
DROP TABLE org_roles;
DROP TABLE organisations;
DROP TABLE clusters;
DROP TABLE provinces;
