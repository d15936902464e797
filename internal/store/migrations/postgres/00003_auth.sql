-- +goose Up
-- A second-factor secret waiting for its first code. It lives apart from
-- totp_secret so that a user re-enrolling a new authenticator keeps the old
-- one working until the new one is confirmed.
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';

-- PruneExpired removes throttle rows whose window has passed.
CREATE INDEX login_throttle_window ON login_throttle(window_start);

-- +goose Down
DROP INDEX login_throttle_window;
ALTER TABLE users DROP COLUMN totp_pending;
