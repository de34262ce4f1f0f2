-- Chat automation (commands, timers, actions, scripts) and the loyalty-points ledger.
-- Never edit once landed: add a new file.

-- Lists (aliases, platforms) are space-separated words; an empty platforms list means
-- every platform. Names are stored as the daemon gives them (commands with their `!`).
CREATE TABLE commands (
    name               TEXT    PRIMARY KEY NOT NULL CHECK (name <> ''),
    aliases            TEXT    NOT NULL DEFAULT '',
    template           TEXT    NOT NULL,
    global_cooldown_ms INTEGER NOT NULL DEFAULT 0 CHECK (global_cooldown_ms >= 0),
    user_cooldown_ms   INTEGER NOT NULL DEFAULT 0 CHECK (user_cooldown_ms >= 0),
    role               TEXT    NOT NULL
        CHECK (role IN ('everyone', 'subscriber', 'vip', 'moderator', 'broadcaster')),
    platforms          TEXT    NOT NULL DEFAULT '',
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    uses               INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_ms         INTEGER NOT NULL,
    updated_ms         INTEGER NOT NULL
);

CREATE TABLE timers (
    name       TEXT    PRIMARY KEY NOT NULL CHECK (name <> ''),
    interval_s INTEGER NOT NULL CHECK (interval_s > 0),
    min_lines  INTEGER NOT NULL DEFAULT 0 CHECK (min_lines >= 0),
    message    TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- An action is stored as the daemon's JSON; the store only checks that it is JSON.
CREATE TABLE actions (
    name       TEXT    PRIMARY KEY NOT NULL CHECK (name <> ''),
    definition TEXT    NOT NULL CHECK (json_valid(definition)),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- User scripts and the variables they persist (one JSON object per script).
CREATE TABLE scripts (
    name       TEXT    PRIMARY KEY NOT NULL CHECK (name <> ''),
    source     TEXT    NOT NULL,
    vars       TEXT    NOT NULL DEFAULT '{}'
        CHECK (json_valid(vars) AND json_type(vars) = 'object'),
    updated_ms INTEGER NOT NULL
);

-- A person behind one or more linked platform accounts. AUTOINCREMENT: an identity
-- merged away by a link never has its id reused.
CREATE TABLE identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT
);

-- Platform accounts, keyed by the platform's stable user id (logins can change).
CREATE TABLE viewers (
    platform      TEXT    NOT NULL CHECK (platform IN ('twitch', 'kick', 'youtube')),
    user_id       TEXT    NOT NULL CHECK (user_id <> ''),
    login         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    identity      INTEGER NOT NULL REFERENCES identities (id),
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    PRIMARY KEY (platform, user_id)
);
CREATE INDEX viewers_by_login ON viewers (login COLLATE NOCASE);
CREATE INDEX viewers_by_identity ON viewers (identity);

-- Every points change is an entry; balances are derived (the sum over the entries of
-- every account of an identity) and never stored. `source_key` makes replayed events
-- idempotent: at most one entry per source.
CREATE TABLE points_ledger (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    platform   TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    delta      INTEGER NOT NULL CHECK (typeof(delta) = 'integer' AND delta <> 0),
    reason     TEXT    NOT NULL,
    at_ms      INTEGER NOT NULL,
    source_key TEXT    UNIQUE,
    FOREIGN KEY (platform, user_id) REFERENCES viewers (platform, user_id)
);
CREATE INDEX points_ledger_by_account ON points_ledger (platform, user_id);
