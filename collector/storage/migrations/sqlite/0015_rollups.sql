-- The web panels' rollups (collector/rollups.py): per site, mode and bucket (an hour, 'YYYY-MM-DDTHH', or a
-- day, 'YYYY-MM-DD', made of its hours), each breakdown value's additive figures and a theta sketch of its
-- visitors. Kept by the visits refresh (storage/visits.py) for every hour a changed visit spans, so that a
-- month reads some thirty days' rows instead of its events.
CREATE TABLE rollups (
    key        TEXT NOT NULL,
    mode       TEXT NOT NULL,
    grain      TEXT NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket     TEXT NOT NULL,
    dimension  TEXT NOT NULL,   -- all, source, utm_source, ..., entry_page, exit_page; page: page views
    value      TEXT NOT NULL,   -- '' for none (a direct visit, no UTM tag)
    n          BIGINT NOT NULL, -- visits (page views for the page dimension)
    pageviews  BIGINT NOT NULL,
    bounces    BIGINT NOT NULL,
    duration   BIGINT NOT NULL, -- seconds, summed
    orders     BIGINT NOT NULL, -- visits that completed an order
    visitors   BLOB NOT NULL,   -- theta sketch (Apache DataSketches, lg k 14)
    PRIMARY KEY (key, mode, grain, bucket, dimension, value)
);
CREATE INDEX rollups_read ON rollups (mode, grain, dimension, bucket, key);

-- The hours whose rollups wait to be rewritten: visits recomputed since note the hours they span, and the
-- rollups are rewritten once the visit changes are drained, each hour once however many visits touched it.
CREATE TABLE rollup_hours (
    key   TEXT NOT NULL,
    mode  TEXT NOT NULL,
    hour  TEXT NOT NULL,
    PRIMARY KEY (key, mode, hour)
);

-- The rollups of what is already there: every hour with a person's event.
INSERT INTO rollup_hours (key, mode, hour)
SELECT DISTINCT key, mode, substr(event_time, 1, 13) FROM events WHERE bot IS NULL;
