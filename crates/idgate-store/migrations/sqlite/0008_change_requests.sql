-- Change requests re-run the checks their new data needs. `changes` lists the fields that
-- change; identity fields (name, birth date, nationality, document) need a newly uploaded
-- document (change_request_documents) that the checks hold the new data against, and a
-- second reviewer (`second_approval`). The checks' reasons and findings, and the identity
-- keys of the new data, are kept for the reviewers and the final approval.
ALTER TABLE change_requests ADD COLUMN changes TEXT NOT NULL DEFAULT '';
ALTER TABLE change_requests ADD COLUMN second_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE change_requests ADD COLUMN first_approved_by TEXT;
ALTER TABLE change_requests ADD COLUMN first_approved_at BIGINT;
ALTER TABLE change_requests ADD COLUMN reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE change_requests ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE change_requests ADD COLUMN identity_keys TEXT NOT NULL DEFAULT '';
ALTER TABLE change_requests ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE change_request_documents (
    id TEXT PRIMARY KEY,
    change_request_id TEXT NOT NULL REFERENCES change_requests(id),
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
CREATE INDEX change_request_documents_cr ON change_request_documents(change_request_id);
