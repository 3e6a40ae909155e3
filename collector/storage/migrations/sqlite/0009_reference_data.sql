-- Secret server keys: the credentials of server-to-server APIs (Cobi's Data API, DataCue's backend).
-- The secret is kept because DataCue's client signs bodies with it (HMAC), so it must be known to check
-- them; collector query, exports and reports cannot read this table (see docs/schema.md).
CREATE TABLE server_keys (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL REFERENCES keys (key),
    prefix       TEXT NOT NULL,          -- what listings show: sk_live_ and four characters
    secret_hash  TEXT NOT NULL UNIQUE,   -- SHA-256 of the secret, to find it from a Bearer token
    secret       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX server_keys_key ON server_keys (key);

-- Reference data (shops, offers, customers, ...): every accepted version of every record, append-only,
-- with who sent it and when. A version identical to the current record is not added again.
CREATE TABLE record_versions (
    id           INTEGER PRIMARY KEY,
    version_id   TEXT NOT NULL UNIQUE,
    key          TEXT NOT NULL,
    mode         TEXT NOT NULL,
    type         TEXT NOT NULL,          -- the record type, as in the URL: shops, shop-tags, ...
    record_id    TEXT NOT NULL,
    updated      TEXT,                   -- the record's own updated time, ISO-8601 UTC
    is_deleted   INTEGER NOT NULL DEFAULT 0,
    source       TEXT NOT NULL,          -- the API family: cobi-data
    sent_by      INTEGER,                -- the server key that sent it (server_keys.id)
    request_id   TEXT NOT NULL,
    batch_id     TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    payload      TEXT NOT NULL
);
CREATE INDEX record_versions_record ON record_versions (key, type, record_id);

-- The current version of each record: the latest by its updated time (ties and records without one: the
-- later request). Deleted records stay here, marked, so a late older version cannot bring them back.
CREATE TABLE records (
    key          TEXT NOT NULL,
    mode         TEXT NOT NULL,
    type         TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    version_id   TEXT NOT NULL,
    updated      TEXT,
    is_deleted   INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL,
    payload      TEXT NOT NULL,
    PRIMARY KEY (key, type, record_id)
);

-- Whether an interaction's item and student were known reference records when it arrived (NULL for
-- DataCue events): Cobi interactions are accepted before the customers or items are uploaded.
ALTER TABLE events ADD COLUMN item_known INTEGER;
ALTER TABLE events ADD COLUMN student_known INTEGER;

-- One view per Cobi record type: the current, not deleted records, with typed columns.
CREATE VIEW cobi_customers AS
SELECT key,
       mode,
       json_extract(payload, '$.customer_id') AS customer_id,
       json_extract(payload, '$.user_id') AS user_id,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.birthdate') AS birthdate,
       json_extract(payload, '$.institute_id') AS institute_id,
       json_extract(payload, '$.course_id') AS course_id,
       json_extract(payload, '$.gender') AS gender,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'customers' AND is_deleted = 0;

CREATE VIEW cobi_transactions AS
SELECT key,
       mode,
       json_extract(payload, '$.transaction_id') AS transaction_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.savings') AS savings,
       json_extract(payload, '$.amount') AS amount,
       json_extract(payload, '$.student_id') AS student_id,
       json_extract(payload, '$.offer_id') AS offer_id,
       json_extract(payload, '$.branch_id') AS branch_id,
       json_extract(payload, '$.source') AS source,
       json_extract(payload, '$.discount_name') AS discount_name,
       json_extract(payload, '$.discount_type') AS discount_type,
       json_extract(payload, '$.discount_value') AS discount_value,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'transactions' AND is_deleted = 0;

CREATE VIEW cobi_offers AS
SELECT key,
       mode,
       json_extract(payload, '$.offer_id') AS offer_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.type') AS type,
       json_extract(payload, '$.value') AS value,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.allowed_from') AS allowed_from,
       json_extract(payload, '$.allowed_to') AS allowed_to,
       json_extract(payload, '$.allowed_branches') AS allowed_branches,
       json_extract(payload, '$.allowed_days') AS allowed_days,
       json_extract(payload, '$.is_enabled') AS is_enabled,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'offers' AND is_deleted = 0;

