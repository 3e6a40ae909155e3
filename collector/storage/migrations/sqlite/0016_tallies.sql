-- The shop reports' rollups (collector/tallies.py): per site, mode and bucket (an hour, or a day made of
-- its hours), each measure's counts by up to three values: events per type, bots per reason, product
-- views, carts and purchases per product, searches per term, clicks, wishlist changes, Cobi interactions,
-- sales per currency and the default funnel's steps. Rewritten with the web panels' rollups for every
-- hour that changed, so that a month of ten million events reads some thirty days' rows.
CREATE TABLE tallies (
    key       TEXT NOT NULL,
    mode      TEXT NOT NULL,
    grain     TEXT NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket    TEXT NOT NULL,
    measure   TEXT NOT NULL,
    value     TEXT NOT NULL,   -- '' for none
    detail    TEXT NOT NULL,
    item      TEXT NOT NULL,
    n         BIGINT NOT NULL,
    amount    REAL,            -- quantities, revenue, searches with no product view after
    first_at  TEXT,            -- the first and last event counted (bots)
    last_at   TEXT,
    PRIMARY KEY (key, mode, grain, bucket, measure, value, detail, item)
);
CREATE INDEX tallies_read ON tallies (mode, grain, measure, bucket, key);

-- Every event's hour, and the order an order event belongs to, are noted too (bots' and events without a
-- visitor included: only their hour), so that the tallies of every hour an insert or a delete changed are
-- rewritten, and an order's cancellation rewrites the hour the order was completed in.
ALTER TABLE visit_changes ADD COLUMN hour TEXT;
ALTER TABLE visit_changes ADD COLUMN order_id TEXT;
DROP TRIGGER events_visit_insert;
DROP TRIGGER events_visit_delete;
CREATE TRIGGER events_visit_insert AFTER INSERT ON events
BEGIN
    INSERT INTO visit_changes (key, mode, session_id, visitor, event_time, hour, order_id)
    VALUES (NEW.key, NEW.mode, CASE WHEN NEW.bot IS NULL THEN NEW.session_id END,
            CASE WHEN NEW.bot IS NULL AND NEW.session_id IS NULL THEN coalesce(NEW.anonymous_id, NEW.user_id) END,
            CASE WHEN NEW.bot IS NULL AND NEW.session_id IS NULL THEN NEW.event_time END,
            substr(NEW.event_time, 1, 13), CASE WHEN NEW.type = 'order' THEN NEW.order_id END);
END;
CREATE TRIGGER events_visit_delete AFTER DELETE ON events
BEGIN
    INSERT INTO visit_changes (key, mode, session_id, visitor, event_time, hour, order_id)
    VALUES (OLD.key, OLD.mode, CASE WHEN OLD.bot IS NULL THEN OLD.session_id END,
            CASE WHEN OLD.bot IS NULL AND OLD.session_id IS NULL THEN coalesce(OLD.anonymous_id, OLD.user_id) END,
            CASE WHEN OLD.bot IS NULL AND OLD.session_id IS NULL THEN OLD.event_time END,
            substr(OLD.event_time, 1, 13), CASE WHEN OLD.type = 'order' THEN OLD.order_id END);
END;

-- The backend's orders (DataCue's order records) count where they were completed, and cancel an order the
-- browser reported: a record written, changed or deleted notes its order and its old and new times.
CREATE TRIGGER records_order_insert AFTER INSERT ON records WHEN NEW.type = 'orders'
BEGIN
    INSERT INTO visit_changes (key, mode, hour, order_id)
    VALUES (NEW.key, NEW.mode, substr(coalesce(json_extract(NEW.payload, '$.timestamp'), NEW.received_at), 1, 13),
            json_extract(NEW.payload, '$.order_id'));
END;
CREATE TRIGGER records_order_update AFTER UPDATE ON records WHEN NEW.type = 'orders'
BEGIN
    INSERT INTO visit_changes (key, mode, hour, order_id)
    VALUES (OLD.key, OLD.mode, substr(coalesce(json_extract(OLD.payload, '$.timestamp'), OLD.received_at), 1, 13),
            json_extract(OLD.payload, '$.order_id')),
           (NEW.key, NEW.mode, substr(coalesce(json_extract(NEW.payload, '$.timestamp'), NEW.received_at), 1, 13),
            json_extract(NEW.payload, '$.order_id'));
END;
CREATE TRIGGER records_order_delete AFTER DELETE ON records WHEN OLD.type = 'orders'
BEGIN
    INSERT INTO visit_changes (key, mode, hour, order_id)
    VALUES (OLD.key, OLD.mode, substr(coalesce(json_extract(OLD.payload, '$.timestamp'), OLD.received_at), 1, 13),
            json_extract(OLD.payload, '$.order_id'));
END;

-- An order's events, found by its id when a cancellation or a record changes it (only order events are in
-- this index, so other events cost it nothing).
CREATE INDEX events_orders ON events (key, mode, order_id) WHERE type = 'order';

-- The tallies of what is already there: every hour with an event or a backend order.
INSERT INTO rollup_hours (key, mode, hour)
SELECT DISTINCT key, mode, substr(event_time, 1, 13) FROM events
UNION
SELECT key, mode, substr(coalesce(json_extract(payload, '$.timestamp'), received_at), 1, 13) FROM records
WHERE type = 'orders'
ON CONFLICT (key, mode, hour) DO NOTHING;

-- Fresh statistics, so that each hour's queries take the index made for them (without them, SQLite read
-- every order event of a site to find an hour's orders).
ANALYZE;
