-- Forward target kinds are checked in code (the registry, collector/forward/targets/), not by a CHECK
-- constraint, so that a new kind needs no migration.
ALTER TABLE forward_targets DROP CONSTRAINT IF EXISTS forward_targets_kind_check;
