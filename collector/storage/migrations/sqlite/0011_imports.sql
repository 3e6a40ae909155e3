-- Import jobs: a file of history (events, interactions, reference records, coupons), stored durably when
-- it is uploaded, then read by a worker chunk by chunk; each chunk's rows are committed together with
-- the job's progress, so a worker that dies resumes after the last committed chunk.
-- On SQLite the uploaded file is kept beside the database (file_ref names it) until the job ends.
CREATE TABLE import_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: Capillary's jobId
    key          TEXT NOT NULL REFERENCES keys (key),
    mode         TEXT NOT NULL,
    kind         TEXT NOT NULL,          -- events, interactions, a record type, coupons
    format       TEXT,                   -- csv or ndjson; NULL until read from the name or the content
    file_name    TEXT NOT NULL,          -- as uploaded
    file_ref     TEXT NOT NULL,          -- where the upload is kept until the job ends
    file_bytes   INTEGER NOT NULL,
    options      TEXT NOT NULL DEFAULT '{}',  -- JSON: how rows are read (Capillary's columns)
    series_id    TEXT,                   -- the coupon series of a Capillary upload
    sent_by      INTEGER,                -- the server key that uploaded it (server_keys.id); NULL: the CLI
    status       TEXT NOT NULL CHECK (status IN ('STARTED', 'PROCESSING', 'COMPLETED', 'COMPLETED_WITH_ERRORS',
                                                 'FAILED')),
    reason       TEXT,                   -- why it FAILED
    total_rows   INTEGER,                -- rows in the file, once the worker has read it through
    position     INTEGER NOT NULL DEFAULT 0,  -- rows processed and committed
    stored       INTEGER NOT NULL DEFAULT 0,
    refused      INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
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

-- A row an import job refused is kept in rejected like any refused item, with its job and row number:
-- the job's error file is read from here.
ALTER TABLE rejected ADD COLUMN job_id INTEGER;
ALTER TABLE rejected ADD COLUMN row_no INTEGER;
CREATE INDEX rejected_job ON rejected (job_id, row_no, id) WHERE job_id IS NOT NULL;

-- The import job a record version came from (NULL: an API request).
ALTER TABLE record_versions ADD COLUMN job_id INTEGER;

-- Coupon codes per site and series (Capillary's coupon upload, or imports of kind coupons): the current,
-- not deleted ones, with the customer each is tagged to and the job that last uploaded it.
CREATE VIEW capillary_coupons AS
SELECT r.key,
       r.mode,
       json_extract(r.payload, '$.series_id') AS series_id,
       json_extract(r.payload, '$.code') AS code,
       json_extract(r.payload, '$.customer_identifier') AS customer_identifier,
       json_extract(r.payload, '$.customer_value') AS customer_value,
       v.job_id,
       r.received_at,
       r.version_id
FROM records r JOIN record_versions v ON v.version_id = r.version_id
WHERE r.type = 'coupons' AND r.is_deleted = 0;

-- Events that name a coupon code: completed orders with `event.discount_code` and Cobi DISCOUNT_CODE
-- interactions with `context.discount_code` (docs/decisions.md), to join with capillary_coupons.
CREATE VIEW coupon_uses AS
SELECT key, mode, json_extract(payload, '$.event.discount_code') AS code, source, event_id, type,
       NULL AS interaction_type, order_id, revenue, currency, user_id, anonymous_id, event_time
FROM events
WHERE type = 'order' AND subtype = 'completed' AND json_extract(payload, '$.event.discount_code') IS NOT NULL
UNION ALL
SELECT key, mode, json_extract(payload, '$.context.discount_code') AS code, source, event_id, type,
       interaction_type, NULL, NULL, NULL, user_id, anonymous_id, event_time
FROM events
WHERE type = 'interaction' AND interaction_type = 'DISCOUNT_CODE'
  AND json_extract(payload, '$.context.discount_code') IS NOT NULL;
