-- Secret server keys: the credentials of server-to-server APIs (Cobi's Data API, DataCue's backend).
-- The secret is kept because DataCue's client signs bodies with it (HMAC), so it must be known to check
-- them; collector query, exports and reports cannot read this table (see docs/schema.md).
CREATE TABLE server_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    payload      JSONB NOT NULL
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
    payload      JSONB NOT NULL,
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
       payload->>'customer_id' AS customer_id,
       payload->>'user_id' AS user_id,
       payload->>'region' AS region,
       payload->>'birthdate' AS birthdate,
       payload->>'institute_id' AS institute_id,
       payload->>'course_id' AS course_id,
       payload->>'gender' AS gender,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'customers' AND is_deleted = 0;

CREATE VIEW cobi_transactions AS
SELECT key,
       mode,
       payload->>'transaction_id' AS transaction_id,
       payload->>'shop_id' AS shop_id,
       payload->>'region' AS region,
       (payload->>'savings')::double precision AS savings,
       (payload->>'amount')::double precision AS amount,
       payload->>'student_id' AS student_id,
       payload->>'offer_id' AS offer_id,
       payload->>'branch_id' AS branch_id,
       payload->>'source' AS source,
       payload->>'discount_name' AS discount_name,
       payload->>'discount_type' AS discount_type,
       (payload->>'discount_value')::double precision AS discount_value,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'transactions' AND is_deleted = 0;

CREATE VIEW cobi_offers AS
SELECT key,
       mode,
       payload->>'offer_id' AS offer_id,
       payload->>'shop_id' AS shop_id,
       payload->>'name' AS name,
       payload->>'type' AS type,
       (payload->>'value')::double precision AS value,
       payload->>'region' AS region,
       payload->>'allowed_from' AS allowed_from,
       payload->>'allowed_to' AS allowed_to,
       payload->>'allowed_branches' AS allowed_branches,
       payload->>'allowed_days' AS allowed_days,
       (payload->>'is_enabled')::boolean AS is_enabled,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'offers' AND is_deleted = 0;

CREATE VIEW cobi_shops AS
SELECT key,
       mode,
       payload->>'shop_id' AS shop_id,
       payload->>'name' AS name,
       payload->>'region' AS region,
       (payload->>'is_public')::boolean AS is_public,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shops' AND is_deleted = 0;

CREATE VIEW cobi_branches AS
SELECT key,
       mode,
       payload->>'branch_id' AS branch_id,
       payload->>'shop_id' AS shop_id,
       payload->>'name' AS name,
       payload->>'region' AS region,
       (payload->>'latitude')::double precision AS latitude,
       (payload->>'longitude')::double precision AS longitude,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'branches' AND is_deleted = 0;

CREATE VIEW cobi_categories AS
SELECT key,
       mode,
       payload->>'category_id' AS category_id,
       payload->>'name' AS name,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'categories' AND is_deleted = 0;

CREATE VIEW cobi_shop_categories AS
SELECT key,
       mode,
       payload->>'shop_category_id' AS shop_category_id,
       payload->>'shop_id' AS shop_id,
       payload->>'category_id' AS category_id,
       payload->>'region' AS region,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shop-categories' AND is_deleted = 0;

CREATE VIEW cobi_institutes AS
SELECT key,
       mode,
       payload->>'institute_id' AS institute_id,
       payload->>'name' AS name,
       payload->>'region' AS region,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'institutes' AND is_deleted = 0;

CREATE VIEW cobi_courses AS
SELECT key,
       mode,
       payload->>'course_id' AS course_id,
       payload->>'name' AS name,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'courses' AND is_deleted = 0;

CREATE VIEW cobi_tags AS
SELECT key,
       mode,
       payload->>'tag_id' AS tag_id,
       payload->>'name' AS name,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'tags' AND is_deleted = 0;

CREATE VIEW cobi_shop_tags AS
SELECT key,
       mode,
       payload->>'shop_tag_id' AS shop_tag_id,
       payload->>'shop_id' AS shop_id,
       payload->>'tag_id' AS tag_id,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shop-tags' AND is_deleted = 0;

CREATE VIEW cobi_keywords AS
SELECT key,
       mode,
       payload->>'keyword_id' AS keyword_id,
       payload->>'name' AS name,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'keywords' AND is_deleted = 0;

CREATE VIEW cobi_shop_keywords AS
SELECT key,
       mode,
       payload->>'shop_keyword_id' AS shop_keyword_id,
       payload->>'shop_id' AS shop_id,
       payload->>'keyword_id' AS keyword_id,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'shop-keywords' AND is_deleted = 0;

CREATE VIEW cobi_student_favourites AS
SELECT key,
       mode,
       payload->>'favourite_id' AS favourite_id,
       payload->>'student_id' AS student_id,
       payload->>'shop_id' AS shop_id,
       payload->>'created' AS created,
       payload->>'updated' AS updated,
       received_at,
       version_id
FROM records WHERE type = 'student-favourites' AND is_deleted = 0;

-- Every Cobi item an interaction can name (TAG, OFFER, SHOP, KEYWORD), with its name.
CREATE VIEW cobi_items AS
SELECT key, mode, CASE type WHEN 'tags' THEN 'TAG' WHEN 'offers' THEN 'OFFER' WHEN 'shops' THEN 'SHOP'
                            ELSE 'KEYWORD' END AS item_type,
       record_id AS item_id, payload->>'name' AS name, payload->>'shop_id' AS shop_id
FROM records WHERE type IN ('tags', 'offers', 'shops', 'keywords') AND is_deleted = 0;

-- Interactions with what is known of their item, and whether item and student were known on arrival.
-- (CREATE OR REPLACE cannot insert a column in the middle: the view is made again.)
DROP VIEW interactions;
CREATE VIEW interactions AS
SELECT e.id, e.event_id, e.key, e.mode, e.interaction_type, e.item_type, e.item_id, i.name AS item_name,
       e.user_id, e.anonymous_id, e.student_id, e.session_id, e.platform, e.city, e.country, e.item_known,
       e.student_known, e.event_time
FROM events e LEFT JOIN cobi_items i ON i.key = e.key AND i.item_type = e.item_type AND i.item_id = e.item_id
WHERE e.type = 'interaction' AND e.source = 'cobi';
