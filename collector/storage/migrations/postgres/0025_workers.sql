-- The workers (`collector worker`) seen lately, each under the name it holds leases by, with when it last
-- said it was alive and whether it takes import jobs: an import job that no worker takes can then say why
-- (none is running), and /readyz can say how long ago one was seen.
CREATE TABLE workers (
    owner       TEXT PRIMARY KEY,
    takes_jobs  INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    seen_at     DOUBLE PRECISION NOT NULL          -- epoch seconds
);
