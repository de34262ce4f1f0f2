-- The event log and OAuth credential metadata. Never edit once landed: add a new file.
CREATE TABLE event_log (
    id       TEXT    PRIMARY KEY NOT NULL,  -- ULID, sorts by time
    at_ms    INTEGER NOT NULL,              -- when it happened, Unix ms (ids order by storage time)
    platform TEXT    NOT NULL CHECK (platform IN ('twitch', 'kick', 'youtube', 'roadie')),
    type     TEXT    NOT NULL,
    data     TEXT    NOT NULL CHECK (json_valid(data))
) WITHOUT ROWID;
CREATE INDEX event_log_by_type ON event_log (type, id);

-- Token metadata only: the tokens themselves live in the keystore under keystore_key.
CREATE TABLE oauth_credentials (
    platform      TEXT    NOT NULL CHECK (platform IN ('twitch', 'kick', 'youtube')),
    account_id    TEXT    NOT NULL CHECK (account_id <> ''),
    account_login TEXT    NOT NULL,
    scopes        TEXT    NOT NULL DEFAULT '',  -- comma-separated
    expires_at_ms INTEGER,
    keystore_key  TEXT    NOT NULL CHECK (keystore_key <> ''),
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (platform, account_id)
);
