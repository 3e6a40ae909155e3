-- An answer reads what its visitor did in one statement that never leaves the indexes: their product
-- views (with the product, bots left out) and their cart views and completed orders, newest first. And
-- each product's lists carry the pass that last changed them, as the catalogue's rows do, so that each
-- process keeps the lists it has read and reads again only what changed.

DROP INDEX events_product_views_anonymous;
DROP INDEX events_product_views_user;
CREATE INDEX events_product_views_anonymous ON events (key, mode, anonymous_id, id, product_id)
    WHERE type = 'pageview' AND subtype = 'product' AND bot IS NULL;
CREATE INDEX events_product_views_user ON events (key, mode, user_id, id, product_id)
    WHERE type = 'pageview' AND subtype = 'product' AND bot IS NULL;
CREATE INDEX events_baskets_anonymous ON events (key, mode, anonymous_id, id, type, subtype)
    WHERE type IN ('viewcart', 'order');
CREATE INDEX events_baskets_user ON events (key, mode, user_id, id, type, subtype)
    WHERE type IN ('viewcart', 'order');

ALTER TABLE rec_lists ADD COLUMN changed BIGINT NOT NULL DEFAULT 0;
CREATE INDEX rec_lists_changed ON rec_lists (key, mode, changed, product_id);
