-- Import jobs: a file of history (events, interactions, reference records, coupons), stored durably when
-- it is uploaded, then read by a worker chunk by chunk; each chunk's rows are committed together with
-- the job's progress, so a worker that dies resumes after the last committed chunk.
-- On PostgreSQL the uploaded file is kept in the database (import_files), so any node's worker reads it.
CREATE TABLE import_jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused: Capillary's jobId
    key          TEXT NOT NULL REFERENCES keys (key),
    mode         TEXT NOT NULL,
    kind         TEXT NOT NULL,          -- events, interactions, a record type, coupons
    format       TEXT,                   -- csv or ndjson; NULL until read from the name or the content
    file_name    TEXT NOT NULL,          -- as uploaded
    file_ref     TEXT NOT NULL,          -- where the upload is kept until the job ends
    file_bytes   BIGINT NOT NULL,
    options      TEXT NOT NULL DEFAULT '{}',  -- JSON: how rows are read (Capillary's columns)
    series_id    TEXT,                   -- the coupon series of a Capillary upload
    sent_by      BIGINT,                 -- the server key that uploaded it (server_keys.id); NULL: the CLI
    status       TEXT NOT NULL CHECK (status IN ('STARTED', 'PROCESSING', 'COMPLETED', 'COMPLETED_WITH_ERRORS',
                                                 'FAILED')),
    reason       TEXT,                   -- why it FAILED
    total_rows   BIGINT,                 -- rows in the file, once the worker has read it through
    position     BIGINT NOT NULL DEFAULT 0,  -- rows processed and committed
    stored       BIGINT NOT NULL DEFAULT 0,
    refused      BIGINT NOT NULL DEFAULT 0,
    duplicates   BIGINT NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,  -- how many times a worker took it
    lease_owner  TEXT,
    lease_until  DOUBLE PRECISION,
    worker       TEXT,                   -- the last worker that took it
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT
);
CREATE INDEX import_jobs_key ON import_jobs (key, id);
CREATE INDEX import_jobs_due ON import_jobs (id) WHERE status IN ('STARTED', 'PROCESSING');
CREATE INDEX import_jobs_series ON import_jobs (key, series_id, id) WHERE series_id IS NOT NULL;

-- The uploaded file of a job that has not ended, in pieces of 1 MiB.
CREATE TABLE import_files (
    job_id  BIGINT NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- A row an import job refused is kept in rejected like any refused item, with its job and row number:
-- the job's error file is read from here.
ALTER TABLE rejected ADD COLUMN job_id BIGINT;
ALTER TABLE rejected ADD COLUMN row_no BIGINT;
CREATE INDEX rejected_job ON rejected (job_id, row_no, id) WHERE job_id IS NOT NULL;

-- The import job a record version came from (NULL: an API request).
ALTER TABLE record_versions ADD COLUMN job_id BIGINT;

-- Coupon codes per site and series (Capillary's coupon upload, or imports of kind coupons): the current,
-- not deleted ones, with the customer each is tagged to and the job that last uploaded it.
CREATE VIEW capillary_coupons AS
SELECT r.key,
       r.mode,
       r.payload->>'series_id' AS series_id,
       r.payload->>'code' AS code,
       r.payload->>'customer_identifier' AS customer_identifier,
       r.payload->>'customer_value' AS customer_value,
       v.job_id,
       r.received_at,
       r.version_id
FROM records r JOIN record_versions v ON v.version_id = r.version_id
WHERE r.type = 'coupons' AND r.is_deleted = 0;

-- Events that name a coupon code: completed orders with `event.discount_code` and Cobi DISCOUNT_CODE
-- interactions with `context.discount_code` (docs/decisions.md), to join with capillary_coupons.
CREATE VIEW coupon_uses AS
SELECT key, mode, payload->'event'->>'discount_code' AS code, source, event_id, type,
       NULL::text AS interaction_type, order_id, revenue, currency, user_id, anonymous_id, event_time
FROM events
WHERE type = 'order' AND subtype = 'completed' AND payload->'event'->>'discount_code' IS NOT NULL
UNION ALL
SELECT key, mode, payload->'context'->>'discount_code' AS code, source, event_id, type,
       interaction_type, NULL, NULL, NULL, user_id, anonymous_id, event_time
FROM events
WHERE type = 'interaction' AND interaction_type = 'DISCOUNT_CODE'
  AND payload->'context'->>'discount_code' IS NOT NULL;
