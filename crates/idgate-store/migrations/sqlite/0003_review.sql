-- What the applicant entered for a case (name, birth date, document...): a JSON object
-- encrypted in the blob store like the images; only its key is here. The findings of the
-- automated checks (code, subject, reviewer-only detail) and the identity keys the
-- decision used, for the reviewer who takes the case over.
ALTER TABLE cases ADD COLUMN data_key TEXT;
ALTER TABLE cases ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN identity_keys TEXT NOT NULL DEFAULT '';
-- The reviewer working on a case in review.
ALTER TABLE cases ADD COLUMN claimed_by TEXT;
ALTER TABLE cases ADD COLUMN claimed_at BIGINT;
-- The applicant's verified data (blob key): set by an approval, changed only by an approved
-- change request.
ALTER TABLE applicants ADD COLUMN verified_data_key TEXT;

-- Reviewer accounts: a SHA-256 of the bearer token is kept, never the token.
CREATE TABLE reviewers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- Reviewer comments: `applicant` ones are shown to the applicant, `internal` ones never.
CREATE TABLE case_comments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    author TEXT NOT NULL,
    visibility TEXT NOT NULL,
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX case_comments_case ON case_comments(case_id, at);

-- Requests to change verified data; the new data is encrypted in the blob store.
CREATE TABLE change_requests (
    id TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    data_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    comment TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX change_requests_status ON change_requests(status, created_at);

-- Webhook outbox: written in the same transaction as the status change it reports, so no
-- change is lost; the body is stored as sent, so every retry carries the same signature.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_at);

-- Delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
