-- collector: rebuilds tables
-- Forward target kinds are checked in code (the registry, collector/forward/targets/), not by a CHECK
-- constraint, so that a new kind needs no migration. SQLite cannot drop a constraint in place: the
-- table is rebuilt with the same rows and ids (the migration runs with foreign keys off and checks
-- them before it commits, as SQLite's ALTER TABLE documentation prescribes).
CREATE TABLE forward_targets_rebuilt (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL REFERENCES keys (key),
    kind        TEXT NOT NULL,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);
INSERT INTO forward_targets_rebuilt (id, key, kind, url, secret, created_at, removed_at)
    SELECT id, key, kind, url, secret, created_at, removed_at FROM forward_targets;
DROP TABLE forward_targets;
ALTER TABLE forward_targets_rebuilt RENAME TO forward_targets;
CREATE INDEX forward_targets_key ON forward_targets (key);
