-- DataCue's backend records (products per variant, banners, users, orders) as typed views of the current,
-- not deleted records; and one orders view over both sides: an order the browser reported and the shop's
-- backend sent is one order (key, order_id), cancelled when either side cancelled it.
CREATE VIEW datacue_products AS
SELECT r.key,
       r.mode,
       json_extract(r.payload, '$.product_id') AS product_id,
       json_extract(r.payload, '$.variant_id') AS variant_id,
       json_extract(r.payload, '$.name') AS name,
       json_extract(r.payload, '$.brand') AS brand,
       json_extract(r.payload, '$.price') AS price,
       json_extract(r.payload, '$.full_price') AS full_price,
       json_extract(r.payload, '$.category_1') AS category_1,
       json_extract(r.payload, '$.category_2') AS category_2,
       json_extract(r.payload, '$.category_3') AS category_3,
       json_extract(r.payload, '$.category_4') AS category_4,
       json_extract(r.payload, '$.stock') AS stock,
       json_extract(r.payload, '$.available') AS available,
       json_extract(r.payload, '$.color') AS color,
       json_extract(r.payload, '$.size') AS size,
       json_extract(r.payload, '$.photo_url') AS photo_url,
       json_extract(r.payload, '$.link') AS link,
       json_extract(r.payload, '$.owner_id') AS owner_id,
       r.received_at,
       r.version_id
FROM records r WHERE r.type = 'products' AND r.is_deleted = 0;

CREATE VIEW datacue_banners AS
SELECT r.key,
       r.mode,
       json_extract(r.payload, '$.banner_id') AS banner_id,
       json_extract(r.payload, '$.type') AS banner_type,
       json_extract(r.payload, '$.name') AS name,
       json_extract(r.payload, '$.category_1') AS category_1,
       json_extract(r.payload, '$.category_2') AS category_2,
       json_extract(r.payload, '$.category_3') AS category_3,
       json_extract(r.payload, '$.category_4') AS category_4,
       json_extract(r.payload, '$.photo_url') AS photo_url,
       json_extract(r.payload, '$.link') AS link,
       r.received_at,
       r.version_id
FROM records r WHERE r.type = 'banners' AND r.is_deleted = 0;

CREATE VIEW datacue_users AS
SELECT r.key,
       r.mode,
       json_extract(r.payload, '$.user_id') AS user_id,
       json_extract(r.payload, '$.email') AS email,
       json_extract(r.payload, '$.title') AS title,
       json_extract(r.payload, '$.first_name') AS first_name,
       json_extract(r.payload, '$.last_name') AS last_name,
       json_extract(r.payload, '$.email_subscriber') AS email_subscriber,
       json_extract(r.payload, '$.timestamp') AS signed_up_at,
       json_extract(r.payload, '$.profile.sex') AS sex,
       json_extract(r.payload, '$.profile.location') AS location,
       json_extract(r.payload, '$.profile.segment') AS segment,
       r.received_at,
       r.version_id
FROM records r WHERE r.type = 'users' AND r.is_deleted = 0;

CREATE VIEW datacue_orders AS
SELECT r.key,
       r.mode,
       json_extract(r.payload, '$.order_id') AS order_id,
       json_extract(r.payload, '$.user_id') AS user_id,
       json_extract(r.payload, '$.order_status') AS status,
       json_extract(r.payload, '$.timestamp') AS ordered_at,
       (SELECT CASE WHEN count(*) > 0 AND count(*) = count(json_extract(l.value, '$.unit_price')) AND count(DISTINCT json_extract(l.value, '$.currency')) <= 1 THEN sum(json_extract(l.value, '$.unit_price') * coalesce(json_extract(l.value, '$.quantity'), 1)) END FROM json_each(r.payload, '$.cart') l) AS revenue,
       (SELECT CASE WHEN count(DISTINCT json_extract(l.value, '$.currency')) = 1 THEN max(json_extract(l.value, '$.currency')) END FROM json_each(r.payload, '$.cart') l) AS currency,
       coalesce(json_array_length(r.payload, '$.cart'), 0) > 0 AS has_lines,
       r.received_at,
       r.version_id
FROM records r WHERE r.type = 'orders' AND r.is_deleted = 0;

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
    FROM events WHERE source = 'datacue' AND type = 'order' AND order_id IS NOT NULL
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

-- The product and category pages that report names (datacueConfig's product_update, category_update):
-- partial indexes, so the views below read only those pages, and a shop whose pages report none pays
-- nothing at ingest or in its reports. The views repeat these WHERE terms so that the planner uses them.
CREATE INDEX events_product_updates ON events (key, mode, product_id, event_time)
    WHERE type = 'pageview' AND subtype = 'product' AND instr(payload, '"product_update"') > 0;
CREATE INDEX events_category_updates ON events (key, mode, category_id, event_time)
    WHERE type = 'pageview' AND subtype = 'category' AND instr(payload, '"category_update"') > 0;

-- One row per product a site sells: the backend's record where DataCue's backend API sent one (the first
-- variant's name, brand and price), else what the latest product page reported in datacueConfig's
-- product_update (source 'browser'), for a shop that sends no catalogue.
CREATE VIEW catalogue AS
WITH backend AS (
    SELECT key, mode, product_id, min(name) AS name, min(brand) AS brand, min(price) AS price,
           min(category_1) AS category
    FROM datacue_products GROUP BY key, mode, product_id
), reported AS (
    SELECT key, mode, product_id,
           json_extract(payload, '$.event.product_update[0].name') AS name,
           json_extract(payload, '$.event.product_update[0].brand') AS brand,
           CASE WHEN json_type(payload, '$.event.product_update[0].price') IN ('integer', 'real')
                THEN json_extract(payload, '$.event.product_update[0].price') END AS price,
           json_extract(payload, '$.event.product_update[0].category_ids[0]') AS category,
           row_number() OVER (PARTITION BY key, mode, product_id ORDER BY event_time DESC, id DESC) AS n
    FROM events WHERE type = 'pageview' AND subtype = 'product' AND instr(payload, '"product_update"') > 0
      AND source = 'datacue' AND json_type(payload, '$.event.product_update[0]') = 'object'
)
SELECT key, mode, product_id, name, brand, price, category, 'backend' AS source FROM backend
UNION ALL
SELECT r.key, r.mode, r.product_id, r.name, r.brand, r.price, r.category, 'browser' FROM reported r
WHERE r.n = 1 AND NOT EXISTS (SELECT 1 FROM backend b WHERE b.key = r.key AND b.product_id = r.product_id);

-- Category names as category pages report them in datacueConfig's category_update (DataCue's backend
-- API of this period has no categories): the latest per site and category id.
CREATE VIEW categories AS
SELECT key, mode, category_id, name, link, 'browser' AS source FROM (
    SELECT key, mode, category_id,
           json_extract(payload, '$.event.category_update.name') AS name,
           json_extract(payload, '$.event.category_update.link') AS link,
           row_number() OVER (PARTITION BY key, mode, category_id ORDER BY event_time DESC, id DESC) AS n
    FROM events WHERE type = 'pageview' AND subtype = 'category' AND instr(payload, '"category_update"') > 0
      AND source = 'datacue' AND category_id IS NOT NULL AND json_type(payload, '$.event.category_update') = 'object'
) AS reported WHERE n = 1;
