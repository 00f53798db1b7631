-- Sanctions and PEP lists. Every import of a source is a version, kept with its diff
-- (entity identifiers added, changed and removed, one per line); the entities of each
-- source's latest version are what cases are screened against, each as the screening
-- crate's JSON record with the digest a reviewer's clearance is bound to.
CREATE TABLE screening_versions (
    source TEXT NOT NULL,
    version BIGINT NOT NULL,
    format TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    entities BIGINT NOT NULL,
    added TEXT NOT NULL,
    changed TEXT NOT NULL,
    removed TEXT NOT NULL,
    PRIMARY KEY (source, version)
);
CREATE TABLE screening_entities (
    source TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (source, entity_id)
);
-- A reviewer's judgement that a listed entity is not this applicant, bound to the entity's
-- record as it was (its digest): the applicant is not sent to review for that entity again
-- until its record changes.
CREATE TABLE screening_clearances (
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    entity_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    case_id TEXT NOT NULL,
    cleared_by TEXT NOT NULL,
    cleared_at BIGINT NOT NULL,
    PRIMARY KEY (applicant_id, entity_id)
);
