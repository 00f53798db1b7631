-- Applicant sessions: the short-lived credential of the hosted flow, bound to one applicant.
-- Only the token's SHA-256 is kept. A session is usable until it expires or is revoked;
-- `redirect_url` is where the page sends the applicant back to when done.
CREATE TABLE applicant_sessions (
    id TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    redirect_url TEXT
);
CREATE INDEX applicant_sessions_by_applicant ON applicant_sessions (applicant_id);
