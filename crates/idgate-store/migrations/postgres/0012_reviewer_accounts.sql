-- Reviewer accounts for the console: a password (argon2id PHC string), a TOTP secret
-- (sealed in the blob store, only its key here) once confirmed, and the last time step
-- accepted so that a code is never accepted twice. Accounts made from an invitation get
-- no bearer token: their `token_hash` is the digest of a token nobody was given.
ALTER TABLE reviewers ADD COLUMN password_hash TEXT;
ALTER TABLE reviewers ADD COLUMN totp_key TEXT;
ALTER TABLE reviewers ADD COLUMN totp_confirmed_at BIGINT;
ALTER TABLE reviewers ADD COLUMN totp_last_step BIGINT;

-- Invitations: single use, expiring; only the link token's SHA-256 is kept.
CREATE TABLE reviewer_invites (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    reviewer_id TEXT
);

-- Recovery codes, each usable once; SHA-256 of the code.
CREATE TABLE reviewer_recovery_codes (
    reviewer_id TEXT NOT NULL REFERENCES reviewers(id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (reviewer_id, code_hash)
);

-- Console sessions (cookie), kept as the token's SHA-256. `stage` is `second_factor` or
-- `enrol` between the password and the second factor, `full` after; a stage change ends
-- the session and starts a new one (a new token). `fresh_at` is the last time the reviewer
-- proved who they are (sign-in or re-authentication).
CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    reviewer_id TEXT NOT NULL REFERENCES reviewers(id),
    stage TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    fresh_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX console_sessions_by_reviewer ON console_sessions (reviewer_id);

-- Failed sign-in attempts, for throttling per account name and per client address. A
-- successful sign-in sets `cleared_at` on the account's failures: they no longer count
-- against the account, but still against the address they came from.
CREATE TABLE signin_failures (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at BIGINT NOT NULL,
    cleared_at BIGINT
);
CREATE INDEX signin_failures_by_account ON signin_failures (account, at);
CREATE INDEX signin_failures_by_address ON signin_failures (address, at);

-- The security log: every sign-in, failure, enrolment, invitation and admin action.
CREATE TABLE security_events (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    account TEXT NOT NULL,
    reviewer_id TEXT,
    address TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX security_events_by_reviewer ON security_events (reviewer_id, seq);
