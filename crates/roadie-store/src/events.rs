//! The event log table: appends (from the writer), range reads for replay, retention.

use std::borrow::Cow;

use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};

use roadie_core::{EventId, Platform};

use crate::StoreError;

/// An event to append: the writer gives it its id.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// When it happened, Unix ms.
    pub at_ms: i64,
    /// Where it came from.
    pub platform: Platform,
    /// Its wire type name, e.g. `chat.message`.
    pub kind: &'static str,
    /// Its `data` object as JSON text.
    pub data_json: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Its id.
    pub id: EventId,
    /// When it happened, Unix ms.
    pub at_ms: i64,
    /// Platform wire name (borrowed when the writer just stored it).
    pub platform: Cow<'static, str>,
    /// Type wire name (borrowed when the writer just stored it).
    pub kind: Cow<'static, str>,
    /// The `data` object as JSON text.
    pub data_json: String,
}

/// Limits on how much history the log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Delete events older than this many days (0: keep forever).
    pub max_age_days: u32,
    /// Keep at most this many events (0: no limit).
    pub max_events: u64,
}

pub(crate) const INSERT: &str =
    "INSERT INTO event_log (id, at_ms, platform, type, data) VALUES (?1, ?2, ?3, ?4, ?5)";

pub(crate) fn latest_id(connection: &Connection) -> Result<Option<EventId>, StoreError> {
    let text: Option<String> = connection
        .query_row(
            "SELECT id FROM event_log ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(text.and_then(|text| text.parse().ok()))
}

fn row_to_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let id_text: String = row.get(0)?;
    let id = id_text.parse::<EventId>().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(error))
    })?;
    Ok(EventRow {
        id,
        at_ms: row.get(1)?,
        platform: Cow::Owned(row.get(2)?),
        kind: Cow::Owned(row.get(3)?),
        data_json: row.get(4)?,
    })
}

fn type_filter(types: &[String], values: &mut Vec<Value>) -> String {
    if types.is_empty() {
        return String::new();
    }
    let placeholders: Vec<String> = types
        .iter()
        .map(|kind| {
            values.push(Value::Text(kind.clone()));
            format!("?{}", values.len())
        })
        .collect();
    format!(" AND type IN ({})", placeholders.join(", "))
}

pub(crate) fn after(
    connection: &Connection,
    since: Option<EventId>,
    types: &[String],
    limit: usize,
) -> Result<Vec<EventRow>, StoreError> {
    let mut values = vec![Value::Text(since.unwrap_or(EventId::MIN).to_string())];
    let filter = type_filter(types, &mut values);
    values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT id, at_ms, platform, type, data FROM event_log WHERE id > ?1{filter} ORDER BY id LIMIT ?{}",
        values.len()
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values), row_to_event)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn recent(
    connection: &Connection,
    types: &[String],
    limit: usize,
) -> Result<Vec<EventRow>, StoreError> {
    let mut values = Vec::new();
    let filter = type_filter(types, &mut values);
    values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT id, at_ms, platform, type, data FROM event_log WHERE 1 = 1{filter} ORDER BY id DESC LIMIT ?{}",
        values.len()
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values), row_to_event)?;
    let mut events: Vec<EventRow> = rows.collect::<Result<_, _>>()?;
    events.reverse();
    Ok(events)
}

pub(crate) fn count(connection: &Connection) -> Result<u64, StoreError> {
    let total: i64 =
        connection.query_row("SELECT count(*) FROM event_log", [], |row| row.get(0))?;
    Ok(u64::try_from(total).unwrap_or(0))
}

pub(crate) fn prune(
    connection: &Connection,
    retention: Retention,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let mut deleted = 0u64;
    if retention.max_age_days > 0 {
        let cutoff = now_ms.saturating_sub(i64::from(retention.max_age_days) * 86_400_000);
        // Ids start with the millisecond time, so the id range is the time range.
        let cutoff_id = EventId::from_parts(u64::try_from(cutoff).unwrap_or(0), 0).to_string();
        deleted += connection.execute("DELETE FROM event_log WHERE id < ?1", [cutoff_id])? as u64;
    }
    if retention.max_events > 0 {
        let keep = i64::try_from(retention.max_events).unwrap_or(i64::MAX);
        deleted += connection.execute(
            "DELETE FROM event_log WHERE id < (SELECT id FROM event_log ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            [keep - 1],
        )? as u64;
    }
    Ok(deleted)
}
