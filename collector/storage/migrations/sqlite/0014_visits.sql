-- Where the visitor came from and which page each event was on, read once at ingest
-- (collector/traffic.py): the page's path, the referring site (NULL for a direct visit or the shop's own
-- pages) and the UTM tags of the page's address.
ALTER TABLE events ADD COLUMN page_path TEXT;
ALTER TABLE events ADD COLUMN referrer_domain TEXT;
ALTER TABLE events ADD COLUMN utm_source TEXT;
ALTER TABLE events ADD COLUMN utm_medium TEXT;
ALTER TABLE events ADD COLUMN utm_campaign TEXT;

-- Visits (sessions) as the web panels read them, one row per visit, kept up to date from events
-- (collector/visits.py): a visit is the tracker's session, or, for events without one, a visitor's events
-- less than 30 minutes apart (`derived`). Its source, UTM tags, device, browser and system are its first
-- event's (Plausible freezes them at the visit's start); its entry and exit pages its first and last page
-- views'; a bounce is a visit of one event; its duration the seconds from its first event to its last.
CREATE TABLE visits (
    key          TEXT NOT NULL,
    mode         TEXT NOT NULL,
    session_id   TEXT NOT NULL,   -- the tracker's, or visitor#start for a derived visit
    derived      INTEGER NOT NULL,
    visitor      TEXT,            -- the anonymous id, else the user id
    user_id      TEXT,
    started_at   TEXT NOT NULL,
    ended_at     TEXT NOT NULL,
    duration     INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    pageviews    INTEGER NOT NULL,
    bounce       INTEGER NOT NULL,
    entry_page   TEXT,
    exit_page    TEXT,
    source       TEXT,            -- the referring site; NULL: direct
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    device       TEXT,
    browser      TEXT,
    os           TEXT,
    ordered      INTEGER NOT NULL,  -- 1 when the visit completed an order
    PRIMARY KEY (key, mode, session_id)
);
CREATE INDEX visits_period ON visits (mode, started_at, key);
CREATE INDEX visits_visitor ON visits (key, mode, visitor, started_at);
-- A visitor's events without a session, by time: what a refresh reads around a change (only such events
-- are in these indexes, so the tracker's events cost them nothing).
CREATE INDEX events_loose_anonymous ON events (key, mode, anonymous_id, event_time) WHERE session_id IS NULL;
CREATE INDEX events_loose_user ON events (key, mode, user_id, event_time)
    WHERE session_id IS NULL AND anonymous_id IS NULL;

-- The visits an insert or a delete of events changed, for collector/visits.py to recompute: written by
-- triggers in the events' own transaction, so that no change is missed, whatever wrote it (ingest, an
-- import, forget, prune, copy). A bot's events belong to no visit.
CREATE TABLE visit_changes (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,
    mode        TEXT NOT NULL,
    session_id  TEXT,             -- the tracker's session; NULL: the visitor's events without one
    visitor     TEXT,
    event_time  TEXT              -- for the visitor's events: when (only the visits around it are rewritten)
);
CREATE TRIGGER events_visit_insert AFTER INSERT ON events
WHEN NEW.bot IS NULL AND coalesce(NEW.session_id, NEW.anonymous_id, NEW.user_id) IS NOT NULL
BEGIN
    INSERT INTO visit_changes (key, mode, session_id, visitor, event_time)
    VALUES (NEW.key, NEW.mode, NEW.session_id,
            CASE WHEN NEW.session_id IS NULL THEN coalesce(NEW.anonymous_id, NEW.user_id) END,
            CASE WHEN NEW.session_id IS NULL THEN NEW.event_time END);
END;
CREATE TRIGGER events_visit_delete AFTER DELETE ON events
WHEN OLD.bot IS NULL AND coalesce(OLD.session_id, OLD.anonymous_id, OLD.user_id) IS NOT NULL
BEGIN
    INSERT INTO visit_changes (key, mode, session_id, visitor, event_time)
    VALUES (OLD.key, OLD.mode, OLD.session_id,
            CASE WHEN OLD.session_id IS NULL THEN coalesce(OLD.anonymous_id, OLD.user_id) END,
            CASE WHEN OLD.session_id IS NULL THEN OLD.event_time END);
END;

-- The visits of the events stored before this migration.
INSERT INTO visit_changes (key, mode, session_id, visitor, event_time)
SELECT key, mode, session_id, coalesce(anonymous_id, user_id), min(event_time) FROM events
WHERE bot IS NULL AND session_id IS NULL AND coalesce(anonymous_id, user_id) IS NOT NULL
GROUP BY key, mode, session_id, coalesce(anonymous_id, user_id)
UNION ALL
SELECT key, mode, session_id, coalesce(anonymous_id, user_id), max(event_time) FROM events
WHERE bot IS NULL AND session_id IS NULL AND coalesce(anonymous_id, user_id) IS NOT NULL
GROUP BY key, mode, session_id, coalesce(anonymous_id, user_id)
UNION ALL
SELECT DISTINCT key, mode, session_id, NULL, NULL FROM events WHERE bot IS NULL AND session_id IS NOT NULL;
