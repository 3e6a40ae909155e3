-- People erased with `collector forget --suppress`: later events carrying one of these ids are
-- not stored. Only a SHA-256 of the id is kept, so the list does not itself name anyone.
CREATE TABLE suppressed (
    id_hash     TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('user_id', 'anonymous_id')),
    created_at  TEXT NOT NULL
);
-- prune deletes finished outbox rows by age.
CREATE INDEX outbox_created ON outbox (created_at);
