-- A page view is the event a page sent as it loaded, whatever its type: the tracker marks it (`page_load`,
-- from the event's context.page_load), so a cart page's viewcart, a search page's search or a checkout's
-- order counts as that page's view, as Plausible counts every page load. Events without the mark count as
-- before: pageview events, Segment's page calls (collector/analytics/visits.py holds the rule).
ALTER TABLE events ADD COLUMN page_load INTEGER;

DROP VIEW pageviews;
CREATE VIEW pageviews AS
SELECT id, event_id, key, mode,
       CASE WHEN type = 'pageview' THEN subtype WHEN subtype IS NULL THEN type ELSE type || '_' || subtype END
           AS page_type,
       user_id, anonymous_id, session_id, product_id, variant_id, category_id, category_name, page_url, referrer,
       event_time
FROM events WHERE (page_load = 1 OR type = 'pageview' AND (source = 'datacue' OR (source = 'segment' AND subtype IN ('home', 'page'))))
      AND bot IS NULL;

DROP VIEW sessions;
CREATE VIEW sessions AS
WITH visits AS (
    SELECT key, mode, user_id, anonymous_id, source, type, subtype, page_load, event_time, session_id,
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
    SELECT key, mode, session_id, user_id, anonymous_id, source, type, subtype, page_load, event_time FROM events
    WHERE session_id IS NOT NULL AND bot IS NULL
    UNION ALL
    SELECT key, mode, visitor || '#' || n, user_id, anonymous_id, source, type, subtype, page_load, event_time
    FROM numbered
)
SELECT key, mode, session_id, max(anonymous_id) AS anonymous_id, max(user_id) AS user_id,
       min(event_time) AS started_at, max(event_time) AS ended_at, count(*) AS events,
       sum(CASE WHEN page_load = 1 OR type = 'pageview' AND (source <> 'segment' OR subtype IN ('home', 'page'))
                THEN 1 ELSE 0 END) AS pageviews,
       max(CASE WHEN type = 'order' AND subtype = 'completed' THEN 1 ELSE 0 END) AS ordered
FROM all_sessions GROUP BY key, mode, session_id;
