-- Deliveries of one subject (a case, a change request) carry a sequence number and are sent
-- in that order: a later one waits until every earlier one was delivered or given up, so a
-- receiver never sees `processing` before `submitted`.
ALTER TABLE webhook_deliveries ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX webhook_deliveries_subject_seq
    ON webhook_deliveries(subject, seq) WHERE subject <> '';
