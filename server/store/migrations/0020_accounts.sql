-- Accounts are made by admins (invitations), by a one-time setup link for
-- the first admin, or by open sign-up; none becomes admin by being first.
-- An invited account has an empty password hash until the invitation is used.
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- One-time links: an invitation (sets the password of an invited account),
-- a password reset, or the setup link that creates the first admin. Only the
-- SHA-256 of the token is kept, as for sessions.
CREATE TABLE account_links (
    token_hash BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('invite', 'reset', 'setup')),
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX account_links_user ON account_links (user_id);

-- Who did what to whom, and when. Emails are copied so that the record
-- stays readable after an account is gone.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_id     INTEGER,
    actor_email  TEXT    NOT NULL DEFAULT '',
    action       TEXT    NOT NULL,
    target_id    INTEGER,
    target_email TEXT    NOT NULL DEFAULT '',
    detail       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
