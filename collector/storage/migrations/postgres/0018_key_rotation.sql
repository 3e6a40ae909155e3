-- Key rotation. A rotated key's successor is a row of its own whose `site` names the key the site's data
-- is kept under (NULL: the key is a site itself), so events, records, targets and secrets stay with the
-- site whichever of its keys sent them. `expires_at` ends a rotated key's overlap: after it the key (or
-- the secret) is refused with 403 `key_rotated`.
ALTER TABLE keys ADD COLUMN site TEXT;
ALTER TABLE keys ADD COLUMN expires_at TEXT;
ALTER TABLE server_keys ADD COLUMN expires_at TEXT;
