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

/// A platform's open session.
#[derive(Debug, Clone, Copy)]
struct OpenSession {
    id: i64,
    started_at_ms: i64,
    /// The last sign that it was live: its start or its latest sample.
    last_seen_ms: i64,
}

fn open_session(
    connection: &Connection,
    platform: Platform,
) -> Result<Option<OpenSession>, StoreError> {
    Ok(connection
        .query_row(
            "SELECT s.id, s.started_at_ms, max(s.started_at_ms, coalesce((SELECT max(at_ms) FROM stream_samples WHERE session_id = s.id), s.started_at_ms))
             FROM stream_sessions s WHERE s.platform = ?1 AND s.ended_at_ms IS NULL ORDER BY s.started_at_ms DESC LIMIT 1",
            [platform.as_str()],
            |row| {
                Ok(OpenSession {
                    id: row.get(0)?,
                    started_at_ms: row.get(1)?,
                    last_seen_ms: row.get(2)?,
                })
            },
        )
        .optional()?)
}

/// An open session this long without a sign of life (viewers are sampled every minute
/// while live) was left open by a stop mid-stream: the stream it belongs to is over.
pub const STALE_SESSION_MS: i64 = 15 * 60 * 1000;

/// How far before a session's start its `stream.online` may be dated: a viewers poll
/// can open the session a little after the platform's own start time.
const ANNOUNCED_BEFORE_START_MS: i64 = 2 * 60 * 1000;

/// The session a stream going live (or a sample) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSession {
    /// Its id.
    pub id: i64,
    /// When it went live.
    pub started_at: Timestamp,
    /// True when it was already open and recent and its `stream.online` is in the event
    /// log: the platform announced the same stream again (YouTube after Roadie restarted
    /// mid-stream). False for a new session, and for one a viewers poll opened before
    /// the platform's announcement arrived.
    pub announced: bool,
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

/// Opens a session, or updates the open one's title and category. An open session
/// with no sign of life for [`STALE_SESSION_MS`] before `at` is closed at its last sign
/// of life first, so a stream is never merged into one that ended while Roadie was
/// stopped.
pub(crate) fn online(
    connection: &Connection,
    platform: Platform,
    at: Timestamp,
    title: Option<&str>,
    category: Option<&str>,
) -> Result<LiveSession, StoreError> {
    check_platform(platform)?;
    let open = open_session(connection, platform)?;
    continue_or_open(connection, platform, open, at, title, category)
}

/// [`online`] once the platform's open session (if any) has been looked up.
fn continue_or_open(
    connection: &Connection,
    platform: Platform,
    open: Option<OpenSession>,
    at: Timestamp,
    title: Option<&str>,
    category: Option<&str>,
) -> Result<LiveSession, StoreError> {
    if let Some(open) = open {
        if at.unix_ms().saturating_sub(open.last_seen_ms) <= STALE_SESSION_MS {
            connection.execute(
                "UPDATE stream_sessions SET title = coalesce(?2, title), category = coalesce(?3, category) WHERE id = ?1",
                params![open.id, title, category],
            )?;
            let announced = connection
                .prepare_cached(
                    "SELECT 1 FROM event_log WHERE type = 'stream.online' AND platform = ?1 AND at_ms >= ?2 LIMIT 1",
                )?
                .exists(params![
                    platform.as_str(),
                    open.started_at_ms.saturating_sub(ANNOUNCED_BEFORE_START_MS)
                ])?;
            return Ok(LiveSession {
                id: open.id,
                started_at: Timestamp(open.started_at_ms),
                announced,
            });
        }
        connection.execute(
            "UPDATE stream_sessions SET ended_at_ms = ?2 WHERE id = ?1",
            params![open.id, open.last_seen_ms],
        )?;
    }
    connection.execute(
        "INSERT INTO stream_sessions (platform, started_at_ms, title, category) VALUES (?1, ?2, ?3, ?4)",
        params![platform.as_str(), at.unix_ms(), title, category],
    )?;
    Ok(LiveSession {
        id: connection.last_insert_rowid(),
        started_at: at,
        announced: false,
    })
}

/// Closes the open session; true when there was one.
pub(crate) fn offline(
    connection: &Connection,
    platform: Platform,
    at: Timestamp,
) -> Result<bool, StoreError> {
    check_platform(platform)?;
    let Some(open) = open_session(connection, platform)? else {
        return Ok(false);
    };
    connection.execute(
        "UPDATE stream_sessions SET ended_at_ms = ?2 WHERE id = ?1",
        params![open.id, at.unix_ms()],
    )?;
    Ok(true)
}

