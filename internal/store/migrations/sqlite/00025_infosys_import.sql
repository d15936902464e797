-- +goose Up
-- Information systems (issue 6), second part: the public holidays the
-- working-day clock skips, seeded with Vietnam's for 2025–2027 (Labour Code
-- 2019 art. 112: 1/1, Tết 5 days, Hùng Kings 10/3 lunar, 30/4, 1/5, 2/9 and
-- a day next to it; a holiday on a weekend is made up on the next working
-- day; 2027 follows those rules until the government's plan is published),
-- kept by the national coordinator on the holidays page; the changes of a
-- system that bear on its level (re-classification history); and the files
-- attached to a system or one of its dossiers (design documents, expert
-- opinions), kept in the database with their SHA-256.

INSERT INTO work_holidays (day, name, created_at) VALUES
    ('2025-01-01', 'Tết Dương lịch', CURRENT_TIMESTAMP),
    ('2025-01-27', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2025-01-28', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2025-01-29', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2025-01-30', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2025-01-31', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2025-04-07', 'Giỗ Tổ Hùng Vương', CURRENT_TIMESTAMP),
    ('2025-04-30', 'Ngày Giải phóng miền Nam', CURRENT_TIMESTAMP),
    ('2025-05-01', 'Quốc tế Lao động', CURRENT_TIMESTAMP),
    ('2025-05-02', 'Nghỉ hoán đổi (làm bù thứ Bảy 26/4)', CURRENT_TIMESTAMP),
    ('2025-09-01', 'Quốc khánh', CURRENT_TIMESTAMP),
    ('2025-09-02', 'Quốc khánh', CURRENT_TIMESTAMP),
    ('2026-01-01', 'Tết Dương lịch', CURRENT_TIMESTAMP),
    ('2026-02-16', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2026-02-17', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2026-02-18', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2026-02-19', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2026-02-20', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2026-04-27', 'Giỗ Tổ Hùng Vương (nghỉ bù ngày 26/4 Chủ nhật)', CURRENT_TIMESTAMP),
    ('2026-04-30', 'Ngày Giải phóng miền Nam', CURRENT_TIMESTAMP),
    ('2026-05-01', 'Quốc tế Lao động', CURRENT_TIMESTAMP),
    ('2026-09-01', 'Quốc khánh', CURRENT_TIMESTAMP),
    ('2026-09-02', 'Quốc khánh', CURRENT_TIMESTAMP),
    ('2027-01-01', 'Tết Dương lịch', CURRENT_TIMESTAMP),
    ('2027-02-05', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2027-02-08', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2027-02-09', 'Tết Nguyên đán', CURRENT_TIMESTAMP),
    ('2027-02-10', 'Tết Nguyên đán (nghỉ bù)', CURRENT_TIMESTAMP),
    ('2027-02-11', 'Tết Nguyên đán (nghỉ bù)', CURRENT_TIMESTAMP),
    ('2027-04-16', 'Giỗ Tổ Hùng Vương', CURRENT_TIMESTAMP),
    ('2027-04-30', 'Ngày Giải phóng miền Nam', CURRENT_TIMESTAMP),
    ('2027-05-03', 'Quốc tế Lao động (nghỉ bù ngày 1/5 thứ Bảy)', CURRENT_TIMESTAMP),
    ('2027-09-02', 'Quốc khánh', CURRENT_TIMESTAMP),
    ('2027-09-03', 'Quốc khánh', CURRENT_TIMESTAMP)
ON CONFLICT (day) DO NOTHING;

CREATE TABLE infosys_system_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    system_id   INTEGER NOT NULL REFERENCES infosys_systems(id),
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    fields      TEXT NOT NULL,
    level       INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX infosys_system_changes_system ON infosys_system_changes(system_id, id);

CREATE TABLE infosys_attachments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    system_id      INTEGER NOT NULL REFERENCES infosys_systems(id),
    dossier_id     INTEGER REFERENCES infosys_dossiers(id),
    kind           TEXT NOT NULL,
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
CREATE INDEX infosys_attachments_system ON infosys_attachments(system_id, id);

-- +goose Down
DROP TABLE infosys_attachments;
DROP TABLE infosys_system_changes;
DELETE FROM work_holidays WHERE day IN ('2025-01-01', '2025-01-27', '2025-01-28', '2025-01-29', '2025-01-30', '2025-01-31', '2025-04-07', '2025-04-30', '2025-05-01', '2025-05-02', '2025-09-01', '2025-09-02', '2026-01-01', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-04-27', '2026-04-30', '2026-05-01', '2026-09-01', '2026-09-02', '2027-01-01', '2027-02-05', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11', '2027-04-16', '2027-04-30', '2027-05-03', '2027-09-02', '2027-09-03');
