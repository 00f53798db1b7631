-- Data lifecycle. An erased applicant keeps its row (the audit trail's link to the
-- platform's account) with the time of the erasure; the erasure itself is recorded.
-- A case whose images and entered data retention removed says when.
ALTER TABLE applicants ADD COLUMN erased_at BIGINT;
ALTER TABLE cases ADD COLUMN erased_at BIGINT;
CREATE TABLE erasures (
    applicant_id TEXT PRIMARY KEY REFERENCES applicants(id),
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    objects BIGINT NOT NULL
);
CREATE INDEX cases_retention ON cases(erased_at, updated_at);
