-- A forward target's health, shared by every forwarder process: its consecutive failed rounds, and
-- until when (seconds since the epoch) it is paused after a 429/503 or a run of failures, with why. A
-- paused target gets one probe once the pause ends; success clears all three.
ALTER TABLE forward_targets ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE forward_targets ADD COLUMN paused_until DOUBLE PRECISION;
ALTER TABLE forward_targets ADD COLUMN paused_reason TEXT;
-- What a target subscribes to: comma-separated event sources and types (NULL: every one its kind takes).
ALTER TABLE forward_targets ADD COLUMN sources TEXT;
ALTER TABLE forward_targets ADD COLUMN types TEXT;
