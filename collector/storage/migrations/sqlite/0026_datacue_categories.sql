-- DataCue's catalogue categories (the official PHP client from its 1.0.11 release), stored as the record
-- type `product-categories` (Cobi's Data API has a `categories` type of its own), and each product variant
-- with the categories its category_1 to category_4 name, joined to the category's name where it was sent.
CREATE VIEW datacue_product_categories AS
SELECT r.key,
       r.mode,
       json_extract(r.payload, '$.category_id') AS category_id,
       json_extract(r.payload, '$.name') AS name,
       json_extract(r.payload, '$.link') AS link,
       r.received_at,
       r.version_id
FROM records r WHERE r.type = 'product-categories' AND r.is_deleted = 0;

CREATE VIEW datacue_products_by_category AS
WITH levels AS (
    SELECT key, mode, product_id, variant_id, 1 AS level, category_1 AS category FROM datacue_products
    UNION ALL
    SELECT key, mode, product_id, variant_id, 2, category_2 FROM datacue_products
    UNION ALL
    SELECT key, mode, product_id, variant_id, 3, category_3 FROM datacue_products
    UNION ALL
    SELECT key, mode, product_id, variant_id, 4, category_4 FROM datacue_products
)
SELECT l.key, l.mode, l.product_id, l.variant_id, l.level, l.category, c.name AS category_name,
       c.link AS category_link
FROM levels l
LEFT JOIN datacue_product_categories c ON c.key = l.key AND c.mode = l.mode AND c.category_id = l.category
WHERE l.category IS NOT NULL;
