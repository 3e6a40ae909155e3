-- Whether a key's events are kept in `events`; with 0 the collector only relays them.
ALTER TABLE keys ADD COLUMN store_events INTEGER NOT NULL DEFAULT 1;

-- Where a key's events are forwarded. The secret is what the upstream needs (DataCue key, Cobi token,
-- webhook signing secret): it is stored because it is sent, and it is never logged or listed in full.
CREATE TABLE forward_targets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         TEXT NOT NULL REFERENCES keys (key),
    kind        TEXT NOT NULL CHECK (kind IN ('datacue', 'cobi', 'webhook')),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);
CREATE INDEX forward_targets_key ON forward_targets (key);

-- One row per event and target, written in the same transaction as the event (the transactional
-- outbox); `collector forward run` drains it. Times used for scheduling are epoch seconds.
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target_id        BIGINT NOT NULL REFERENCES forward_targets (id),
    key              TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    source           TEXT NOT NULL,
    payload          TEXT NOT NULL,   -- the event as stored (JSON); upstream bodies are built from it at send time
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  DOUBLE PRECISION NOT NULL,
    lease_owner      TEXT,
    lease_until      DOUBLE PRECISION,
    created_at       DOUBLE PRECISION NOT NULL,
    delivered_at     DOUBLE PRECISION,
    last_status      INTEGER,
    last_error       TEXT,
    UNIQUE (target_id, key, event_id)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
