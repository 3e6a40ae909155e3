-- What the event's user agent says, read once at ingest (collector/agents.py): the browser and its
-- version (major.minor), the operating system and its version, the device class (Desktop, Mobile, Tablet),
-- and, for a bot (a crawler, a headless browser, an HTTP library or a tool such as curl), why it is one.
-- Bots are stored like any event; the analysts' views and reports leave them out, and `collector report
-- bots` counts them.
ALTER TABLE events ADD COLUMN browser TEXT;
ALTER TABLE events ADD COLUMN browser_version TEXT;
ALTER TABLE events ADD COLUMN os TEXT;
ALTER TABLE events ADD COLUMN os_version TEXT;
ALTER TABLE events ADD COLUMN device TEXT;
ALTER TABLE events ADD COLUMN bot TEXT;

-- The covering indexes the reports read carry `bot` too, so that leaving bots out reads no row.
DROP INDEX events_report;
CREATE INDEX events_report ON events (type, mode, event_time) INCLUDE (subtype, source, key, session_id,
    anonymous_id, user_id, product_id, banner_id, term, item_type, item_id, interaction_type, bot);
DROP INDEX events_session;
CREATE INDEX events_session ON events (session_id, event_time) INCLUDE (type, subtype, source, key, bot);

-- The analysts' views are of people: every view over events leaves bots out (the events table keeps
-- them, with `bot` set; `collector report bots` counts them).
CREATE OR REPLACE VIEW pageviews AS
SELECT id, event_id, key, mode, subtype AS page_type, user_id, anonymous_id, session_id, product_id,
       variant_id, category_id, category_name, page_url, referrer, event_time
FROM events WHERE source = 'datacue' AND type = 'pageview' AND bot IS NULL;

CREATE OR REPLACE VIEW product_views AS
SELECT id, event_id, key, mode, user_id, anonymous_id, session_id, product_id, variant_id, page_url, event_time
FROM events WHERE source = 'datacue' AND type = 'pageview' AND subtype = 'product' AND bot IS NULL;

CREATE OR REPLACE VIEW searches AS
SELECT id, event_id, key, mode, user_id, anonymous_id, session_id, term, page_url, event_time
FROM events WHERE source = 'datacue' AND type = 'search' AND bot IS NULL;

CREATE OR REPLACE VIEW carts AS
SELECT e.id, e.event_id, e.key, e.mode, e.user_id, e.anonymous_id, e.session_id, e.event_time,
       (SELECT count(*) FROM event_lines l WHERE l.event_pk = e.id) AS lines,
       (SELECT coalesce(sum(coalesce(l.quantity, 1)), 0) FROM event_lines l WHERE l.event_pk = e.id) AS items
FROM events e WHERE e.source = 'datacue' AND e.type = 'viewcart' AND e.bot IS NULL;

CREATE OR REPLACE VIEW order_lines AS
SELECT e.key, e.mode, e.order_id, e.event_id, l.line_no, l.product_id, l.variant_id, l.quantity, l.unit_price,
       l.currency, e.event_time
FROM event_lines l JOIN events e ON e.id = l.event_pk
WHERE e.source = 'datacue' AND e.type = 'order' AND e.subtype = 'completed' AND e.bot IS NULL;

CREATE OR REPLACE VIEW sessions AS
WITH visits AS (
    SELECT key, mode, user_id, anonymous_id, type, subtype, event_time, session_id,
           coalesce(anonymous_id, user_id) AS visitor,
           lag(event_time) OVER (PARTITION BY key, mode, coalesce(anonymous_id, user_id)
                                 ORDER BY event_time) AS previous
    FROM events WHERE session_id IS NULL AND bot IS NULL
), numbered AS (
    SELECT *, sum(CASE WHEN previous IS NULL OR extract(epoch FROM CAST(event_time AS timestamptz) - CAST(previous AS timestamptz)) > 1800
                       THEN 1 ELSE 0 END)
                  OVER (PARTITION BY key, mode, visitor ORDER BY event_time ROWS UNBOUNDED PRECEDING) AS n
    FROM visits
), all_sessions AS (
    SELECT key, mode, session_id, user_id, anonymous_id, type, subtype, event_time FROM events
    WHERE session_id IS NOT NULL AND bot IS NULL
    UNION ALL
    SELECT key, mode, visitor || '#' || n, user_id, anonymous_id, type, subtype, event_time FROM numbered
)
SELECT key, mode, session_id, max(anonymous_id) AS anonymous_id, max(user_id) AS user_id,
       min(event_time) AS started_at, max(event_time) AS ended_at, count(*) AS events,
       sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) AS pageviews,
       max(CASE WHEN type = 'order' AND subtype = 'completed' THEN 1 ELSE 0 END) AS ordered
FROM all_sessions GROUP BY key, mode, session_id;

CREATE OR REPLACE VIEW daily_funnel AS
SELECT key, mode, substr(event_time, 1, 10) AS day,
       count(DISTINCT CASE WHEN type = 'pageview' AND subtype = 'home' THEN visit END) AS home,
       count(DISTINCT CASE WHEN type = 'pageview' AND subtype = 'product' THEN visit END) AS product,
       count(DISTINCT CASE WHEN type = 'viewcart' THEN visit END) AS cart,
       count(DISTINCT CASE WHEN type = 'order' AND subtype = 'started' THEN visit END) AS checkout,
       count(DISTINCT CASE WHEN type = 'order' AND subtype = 'completed' THEN visit END) AS purchase
FROM (SELECT key, mode, type, subtype, event_time, coalesce(session_id, anonymous_id, user_id) AS visit
      FROM events WHERE source = 'datacue' AND bot IS NULL) AS steps
GROUP BY key, mode, substr(event_time, 1, 10);

CREATE OR REPLACE VIEW interactions AS
SELECT e.id, e.event_id, e.key, e.mode, e.interaction_type, e.item_type, e.item_id, i.name AS item_name,
       e.user_id, e.anonymous_id, e.student_id, e.session_id, e.platform, e.city, e.country, e.item_known,
       e.student_known, e.event_time
FROM events e LEFT JOIN cobi_items i ON i.key = e.key AND i.item_type = e.item_type AND i.item_id = e.item_id
WHERE e.type = 'interaction' AND e.source = 'cobi' AND e.bot IS NULL;

CREATE OR REPLACE VIEW orders AS
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
    FROM events WHERE source = 'datacue' AND type = 'order' AND order_id IS NOT NULL AND bot IS NULL
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
