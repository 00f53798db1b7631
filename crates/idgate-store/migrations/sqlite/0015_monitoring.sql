-- Ongoing monitoring. A case opened by a list import's re-screen of an approved applicant,
-- not by the applicant, says so: `origin` is `applicant` or `monitoring`.
ALTER TABLE cases ADD COLUMN origin TEXT NOT NULL DEFAULT 'applicant';

-- Which list version's re-screen opened which review for an applicant: a re-screen that
-- runs again (a worker died half-way) opens no second review for the same version.
CREATE TABLE screening_alerts (
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    source TEXT NOT NULL,
    version BIGINT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (applicant_id, source, version)
);