fn as_i64(value: Option<u64>) -> Option<i64> {
    value.map(|number| i64::try_from(number).unwrap_or(i64::MAX))
}

/// Adds a sample to the open session, opening one if Roadie joined mid-stream; `None`
/// (nothing stored) for a sample within [`STALE_SESSION_MS`] after the platform's last
/// session ended: a poll can still see a stream live for minutes after the platform
/// said it ended (Helix caches `/streams`), and a stream that really starts again is
/// announced by its `stream.online`. Samples at the same moment merge, keeping what
/// each one knew.
pub(crate) fn sample(
    connection: &Connection,
    platform: Platform,
    sample: StreamSample,
) -> Result<Option<LiveSession>, StoreError> {
    check_platform(platform)?;
    let open = open_session(connection, platform)?;
    if open.is_none() {
        let ended_lately = connection
            .prepare_cached(
                "SELECT 1 FROM stream_sessions WHERE platform = ?1 AND ended_at_ms >= ?2 LIMIT 1",
            )?
            .exists(params![
                platform.as_str(),
                sample.at.unix_ms().saturating_sub(STALE_SESSION_MS)
            ])?;
        if ended_lately {
            return Ok(None);
        }
    }
    let session = continue_or_open(connection, platform, open, sample.at, None, None)?;
    connection.execute(
        "INSERT INTO stream_samples (session_id, at_ms, viewers, followers, chatters) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (session_id, at_ms) DO UPDATE SET
             viewers = coalesce(excluded.viewers, viewers),
             followers = coalesce(excluded.followers, followers),
             chatters = coalesce(excluded.chatters, chatters)",
        params![session.id, sample.at.unix_ms(), as_i64(sample.viewers), as_i64(sample.followers), as_i64(sample.chatters)],
    )?;
    Ok(Some(session))
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

/// Stream health from OBS at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObsHealthSample {
    /// When.
    pub at: Timestamp,
    /// Frames the encoder skipped (cumulative, this stream).
    pub output_skipped_frames: u64,
    /// Frames output (cumulative, this stream).
    pub output_total_frames: u64,
    /// Frames the renderer missed (cumulative).
    pub render_skipped_frames: u64,
    /// Frames rendered (cumulative).
    pub render_total_frames: u64,
    /// Network congestion, 0 to 1.
    pub congestion: f64,
    /// Bytes sent (cumulative, this stream).
    pub output_bytes: u64,
    /// Bitrate since the previous sample, kbit/s (`None` for the first).
    pub bitrate_kbps: Option<f64>,
    /// OBS's CPU use, percent.
    pub cpu_percent: f64,
}

pub(crate) fn obs_sample(
    connection: &Connection,
    sample: &ObsHealthSample,
) -> Result<(), StoreError> {
    connection.execute(
        "INSERT OR REPLACE INTO obs_health_samples (at_ms, output_skipped_frames, output_total_frames, render_skipped_frames, render_total_frames, congestion, output_bytes, bitrate_kbps, cpu_percent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            sample.at.unix_ms(),
            as_i64(Some(sample.output_skipped_frames)),
            as_i64(Some(sample.output_total_frames)),
            as_i64(Some(sample.render_skipped_frames)),
            as_i64(Some(sample.render_total_frames)),
            sample.congestion,
            as_i64(Some(sample.output_bytes)),
            sample.bitrate_kbps,
            sample.cpu_percent,
        ],
    )?;
    Ok(())
}

pub(crate) fn obs_samples(
    connection: &Connection,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<ObsHealthSample>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT at_ms, output_skipped_frames, output_total_frames, render_skipped_frames, render_total_frames, congestion, output_bytes, bitrate_kbps, cpu_percent
         FROM obs_health_samples WHERE at_ms BETWEEN ?1 AND ?2 ORDER BY at_ms",
    )?;
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    let rows = statement.query_map(params![from_ms, to_ms], |row| {
        Ok(ObsHealthSample {
            at: Timestamp(row.get(0)?),
            output_skipped_frames: count(row.get(1)?),
            output_total_frames: count(row.get(2)?),
            render_skipped_frames: count(row.get(3)?),
            render_total_frames: count(row.get(4)?),
            congestion: row.get(5)?,
            output_bytes: count(row.get(6)?),
            bitrate_kbps: row.get(7)?,
            cpu_percent: row.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
