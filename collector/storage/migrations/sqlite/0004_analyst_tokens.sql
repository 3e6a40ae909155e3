-- Analyst tokens for the reports API and the dashboard. Only a SHA-256 of each token is kept: the
-- token itself is shown once, when it is created.
CREATE TABLE analyst_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
