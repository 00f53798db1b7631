-- When a worker took a job, so that how long recent jobs took tells a waiting applicant
-- how long they will wait; and the recently finished jobs found without a scan.
ALTER TABLE jobs ADD COLUMN started_at BIGINT;
CREATE INDEX jobs_finished ON jobs(status, updated_at);
