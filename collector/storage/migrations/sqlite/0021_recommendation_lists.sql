-- Each product's lists in one row an answer reads at once, in place of rec_neighbours' rows (an answer
-- read some fifty rows per list and sorted every co-view of the product; it now reads one row). The
-- catalogue's rows carry the pass that last changed them, so each process keeps the catalogue and reads
-- again only what changed. Every list is worked out again by the worker from the counts already kept.

-- Per product, best first: `bought`, the products bought with it beyond chance ([other, lift, base], the
-- top 50; `sold` is 1 once the product was bought at all); `viewed`, the products viewed next to it in
-- visits ([other, weight], the top 50); `alike`, the products most like it ([other], the top 50).
CREATE TABLE rec_lists (
    key         TEXT NOT NULL,
    mode        TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    sold        INTEGER NOT NULL DEFAULT 0,
    bought      TEXT NOT NULL DEFAULT '[]',
    viewed      TEXT NOT NULL DEFAULT '[]',
    alike       TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (key, mode, product_id)
);
DROP TABLE rec_neighbours;

-- When a mark is due (seconds since 1970): at once for an order or a catalogue change, a minute after
-- the first of a run of views (a product viewed without pause gets its co-viewed list once a minute).
ALTER TABLE rec_dirty ADD COLUMN due REAL NOT NULL DEFAULT 0;
CREATE INDEX rec_dirty_due ON rec_dirty (due);

-- The upkeep pass that last changed the row (1, 2, ... across the store).
ALTER TABLE rec_products ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX rec_products_changed ON rec_products (key, mode, changed);

DELETE FROM rec_dirty;
INSERT INTO rec_dirty (key, mode, kind, product_id, version, due)
SELECT key, mode, 'bought', product_id, 1, 0 FROM rec_items WHERE orders > 0
UNION ALL SELECT key, mode, 'viewed', product_id, 1, 0 FROM rec_items WHERE views > 0
UNION ALL SELECT key, mode, 'similar', product_id, 1, 0 FROM rec_products;

-- A site's own list lengths over the collector's RECOMMENDATION_LENGTHS (JSON: the lists it names), set
-- with `collector recommendations lengths`.
CREATE TABLE rec_sites (
    key      TEXT PRIMARY KEY,
    lengths  TEXT NOT NULL
);
