-- Stream sessions (online to offline, per platform) and the samples polled while
-- live. Chat, follows, subs, cheers, raids and tips per minute come from event_log.
CREATE TABLE stream_sessions (
    id            INTEGER PRIMARY KEY,
    platform      TEXT    NOT NULL CHECK (platform IN ('twitch', 'kick', 'youtube')),
    started_at_ms INTEGER NOT NULL,
    ended_at_ms   INTEGER,
    title         TEXT,
    category      TEXT
);
CREATE INDEX stream_sessions_by_platform ON stream_sessions (platform, started_at_ms);

CREATE TABLE stream_samples (
    session_id INTEGER NOT NULL REFERENCES stream_sessions (id) ON DELETE CASCADE,
    at_ms      INTEGER NOT NULL,
    viewers    INTEGER,
    followers  INTEGER,
    chatters   INTEGER,
    PRIMARY KEY (session_id, at_ms)
) WITHOUT ROWID;
