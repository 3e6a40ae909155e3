-- Views for analysts: one short query per common question. Every view carries `key` and `mode`, and
-- the aggregated ones group by them, so live and test data never mix unless a query asks for it.

CREATE VIEW pageviews AS
SELECT id, event_id, key, mode, subtype AS page_type, user_id, anonymous_id, session_id, product_id,
       variant_id, category_id, category_name, page_url, referrer, event_time
FROM events WHERE source = 'datacue' AND type = 'pageview';

CREATE VIEW product_views AS
SELECT id, event_id, key, mode, user_id, anonymous_id, session_id, product_id, variant_id, page_url, event_time
FROM events WHERE source = 'datacue' AND type = 'pageview' AND subtype = 'product';

CREATE VIEW searches AS
SELECT id, event_id, key, mode, user_id, anonymous_id, session_id, term, page_url, event_time
FROM events WHERE source = 'datacue' AND type = 'search';

CREATE VIEW carts AS
SELECT e.id, e.event_id, e.key, e.mode, e.user_id, e.anonymous_id, e.session_id, e.event_time,
       (SELECT count(*) FROM event_lines l WHERE l.event_pk = e.id) AS lines,
       (SELECT coalesce(sum(coalesce(l.quantity, 1)), 0) FROM event_lines l WHERE l.event_pk = e.id) AS items
FROM events e WHERE e.source = 'datacue' AND e.type = 'viewcart';

-- One row per order id: its state after any cancellation, and the completed order's revenue.
CREATE VIEW orders AS
SELECT key, mode, order_id,
       CASE WHEN max(CASE WHEN subtype = 'cancelled' THEN 1 ELSE 0 END) = 1 THEN 'cancelled'
            WHEN max(CASE WHEN subtype = 'completed' THEN 1 ELSE 0 END) = 1 THEN 'completed'
            ELSE 'started' END AS status,
       max(CASE WHEN subtype = 'completed' THEN revenue END) AS revenue,
       max(CASE WHEN subtype = 'completed' THEN currency END) AS currency,
       max(user_id) AS user_id, max(anonymous_id) AS anonymous_id,
       min(CASE WHEN subtype = 'started' THEN event_time END) AS started_at,
       min(CASE WHEN subtype = 'completed' THEN event_time END) AS completed_at,
       min(CASE WHEN subtype = 'cancelled' THEN event_time END) AS cancelled_at
FROM events WHERE source = 'datacue' AND type = 'order' AND order_id IS NOT NULL
GROUP BY key, mode, order_id;

CREATE VIEW order_lines AS
SELECT e.key, e.mode, e.order_id, e.event_id, l.line_no, l.product_id, l.variant_id, l.quantity, l.unit_price,
       l.currency, e.event_time
FROM event_lines l JOIN events e ON e.id = l.event_pk
WHERE e.source = 'datacue' AND e.type = 'order' AND e.subtype = 'completed';

CREATE VIEW interactions AS
SELECT id, event_id, key, mode, interaction_type, item_type, item_id, user_id, anonymous_id, student_id,
       session_id, platform, city, country, event_time
FROM events WHERE source = 'cobi';

-- Sessions: the tracker's session id where there is one; otherwise a visitor's events less than 30
-- minutes apart.
CREATE VIEW sessions AS
WITH visits AS (
    SELECT key, mode, user_id, anonymous_id, type, subtype, event_time, session_id,
           coalesce(anonymous_id, user_id) AS visitor,
           lag(event_time) OVER (PARTITION BY key, mode, coalesce(anonymous_id, user_id)
                                 ORDER BY event_time) AS previous
    FROM events WHERE session_id IS NULL
), numbered AS (
    SELECT *, sum(CASE WHEN previous IS NULL OR (julianday(event_time) - julianday(previous)) * 86400 > 1800
                       THEN 1 ELSE 0 END)
                  OVER (PARTITION BY key, mode, visitor ORDER BY event_time ROWS UNBOUNDED PRECEDING) AS n
    FROM visits
), all_sessions AS (
    SELECT key, mode, session_id, user_id, anonymous_id, type, subtype, event_time FROM events
    WHERE session_id IS NOT NULL
    UNION ALL
    SELECT key, mode, visitor || '#' || n, user_id, anonymous_id, type, subtype, event_time FROM numbered
)
SELECT key, mode, session_id, max(anonymous_id) AS anonymous_id, max(user_id) AS user_id,
       min(event_time) AS started_at, max(event_time) AS ended_at, count(*) AS events,
       sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END) AS pageviews,
       max(CASE WHEN type = 'order' AND subtype = 'completed' THEN 1 ELSE 0 END) AS ordered
FROM all_sessions GROUP BY key, mode, session_id;

-- Who an anonymous visitor turned out to be: pairs seen on the same event.
CREATE VIEW identities AS
SELECT key, mode, anonymous_id, user_id, min(event_time) AS first_seen, max(event_time) AS last_seen,
       count(*) AS events
FROM events WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL
GROUP BY key, mode, anonymous_id, user_id;

-- Per day (UTC): how many sessions reached each step of the funnel.
CREATE VIEW daily_funnel AS
SELECT key, mode, substr(event_time, 1, 10) AS day,
       count(DISTINCT CASE WHEN type = 'pageview' AND subtype = 'home' THEN visit END) AS home,
       count(DISTINCT CASE WHEN type = 'pageview' AND subtype = 'product' THEN visit END) AS product,
       count(DISTINCT CASE WHEN type = 'viewcart' THEN visit END) AS cart,
       count(DISTINCT CASE WHEN type = 'order' AND subtype = 'started' THEN visit END) AS checkout,
       count(DISTINCT CASE WHEN type = 'order' AND subtype = 'completed' THEN visit END) AS purchase
FROM (SELECT key, mode, type, subtype, event_time, coalesce(session_id, anonymous_id, user_id) AS visit
      FROM events WHERE source = 'datacue') AS steps
GROUP BY key, mode, substr(event_time, 1, 10);
