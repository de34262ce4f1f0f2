//! Stream sessions (online to offline) and the samples polled while live, the basis
//! of per-stream reports. Per-minute chat and event counts come from the event log.

use rusqlite::{Connection, OptionalExtension, params};

use roadie_core::{Platform, Timestamp};

use crate::StoreError;

/// One broadcast on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSession {
    /// Its id.
    pub id: i64,
    /// The platform.
    pub platform: Platform,
    /// When it went live (or when Roadie first saw it live).
    pub started_at: Timestamp,
    /// When it ended; `None` while live.
    pub ended_at: Option<Timestamp>,
    /// Title, when known.
    pub title: Option<String>,
    /// Category, when known.
    pub category: Option<String>,
}

/// Figures polled at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSample {
    /// When.
    pub at: Timestamp,
    /// Concurrent viewers.
    pub viewers: Option<u64>,
    /// Total followers.
    pub followers: Option<u64>,
    /// People in chat.
    pub chatters: Option<u64>,
}

fn open_session(connection: &Connection, platform: Platform) -> Result<Option<i64>, StoreError> {
    Ok(connection
        .query_row(
            "SELECT id FROM stream_sessions WHERE platform = ?1 AND ended_at_ms IS NULL ORDER BY started_at_ms DESC LIMIT 1",
            [platform.as_str()],
            |row| row.get(0),
        )
        .optional()?)
}

fn check_platform(platform: Platform) -> Result<(), StoreError> {
    if platform == Platform::Roadie {
        return Err(StoreError::Invalid {
            field: "platform",
            reason: "streams belong to twitch, kick or youtube".into(),
        });
    }
    Ok(())
}

/// Opens a session, or updates the open one's title and category; returns its id.
pub(crate) fn online(
    connection: &Connection,
    platform: Platform,
    at: Timestamp,
    title: Option<&str>,
    category: Option<&str>,
) -> Result<i64, StoreError> {
    check_platform(platform)?;
    if let Some(id) = open_session(connection, platform)? {
        connection.execute(
            "UPDATE stream_sessions SET title = coalesce(?2, title), category = coalesce(?3, category) WHERE id = ?1",
            params![id, title, category],
        )?;
        return Ok(id);
    }
    connection.execute(
        "INSERT INTO stream_sessions (platform, started_at_ms, title, category) VALUES (?1, ?2, ?3, ?4)",
        params![platform.as_str(), at.unix_ms(), title, category],
    )?;
    Ok(connection.last_insert_rowid())
}

/// Closes the open session; true when there was one.
pub(crate) fn offline(
    connection: &Connection,
    platform: Platform,
    at: Timestamp,
) -> Result<bool, StoreError> {
    check_platform(platform)?;
    let Some(id) = open_session(connection, platform)? else {
        return Ok(false);
    };
    connection.execute(
        "UPDATE stream_sessions SET ended_at_ms = ?2 WHERE id = ?1",
        params![id, at.unix_ms()],
    )?;
    Ok(true)
}

fn as_i64(value: Option<u64>) -> Option<i64> {
    value.map(|number| i64::try_from(number).unwrap_or(i64::MAX))
}

/// Adds a sample to the open session, opening one if Roadie joined mid-stream.
/// Samples at the same moment merge, keeping what each one knew.
pub(crate) fn sample(
    connection: &Connection,
    platform: Platform,
    sample: StreamSample,
) -> Result<i64, StoreError> {
    let session = online(connection, platform, sample.at, None, None)?;
    connection.execute(
        "INSERT INTO stream_samples (session_id, at_ms, viewers, followers, chatters) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (session_id, at_ms) DO UPDATE SET
             viewers = coalesce(excluded.viewers, viewers),
             followers = coalesce(excluded.followers, followers),
             chatters = coalesce(excluded.chatters, chatters)",
        params![session, sample.at.unix_ms(), as_i64(sample.viewers), as_i64(sample.followers), as_i64(sample.chatters)],
    )?;
    Ok(session)
}

pub(crate) fn sessions(
    connection: &Connection,
    limit: usize,
) -> Result<Vec<StreamSession>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT id, platform, started_at_ms, ended_at_ms, title, category FROM stream_sessions ORDER BY started_at_ms DESC, id DESC LIMIT ?1",
    )?;
    let rows = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, Option<i64>>(3)?,
            row.get(4)?,
            row.get(5)?,
        ))
    })?;
    let mut sessions = Vec::new();
    for row in rows {
        let (id, platform, started, ended, title, category) = row?;
        let platform = platform
            .parse::<Platform>()
            .map_err(|error| StoreError::Invalid {
                field: "platform",
                reason: error.to_string(),
            })?;
        sessions.push(StreamSession {
            id,
            platform,
            started_at: Timestamp(started),
            ended_at: ended.map(Timestamp),
            title,
            category,
        });
    }
    Ok(sessions)
}

pub(crate) fn samples(
    connection: &Connection,
    session_id: i64,
) -> Result<Vec<StreamSample>, StoreError> {
    let mut statement = connection.prepare_cached("SELECT at_ms, viewers, followers, chatters FROM stream_samples WHERE session_id = ?1 ORDER BY at_ms")?;
    let rows = statement.query_map([session_id], |row| {
        let number = |index: usize| -> rusqlite::Result<Option<u64>> {
            Ok(row
                .get::<_, Option<i64>>(index)?
                .map(|value| u64::try_from(value).unwrap_or(0)))
        };
        Ok(StreamSample {
            at: Timestamp(row.get(0)?),
            viewers: number(1)?,
            followers: number(2)?,
            chatters: number(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
