-- Segment's and RudderStack's messages (collector/api/segment.py) are events of source 'segment': their
-- own type (track, identify, ...) and name (`event_name`: a track's event, a page's or screen's name), or,
-- for the e-commerce events the collector maps (collector/ecommerce.py), the DataCue type they count as.
-- The analysts' views take both sources. A page view is a pageview event, except Segment's Product Viewed
-- and Product List Viewed: those are tracks on a page its own `page` call counted already.
--
-- SQLite keeps a CHECK constraint in the table's text: it is edited in place, as SQLite's ALTER TABLE
-- documentation prescribes for loosening a constraint every row already meets (the runner bumps the
-- schema version when writable_schema is turned off, so every connection rereads it). Not `IN` of three
-- values: SQLite builds a table for an IN list of more than two at each execution of an INSERT, which
-- made an event's insert 13% dearer (callgrind, bench/RESULTS.md); two comparisons cost nothing.
PRAGMA writable_schema = ON;
UPDATE sqlite_master SET sql = replace(sql, 'CHECK (source IN (''datacue'', ''cobi''))',
                                       'CHECK (source IN (''datacue'', ''cobi'') OR source = ''segment'')')
WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = OFF;
ALTER TABLE events ADD COLUMN event_name TEXT;

DROP VIEW pageviews;
CREATE VIEW pageviews AS
SELECT id, event_id, key, mode, subtype AS page_type, user_id, anonymous_id, session_id, product_id,
       variant_id, category_id, category_name, page_url, referrer, event_time
FROM events WHERE type = 'pageview' AND (source = 'datacue' OR (source = 'segment' AND subtype IN ('home', 'page')))
      AND bot IS NULL;

DROP VIEW product_views;
CREATE VIEW product_views AS
SELECT id, event_id, key, mode, user_id, anonymous_id, session_id, product_id, variant_id, page_url, event_time
FROM events WHERE source IN ('datacue', 'segment') AND type = 'pageview' AND subtype = 'product' AND bot IS NULL;

DROP VIEW searches;
CREATE VIEW searches AS
SELECT id, event_id, key, mode, user_id, anonymous_id, session_id, term, page_url, event_time
FROM events WHERE source IN ('datacue', 'segment') AND type = 'search' AND bot IS NULL;

DROP VIEW carts;
CREATE VIEW carts AS
SELECT e.id, e.event_id, e.key, e.mode, e.user_id, e.anonymous_id, e.session_id, e.event_time,
       (SELECT count(*) FROM event_lines l WHERE l.event_pk = e.id) AS lines,
       (SELECT coalesce(sum(coalesce(l.quantity, 1)), 0) FROM event_lines l WHERE l.event_pk = e.id) AS items
FROM events e WHERE e.source IN ('datacue', 'segment') AND e.type = 'viewcart' AND e.bot IS NULL;

DROP VIEW order_lines;
CREATE VIEW order_lines AS
SELECT e.key, e.mode, e.order_id, e.event_id, l.line_no, l.product_id, l.variant_id, l.quantity, l.unit_price,
       l.currency, e.event_time
FROM event_lines l JOIN events e ON e.id = l.event_pk
WHERE e.source IN ('datacue', 'segment') AND e.type = 'order' AND e.subtype = 'completed' AND e.bot IS NULL;

DROP VIEW sessions;
CREATE VIEW sessions AS
WITH visits AS (
    SELECT key, mode, user_id, anonymous_id, source, type, subtype, event_time, session_id,
           coalesce(anonymous_id, user_id) AS visitor,
           lag(event_time) OVER (PARTITION BY key, mode, coalesce(anonymous_id, user_id)
                                 ORDER BY event_time) AS previous
    FROM events WHERE session_id IS NULL AND bot IS NULL
), numbered AS (
    SELECT *, sum(CASE WHEN previous IS NULL OR (julianday(event_time) - julianday(previous)) * 86400 > 1800
                       THEN 1 ELSE 0 END)
                  OVER (PARTITION BY key, mode, visitor ORDER BY event_time ROWS UNBOUNDED PRECEDING) AS n
    FROM visits
), all_sessions AS (
    SELECT key, mode, session_id, user_id, anonymous_id, source, type, subtype, event_time FROM events
    WHERE session_id IS NOT NULL AND bot IS NULL
    UNION ALL
    SELECT key, mode, visitor || '#' || n, user_id, anonymous_id, source, type, subtype, event_time FROM numbered
)
SELECT key, mode, session_id, max(anonymous_id) AS anonymous_id, max(user_id) AS user_id,
       min(event_time) AS started_at, max(event_time) AS ended_at, count(*) AS events,
       sum(CASE WHEN type = 'pageview' AND (source <> 'segment' OR subtype IN ('home', 'page')) THEN 1 ELSE 0 END)
           AS pageviews,
       max(CASE WHEN type = 'order' AND subtype = 'completed' THEN 1 ELSE 0 END) AS ordered
FROM all_sessions GROUP BY key, mode, session_id;

DROP VIEW daily_funnel;
CREATE VIEW daily_funnel AS
SELECT key, mode, substr(event_time, 1, 10) AS day,
       count(DISTINCT CASE WHEN type = 'pageview' AND subtype = 'home' THEN visit END) AS home,
       count(DISTINCT CASE WHEN type = 'pageview' AND subtype = 'product' THEN visit END) AS product,
       count(DISTINCT CASE WHEN type = 'viewcart' THEN visit END) AS cart,
       count(DISTINCT CASE WHEN type = 'order' AND subtype = 'started' THEN visit END) AS checkout,
       count(DISTINCT CASE WHEN type = 'order' AND subtype = 'completed' THEN visit END) AS purchase
FROM (SELECT key, mode, type, subtype, event_time, coalesce(session_id, anonymous_id, user_id) AS visit
      FROM events WHERE source IN ('datacue', 'segment') AND bot IS NULL) AS steps
GROUP BY key, mode, substr(event_time, 1, 10);

DROP VIEW orders;
CREATE VIEW orders AS
WITH sides AS (
    SELECT key, mode, order_id,
           CASE WHEN subtype = 'cancelled' THEN 1 ELSE 0 END AS cancelled,
           CASE WHEN subtype = 'completed' THEN 1 ELSE 0 END AS completed,
           CASE WHEN subtype = 'completed' THEN revenue END AS revenue,
           CASE WHEN subtype = 'completed' THEN currency END AS currency,
           user_id, anonymous_id,
           CASE WHEN subtype = 'started' THEN event_time END AS started_at,
           CASE WHEN subtype = 'completed' THEN event_time END AS completed_at,
           CASE WHEN subtype = 'cancelled' THEN event_time END AS cancelled_at,
           0 AS from_backend
    FROM events WHERE source IN ('datacue', 'segment') AND type = 'order' AND order_id IS NOT NULL AND bot IS NULL
    UNION ALL
    SELECT key, mode, order_id,
           CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END,
           CASE WHEN has_lines THEN 1 ELSE 0 END,
           CASE WHEN has_lines THEN revenue END,
           CASE WHEN has_lines THEN currency END,
           user_id, NULL,
           NULL,
           CASE WHEN has_lines THEN coalesce(ordered_at, received_at) END,
           CASE WHEN status = 'cancelled' THEN received_at END,
           1
    FROM datacue_orders
)
SELECT key, mode, order_id,
       CASE WHEN max(cancelled) = 1 THEN 'cancelled'
            WHEN max(completed) = 1 THEN 'completed'
            ELSE 'started' END AS status,
       coalesce(max(CASE WHEN from_backend = 1 THEN revenue END), max(revenue)) AS revenue,
       coalesce(max(CASE WHEN from_backend = 1 THEN currency END), max(currency)) AS currency,
       max(user_id) AS user_id, max(anonymous_id) AS anonymous_id,
       min(started_at) AS started_at, min(completed_at) AS completed_at, min(cancelled_at) AS cancelled_at,
       CASE WHEN min(from_backend) = 1 THEN 'backend' WHEN max(from_backend) = 1 THEN 'both' ELSE 'browser' END AS sources
FROM sides
GROUP BY key, mode, order_id;

-- People as the shop knows them: DataCue's backend users, and the traits of Segment's identify calls
-- (each trait its latest value; RudderStack's context.traits are merged into traits at ingest). Where
-- both know a person, the backend's record wins and identify fills what it leaves empty.
CREATE VIEW users AS
WITH identified AS (
    SELECT key, mode, user_id, event_time,
           json_extract(payload, '$.traits.email') AS email,
           coalesce(json_extract(payload, '$.traits.firstName'), json_extract(payload, '$.traits.first_name')) AS first_name,
           coalesce(json_extract(payload, '$.traits.lastName'), json_extract(payload, '$.traits.last_name')) AS last_name,
           json_extract(payload, '$.traits.name') AS name,
           json_extract(payload, '$.traits.phone') AS phone
    FROM events WHERE source = 'segment' AND type = 'identify' AND user_id IS NOT NULL AND bot IS NULL
), latest AS (
    SELECT DISTINCT key, mode, user_id,
           first_value(email) OVER (PARTITION BY key, mode, user_id ORDER BY email IS NULL, event_time DESC) AS email,
           first_value(first_name) OVER (PARTITION BY key, mode, user_id ORDER BY first_name IS NULL, event_time DESC) AS first_name,
           first_value(last_name) OVER (PARTITION BY key, mode, user_id ORDER BY last_name IS NULL, event_time DESC) AS last_name,
           first_value(name) OVER (PARTITION BY key, mode, user_id ORDER BY name IS NULL, event_time DESC) AS name,
           first_value(phone) OVER (PARTITION BY key, mode, user_id ORDER BY phone IS NULL, event_time DESC) AS phone,
           max(event_time) OVER (PARTITION BY key, mode, user_id) AS updated_at
    FROM identified
), known AS (
    SELECT key, mode, user_id, email, first_name, last_name, NULL AS name, NULL AS phone, 'backend' AS source,
           received_at AS updated_at
    FROM datacue_users WHERE user_id IS NOT NULL
    UNION ALL
    SELECT key, mode, user_id, email, first_name, last_name, name, phone, 'segment', updated_at FROM latest
)
SELECT key, mode, user_id,
       coalesce(max(CASE WHEN source = 'backend' THEN email END), max(email)) AS email,
       coalesce(max(CASE WHEN source = 'backend' THEN first_name END), max(first_name)) AS first_name,
       coalesce(max(CASE WHEN source = 'backend' THEN last_name END), max(last_name)) AS last_name,
       max(name) AS name, max(phone) AS phone,
       CASE WHEN min(source) <> max(source) THEN 'both' ELSE min(source) END AS sources,
       max(updated_at) AS updated_at
FROM known GROUP BY key, mode, user_id;
