-- The searches report (and the sessions view) look up a session's later events.
CREATE INDEX events_session ON events (session_id, event_time);
