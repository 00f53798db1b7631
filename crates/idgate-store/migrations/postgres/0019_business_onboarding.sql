-- A business's onboarding status (idgate_core::BusinessStatus) and the findings of its
-- latest evaluation (JSON). Its entity documents, each of one or more pages sealed in the
-- blob store, with a reviewer's judgement.
ALTER TABLE businesses ADD COLUMN status TEXT NOT NULL DEFAULT 'draft';
ALTER TABLE businesses ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
CREATE TABLE business_documents (
    id TEXT PRIMARY KEY,
    business_id TEXT NOT NULL REFERENCES businesses(id),
    kind TEXT NOT NULL,
    issued_on TEXT,
    state TEXT NOT NULL,
    judged_by TEXT,
    judged_at BIGINT,
    note TEXT,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX business_documents_business ON business_documents (business_id);
CREATE TABLE business_document_pages (
    document_id TEXT NOT NULL REFERENCES business_documents(id),
    page BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (document_id, page)
);
CREATE INDEX businesses_status ON businesses (status);
