-- A site may keep a share of its visitors out of personalization (a holdout group, chosen by a hash of the
-- visitor), so that what its recommendations earn is measured against plain best sellers.
ALTER TABLE rec_sites ADD COLUMN holdout DOUBLE PRECISION NOT NULL DEFAULT 0;
