-- The recommendation engine's tables (collector/recommendations/): kept up to date by the worker from the
-- events and records committed since its last pass, read by the answers to page views. Only the site's
-- own data, per key and mode; bots' events are never counted.

-- How far the upkeep has read each stream: `events` and `record_versions`, by their ids.
CREATE TABLE rec_progress (
    stream    TEXT PRIMARY KEY,
    position  INTEGER NOT NULL
);

-- Sites whose tables are to be rebuilt from their events and records (after `collector forget`, so that
-- a forgotten visitor is no longer counted in anyone's answers).
CREATE TABLE rec_rebuilds (
    key           TEXT PRIMARY KEY,
    requested_at  TEXT NOT NULL
);

-- Each order counted once, whichever side (browser, backend, Segment, import) reported it first.
CREATE TABLE rec_orders (
    key       TEXT NOT NULL,
    mode      TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    PRIMARY KEY (key, mode, order_id)
);

-- Per product: orders and views, each as a count and a weight with forward decay (recommendations/decay.py).
CREATE TABLE rec_items (
    key         TEXT NOT NULL,
    mode        TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    orders      INTEGER NOT NULL DEFAULT 0,
    bought      REAL NOT NULL DEFAULT 0,
    views       INTEGER NOT NULL DEFAULT 0,
    viewed      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (key, mode, product_id)
);

-- Per site and mode: every product's orders and views summed (the base rates the pairs are read against).
CREATE TABLE rec_totals (
    key      TEXT NOT NULL,
    mode     TEXT NOT NULL,
    orders   INTEGER NOT NULL DEFAULT 0,
    bought   REAL NOT NULL DEFAULT 0,
    latest   REAL NOT NULL DEFAULT 0,  -- the newest order's weight: decayed counts are read against it
    PRIMARY KEY (key, mode)
);

-- Per ordered pair of products: bought in one order (`bought`), or viewed one after the other in a visit
-- (`viewed`, weighted 1/gap over the last ten views); a count and a decayed weight. Both directions kept,
-- so a product's neighbours are one indexed range.
CREATE TABLE rec_pairs (
    key         TEXT NOT NULL,
    mode        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind = 'bought' OR kind = 'viewed'),
    product_id  TEXT NOT NULL,
    other_id    TEXT NOT NULL,
    n           INTEGER NOT NULL,
    weight      REAL NOT NULL,
    PRIMARY KEY (key, mode, kind, product_id, other_id)
);

-- Each product's neighbours, best first, as the answers read them (the top 50 of each kind): `bought`, the
-- products bought with it beyond chance (`lift`: how far the share of its orders that held the other
-- surely exceeds the other's base rate, `base`); `similar`, the products most like it (`lift`: the
-- likeness). Rewritten by the worker for the products whose orders or catalogue rows changed.
CREATE TABLE rec_neighbours (
    key         TEXT NOT NULL,
    mode        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind = 'bought' OR kind = 'similar'),
    product_id  TEXT NOT NULL,
    other_id    TEXT NOT NULL,
    lift        REAL NOT NULL,
    base        REAL NOT NULL,
    PRIMARY KEY (key, mode, kind, product_id, other_id)
);
CREATE INDEX rec_neighbours_read ON rec_neighbours (key, mode, kind, product_id, lift);

-- The products whose neighbours are due to be rewritten (a version, so a mark made while they are
-- worked out stays).
CREATE TABLE rec_dirty (
    key         TEXT NOT NULL,
    mode        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (key, mode, kind, product_id)
);

-- The catalogue as answers show it: one row per product (its best variant to offer), from DataCue's
-- backend records, else from what product pages reported (datacueConfig's product_update).
CREATE TABLE rec_products (
    key          TEXT NOT NULL,
    mode         TEXT NOT NULL,
    product_id   TEXT NOT NULL,
    variant_id   TEXT,
    name         TEXT,
    brand        TEXT,
    price        REAL,
    photo_url    TEXT,
    link         TEXT,
    category_1   TEXT,
    category_2   TEXT,
    category_3   TEXT,
    category_4   TEXT,
    extra        TEXT,            -- the record's `extra`, JSON
    offered      INTEGER NOT NULL, -- 1 when some variant is available and not out of stock
    source       TEXT NOT NULL,   -- 'backend' or 'browser'
    PRIMARY KEY (key, mode, product_id)
);
CREATE INDEX rec_products_category ON rec_products (key, mode, category_1, category_2, category_3, category_4);

-- The product views of a visitor, newest first: the recently viewed list reads them at once.
CREATE INDEX events_product_views_anonymous ON events (key, mode, anonymous_id, id)
    WHERE type = 'pageview' AND subtype = 'product';
CREATE INDEX events_product_views_user ON events (key, mode, user_id, id)
    WHERE type = 'pageview' AND subtype = 'product';

-- Best sellers and trending products, read in order.
CREATE INDEX rec_items_bought ON rec_items (key, mode, bought);
CREATE INDEX rec_items_viewed ON rec_items (key, mode, viewed);

-- Clicks on each banner (DataCue's click events of subtype banner), for the banners' click-through order.
CREATE TABLE rec_banners (
    key        TEXT NOT NULL,
    mode       TEXT NOT NULL,
    banner_id  TEXT NOT NULL,
    clicks     INTEGER NOT NULL,
    PRIMARY KEY (key, mode, banner_id)
);