CREATE VIEW cobi_shops AS
SELECT key,
       mode,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.is_public') AS is_public,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shops' AND is_deleted = 0;

CREATE VIEW cobi_branches AS
SELECT key,
       mode,
       json_extract(payload, '$.branch_id') AS branch_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.latitude') AS latitude,
       json_extract(payload, '$.longitude') AS longitude,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'branches' AND is_deleted = 0;

CREATE VIEW cobi_categories AS
SELECT key,
       mode,
       json_extract(payload, '$.category_id') AS category_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'categories' AND is_deleted = 0;

CREATE VIEW cobi_shop_categories AS
SELECT key,
       mode,
       json_extract(payload, '$.shop_category_id') AS shop_category_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.category_id') AS category_id,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shop-categories' AND is_deleted = 0;

CREATE VIEW cobi_institutes AS
SELECT key,
       mode,
       json_extract(payload, '$.institute_id') AS institute_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.region') AS region,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'institutes' AND is_deleted = 0;

CREATE VIEW cobi_courses AS
SELECT key,
       mode,
       json_extract(payload, '$.course_id') AS course_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'courses' AND is_deleted = 0;

CREATE VIEW cobi_tags AS
SELECT key,
       mode,
       json_extract(payload, '$.tag_id') AS tag_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'tags' AND is_deleted = 0;

CREATE VIEW cobi_shop_tags AS
SELECT key,
       mode,
       json_extract(payload, '$.shop_tag_id') AS shop_tag_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.tag_id') AS tag_id,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shop-tags' AND is_deleted = 0;

CREATE VIEW cobi_keywords AS
SELECT key,
       mode,
       json_extract(payload, '$.keyword_id') AS keyword_id,
       json_extract(payload, '$.name') AS name,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'keywords' AND is_deleted = 0;

CREATE VIEW cobi_shop_keywords AS
SELECT key,
       mode,
       json_extract(payload, '$.shop_keyword_id') AS shop_keyword_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.keyword_id') AS keyword_id,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shop-keywords' AND is_deleted = 0;

CREATE VIEW cobi_student_favourites AS
SELECT key,
       mode,
       json_extract(payload, '$.favourite_id') AS favourite_id,
       json_extract(payload, '$.student_id') AS student_id,
       json_extract(payload, '$.shop_id') AS shop_id,
       json_extract(payload, '$.created') AS created,
       json_extract(payload, '$.updated') AS updated,
       received_at,
       version_id
FROM records WHERE type = 'student-favourites' AND is_deleted = 0;

-- Every Cobi item an interaction can name (TAG, OFFER, SHOP, KEYWORD), with its name.
CREATE VIEW cobi_items AS
SELECT key, mode, CASE type WHEN 'tags' THEN 'TAG' WHEN 'offers' THEN 'OFFER' WHEN 'shops' THEN 'SHOP'
                            ELSE 'KEYWORD' END AS item_type,
       record_id AS item_id, json_extract(payload, '$.name') AS name, json_extract(payload, '$.shop_id') AS shop_id
FROM records WHERE type IN ('tags', 'offers', 'shops', 'keywords') AND is_deleted = 0;

-- Interactions with what is known of their item, and whether item and student were known on arrival.
DROP VIEW interactions;
CREATE VIEW interactions AS
SELECT e.id, e.event_id, e.key, e.mode, e.interaction_type, e.item_type, e.item_id, i.name AS item_name,
       e.user_id, e.anonymous_id, e.student_id, e.session_id, e.platform, e.city, e.country, e.item_known,
       e.student_known, e.event_time
FROM events e LEFT JOIN cobi_items i ON i.key = e.key AND i.item_type = e.item_type AND i.item_id = e.item_id
WHERE e.type = 'interaction' AND e.source = 'cobi';
