-- The sites (publishable keys) an analyst token may read: a JSON list of keys; NULL: every site.
ALTER TABLE analyst_tokens ADD COLUMN sites TEXT;
