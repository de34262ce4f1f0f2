-- event_log without the json_valid CHECK: SQLite parsed (and copied, to terminate it)
-- every stored event's data again, about a tenth of the writer's time per event, for
-- text Roadie's own serializer wrote. What stays is a check that costs a comparison:
-- data is a JSON object, so its first character is '{' ('|' is the next character).
-- SQLite cannot drop a CHECK in place, so the table is rebuilt; a backup of the
-- database is taken before any pending migration runs on existing data.
CREATE TABLE event_log_rebuilt (
    id       TEXT    PRIMARY KEY NOT NULL,  -- ULID, sorts by time
    at_ms    INTEGER NOT NULL,              -- when it happened, Unix ms (ids order by storage time)
    platform TEXT    NOT NULL CHECK (platform IN ('twitch', 'kick', 'youtube', 'roadie')),
    type     TEXT    NOT NULL,
    data     TEXT    NOT NULL CHECK (data >= '{' AND data < '|')
) WITHOUT ROWID;
INSERT INTO event_log_rebuilt (id, at_ms, platform, type, data)
    SELECT id, at_ms, platform, type, data FROM event_log;
DROP TABLE event_log;
ALTER TABLE event_log_rebuilt RENAME TO event_log;
CREATE INDEX event_log_by_type ON event_log (type, id);
