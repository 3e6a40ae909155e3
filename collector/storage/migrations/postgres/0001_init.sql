-- PostgreSQL: the same logical schema as the SQLite migrations; times stay ISO-8601 UTC text.
-- Publishable keys: public by design (they sit in page HTML), so kept as written.
CREATE TABLE keys (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    origins     TEXT NOT NULL DEFAULT '[]',   -- JSON array of allowed origins; empty allows any
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- One row per accepted event, DataCue and Cobi alike; times are ISO-8601 UTC text.
CREATE TABLE events (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          TEXT NOT NULL,
    key               TEXT NOT NULL,
    mode              TEXT NOT NULL,
    source            TEXT NOT NULL CHECK (source IN ('datacue', 'cobi')),
    type              TEXT NOT NULL,
    subtype           TEXT,
    user_id           TEXT,
    anonymous_id      TEXT,
    session_id        TEXT,
    product_id        TEXT,
    variant_id        TEXT,
    category_id       TEXT,
    category_name     TEXT,
    banner_id         TEXT,
    order_id          TEXT,
    term              TEXT,
    payment_method    TEXT,
    item_type         TEXT,
    item_id           TEXT,
    interaction_type  TEXT,
    student_id        TEXT,
    platform          TEXT,
    city              TEXT,
    country           TEXT,
    revenue           DOUBLE PRECISION,
    currency          TEXT,
    page_url          TEXT,
    referrer          TEXT,
    ip                TEXT,
    user_agent        TEXT,
    client_ts         TEXT,
    sent_at           TEXT,
    received_at       TEXT NOT NULL,
    event_time        TEXT NOT NULL,
    payload           JSONB NOT NULL,
    UNIQUE (key, event_id)
);
CREATE INDEX events_time ON events (event_time);
CREATE INDEX events_type ON events (type, subtype, event_time);
CREATE INDEX events_user ON events (user_id);
CREATE INDEX events_anonymous ON events (anonymous_id);

-- Cart and order lines, one row per line of a viewcart or order event.
CREATE TABLE event_lines (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_pk    BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    line_no     INTEGER NOT NULL,
    product_id  TEXT NOT NULL,
    variant_id  TEXT,
    quantity    BIGINT,
    unit_price  DOUBLE PRECISION,
    currency    TEXT,
    UNIQUE (event_pk, line_no)
);
CREATE INDEX event_lines_product ON event_lines (product_id);

-- What was refused from a valid key, with why, so it can be found and repaired.
CREATE TABLE rejected (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          TEXT NOT NULL,
    mode         TEXT NOT NULL,
    source       TEXT NOT NULL,
    event_id     TEXT,
    reason       TEXT NOT NULL,   -- the error code: invalid_event, malformed_json, payload_too_large, ...
    message      TEXT NOT NULL,
    errors       JSONB,           -- per-field messages
    raw          TEXT,            -- the body or the batch item, cut to REJECTED_RAW_MAX_BYTES
    raw_bytes    BIGINT NOT NULL, -- size of what was received, before cutting
    ip           TEXT,
    user_agent   TEXT,
    received_at  TEXT NOT NULL
);
CREATE INDEX rejected_time ON rejected (received_at);
