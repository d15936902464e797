-- +goose Up
-- Evidence files a recipient attaches to its answer to an advisory (a
-- patch report, a scan showing the fix). Like information-system
-- attachments the bytes are kept in the row, with their SHA-256.
CREATE TABLE advisory_evidence (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    advisory_id    INTEGER NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    recipient_id   INTEGER NOT NULL REFERENCES advisory_recipients(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    content        BLOB NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    uploaded_by    INTEGER,
    uploaded_name  TEXT NOT NULL,
    uploaded_at    TIMESTAMP NOT NULL
);
CREATE INDEX advisory_evidence_recipient ON advisory_evidence(recipient_id, id);

-- +goose Down
DROP TABLE advisory_evidence;
