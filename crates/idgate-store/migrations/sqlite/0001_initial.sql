-- Applicants: one per platform account (UID).
CREATE TABLE applicants (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Cases: one verification attempt for a level. Status changes only through the
-- core state machine, each with an audit event.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_applicant ON cases(applicant_id);

-- Uploaded images: metadata here, encrypted bytes in the blob store.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    side TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width BIGINT,
    height BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX documents_case ON documents(case_id);

-- Append-only audit trail.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX audit_events_case ON audit_events(case_id, seq);

-- Durable job queue. A running job whose lease expired is claimed again.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    case_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(status, run_at);

-- API keys of the integrating platform: only a SHA-256 of the key is kept.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
