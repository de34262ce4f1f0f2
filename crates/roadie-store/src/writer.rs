//! The one writer: a thread that owns the write connection, drains its queue into
//! batches, commits each batch in one transaction, and only then acknowledges and
//! announces what it stored. Nothing is visible to readers or subscribers before it
//! is durable, so a crash never takes back an event someone has already seen.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hasher, RandomState};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, watch};

use roadie_core::{EncodedEventId, EventId, EventIdGenerator};

use crate::StoreError;
use crate::events::{EventRow, INSERT, NewEvent};

/// Called on the writer thread after each commit, with the events it stored, in order.
pub type CommitHook = Box<dyn FnMut(&[EventRow]) + Send>;

/// A write to run inside the writer's batch transaction.
pub(crate) trait WriteJob: Send {
    /// Runs the write; false when it failed (its savepoint is then rolled back).
    fn run(&mut self, connection: &Connection) -> bool;
    /// Delivers the result once the batch committed, or the commit's error.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

pub(crate) type Job = Box<dyn WriteJob>;

struct TypedJob<T, F> {
    operation: Option<F>,
    result: Option<Result<T, StoreError>>,
    ack: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, connection: &Connection) -> bool {
        let Some(operation) = self.operation.take() else {
            return false;
        };
        let result = operation(connection);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let outcome = match (self.result, commit) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(reason)) => Err(StoreError::Invalid {
                field: "transaction",
                reason,
            }),
            (None, Ok(())) => Err(StoreError::WriterGone),
        };
        let _ = self.ack.send(outcome);
    }
}

pub(crate) fn job<T, F>(operation: F, ack: oneshot::Sender<Result<T, StoreError>>) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    Box::new(TypedJob {
        operation: Some(operation),
        result: None,
        ack,
    })
}

pub(crate) type AppendAck = oneshot::Sender<Result<Vec<EventId>, StoreError>>;

pub(crate) enum Command {
    Append {
        events: Vec<NewEvent>,
        ack: Option<AppendAck>,
    },
    Write(Job),
    Flush(oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

pub(crate) fn spawn(
    connection: Connection,
    opener: CheckpointOpener,
    receiver: mpsc::Receiver<Command>,
    last_id: Option<EventId>,
    max_batch: usize,
    on_commit: CommitHook,
    problem: watch::Sender<Option<String>>,
) -> Result<std::thread::JoinHandle<()>, StoreError> {
    let generator = last_id.map(EventIdGenerator::after).unwrap_or_default();
    let checkpoints = spawn_checkpointer(opener)?;
    let mut writer = Writer {
        connection,
        generator,
        entropy: RandomState::new(),
        counter: 0,
        on_commit,
        rows_since_checkpoint: 0,
        checkpoints,
        problem,
        held: Vec::new(),
    };
    std::thread::Builder::new()
        .name("roadie-db-writer".into())
        .spawn(move || writer.run(receiver, max_batch.max(1)))
        .map_err(|source| StoreError::Io {
            context: "starting the database writer thread".into(),
            source,
        })
}

struct Writer {
    connection: Connection,
    generator: EventIdGenerator,
    entropy: RandomState,
    counter: u64,
    on_commit: CommitHook,
    /// Rows written since the last WAL checkpoint (see [`Writer::checkpoint_if_due`]).
    rows_since_checkpoint: usize,
    /// Asks the checkpoint thread for a checkpoint (one pending request at most).
    checkpoints: std::sync::mpsc::SyncSender<()>,
    /// Why writes are held back right now (see [`Writer::begin`]), for `status`.
    problem: watch::Sender<Option<String>>,
    /// Fire-and-forget events a full disk kept out: they go first into the next
    /// transaction (see [`Writer::commit_batch`]).
    held: Vec<NewEvent>,
}

/// Opens the checkpoint thread's own connection.
pub(crate) type CheckpointOpener = Box<dyn Fn() -> Result<Connection, StoreError> + Send>;

/// Starts the thread that copies the WAL into the database file on request. It has
/// its own connection, so the copy and its fsync never hold up a commit or a fan-out
/// (a checkpoint took tens of milliseconds on a slow disk: every event arriving then
/// waited). The connection is opened at the first request: an idle daemon never pays
/// for it, nor does start-up. The thread stops when the writer drops its sender.
fn spawn_checkpointer(
    opener: CheckpointOpener,
) -> Result<std::sync::mpsc::SyncSender<()>, StoreError> {
    let (requests, pending) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("roadie-db-checkpoint".into())
        .spawn(move || {
            let mut connection: Option<Connection> = None;
            while pending.recv().is_ok() {
                if connection.is_none() {
                    match opener() {
                        Ok(opened) => connection = Some(opened),
                        Err(error) => {
                            tracing::warn!(%error, "cannot open the checkpoint connection");
                            continue;
                        }
                    }
                }
                let Some(connection) = connection.as_ref() else {
                    continue;
                };
                // PASSIVE: never waits for readers or the writer; what it cannot copy
                // now, the next one will.
                if let Err(error) =
                    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(%error, "WAL checkpoint failed");
                }
            }
        })
        .map_err(|source| StoreError::Io {
            context: "starting the database checkpoint thread".into(),
            source,
        })?;
    Ok(requests)
}

impl Writer {
    fn run(&mut self, mut receiver: mpsc::Receiver<Command>, max_batch: usize) {
        let mut batch = Vec::with_capacity(max_batch.min(1024));
        let mut previous_batch = 0;
        loop {
            // Held events are retried alone, after a pause: what keeps arriving waits in
            // the queue (producers wait once it is full), so memory stays bounded.
            let retrying = !self.held.is_empty();
            if retrying {
                std::thread::sleep(BEGIN_RETRY_PAUSE);
                batch.push(Command::Append {
                    events: std::mem::take(&mut self.held),
                    ack: None,
                });
            } else {
                let Some(first) = receiver.blocking_recv() else {
                    break;
                };
                batch.push(first);
                drain_into(&mut receiver, &mut batch, max_batch);
            }
            // A commit costs about the same for one event as for hundreds (the same
            // few pages are written to the WAL). In a burst the previous batch was big:
            // wait a moment so this one carries more. A lone event never waits.
            if !retrying && previous_batch >= BURST_BATCH && batch.len() < max_batch {
                std::thread::sleep(BURST_LINGER);
                drain_into(&mut receiver, &mut batch, max_batch);
            }
            let stop = if self.begin(&mut receiver, &mut batch, max_batch) {
                previous_batch = batch.len();
                self.commit_batch(&mut batch)
            } else {
                Self::fail_batch(&mut batch)
            };
            if stop {
                break;
            }
        }
        tracing::debug!("database writer stopped");
    }

    /// 128 bits that differ per call and per process (uniqueness, not secrecy: ids
    /// are also kept unique by the monotonic generator).
    fn random_bits(entropy: &RandomState, counter: &mut u64) -> u128 {
        *counter = counter.wrapping_add(1);
        let mut high = entropy.build_hasher();
        high.write_u64(*counter);
        let mut low = entropy.build_hasher();
        low.write_u64(!*counter);
        (u128::from(high.finish()) << 64) | u128::from(low.finish())
    }

    /// Starts the batch's transaction. While the database cannot be written (another
    /// program holds its write lock past the busy timeout, or the disk refuses), the
    /// batch is held, with what keeps arriving up to `max_batch`, and retried: nothing
    /// is dropped, `status` says why, and producers wait once the queue is full. False
    /// only when a shutdown arrives meanwhile: the batch is then given up.
    fn begin(
        &mut self,
        receiver: &mut mpsc::Receiver<Command>,
        batch: &mut Vec<Command>,
        max_batch: usize,
    ) -> bool {
        let mut failures = 0u32;
        loop {
            match self.connection.execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => {
                    if failures > 0 {
                        tracing::warn!(
                            attempts = failures + 1,
                            held = batch.len(),
                            "the database is writable again; storing what was held"
                        );
                        self.problem.send_replace(None);
                    }
                    return true;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    if failures == 1 {
                        let problem = format!(
                            "cannot write to the database ({error}); events are held in memory \
                             until it can be written (is another program using roadie.db?)"
                        );
                        tracing::error!("{problem}");
                        self.problem.send_replace(Some(problem));
                    }
                    drain_into(receiver, batch, max_batch);
                    if batch
                        .iter()
                        .any(|command| matches!(command, Command::Shutdown(_)))
                    {
                        return false;
                    }
                    // A lock is already waited for by the busy timeout; other errors
                    // (a full or read-only disk) are not, and must not spin.
                    std::thread::sleep(BEGIN_RETRY_PAUSE);
                }
            }
        }
    }

    /// Answers every command of a batch that could not be written with an error; true
    /// when it held a shutdown.
    fn fail_batch(batch: &mut Vec<Command>) -> bool {
        let failure = || StoreError::Invalid {
            field: "transaction",
            reason: NOT_WRITTEN_BEFORE_SHUTDOWN.into(),
        };
        let mut lost = 0usize;
        let mut shutdown = false;
        for command in batch.drain(..) {
            match command {
                Command::Append { events, ack: None } => lost += events.len(),
                Command::Append {
                    ack: Some(ack),
                    events,
                } => {
                    lost += events.len();
                    let _ = ack.send(Err(failure()));
                }
                Command::Write(job) => job.finish(Err(NOT_WRITTEN_BEFORE_SHUTDOWN.into())),
                Command::Flush(waiter) => {
                    let _ = waiter.send(());
                }
                Command::Shutdown(waiter) => {
                    shutdown = true;
                    let _ = waiter.send(());
                }
            }
        }
        if lost > 0 {
            tracing::error!(
                lost,
                "events not stored: the database stayed unwritable until shutdown"
            );
        }
        shutdown
    }

    /// Commits one batch inside the transaction [`Writer::begin`] started; true when a
    /// shutdown was requested.
    fn commit_batch(&mut self, batch: &mut Vec<Command>) -> bool {
        let mut stored: Vec<Inserted> = Vec::new();
        let mut append_acks: Vec<(AppendAck, Result<Vec<EventId>, StoreError>)> = Vec::new();
        let mut jobs: Vec<Job> = Vec::new();
        let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
        let mut shutdown = false;

        // Fire-and-forget appends (a platform's events, one per command) are gathered
        // and inserted together: one multi-row statement instead of one per event.
        let mut unacked: Vec<NewEvent> = Vec::new();
        for command in batch.drain(..) {
            if let Command::Append { events, ack: None } = command {
                unacked.extend(events);
                continue;
            }
            self.append_unacked(&mut unacked, &mut stored);
            match command {
                Command::Append { events, ack } => {
                    let result = self.append(events, &mut stored);
                    if let Some(ack) = ack {
                        append_acks.push((ack, result));
                    }
                }
                // Without its transaction (SQLite rolled it back) a job would run and
                // commit on its own; it fails with the batch instead.
                Command::Write(job) if self.connection.is_autocommit() => jobs.push(job),
                Command::Write(mut job) => {
                    let _ = self.connection.execute_batch("SAVEPOINT job");
                    if !job.run(&self.connection) {
                        let _ = self.connection.execute_batch("ROLLBACK TO job");
                    }
                    let _ = self.connection.execute_batch("RELEASE job");
                    jobs.push(job);
                }
                Command::Flush(waiter) => waiters.push(waiter),
                Command::Shutdown(waiter) => {
                    waiters.push(waiter);
                    shutdown = true;
                }
            }
        }
        self.append_unacked(&mut unacked, &mut stored);
        let commit = if self.connection.is_autocommit() {
            // SQLite rolled the transaction back itself, as it may on a full disk.
            Err((true, ROLLED_BACK_BY_SQLITE.to_owned()))
        } else {
            self.connection.execute_batch("COMMIT").map_err(|error| {
                let _ = self.connection.execute_batch("ROLLBACK");
                (is_out_of_space(&error), error.to_string())
            })
        };
        let commit = commit.map_err(|(out_of_space, reason)| {
            if out_of_space {
                // Nothing fire-and-forget is lost to a full disk: it is tried again,
                // ahead of what was held later in this batch.
                let mut again: Vec<NewEvent> = stored
                    .drain(..)
                    .filter_map(|inserted| inserted.unacked.then_some(inserted.event))
                    .collect();
                again.append(&mut self.held);
                self.held = again;
            } else {
                tracing::error!(%reason, "a write transaction failed to commit");
            }
            reason
        });
        if commit.is_err() {
            stored.clear();
        }
        self.report_held(&commit);
        let stored: Vec<EventRow> = stored
            .into_iter()
            .map(|inserted| stored_row(inserted.event, inserted.id))
            .collect();
        for (ack, result) in append_acks {
            let outcome = match (&commit, result) {
                (Ok(()), result) => result,
                (Err(reason), _) => Err(StoreError::Invalid {
                    field: "transaction",
                    reason: reason.clone(),
                }),
            };
            let _ = ack.send(outcome);
        }
        let jobs_count = jobs.len();
        for job in jobs {
            job.finish(commit.clone());
        }
        if !stored.is_empty() {
            (self.on_commit)(&stored);
        }
        if shutdown {
            self.checkpoint_before_exit();
        }
        for waiter in waiters {
            let _ = waiter.send(());
        }
        if commit.is_ok() {
            self.rows_since_checkpoint += stored.len() + jobs_count;
            self.checkpoint_if_due();
        }
        shutdown
    }

    /// Copies the whole WAL into the database file and empties it before the daemon
    /// exits, so that `roadie.db` alone (copied by hand as a backup, or moved to another
    /// PC) holds everything. SQLite does this itself when the last connection closes,
    /// but the readers' connections stay open until the process ends.
    fn checkpoint_before_exit(&self) {
        let truncate = || {
            self.connection
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    row.get::<_, i64>(0)
                })
        };
        let mut busy = truncate();
        // The checkpoint thread may be copying right now; it finishes soon.
        for _ in 0..20 {
            if !matches!(busy, Ok(1)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            busy = truncate();
        }
        match busy {
            Ok(0) => tracing::debug!("WAL folded into the database file"),
            Ok(_) => tracing::info!("a reader held the WAL; it is folded in at the next start"),
            Err(error) => {
                tracing::warn!(%error, "could not fold the WAL into the database file; it is kept and read at the next start");
            }
        }
    }

    /// Has the WAL copied back into the database file now and then. SQLite's automatic
    /// checkpoint would run inside COMMIT, holding back the fan-out of the events just
    /// committed; the checkpoint thread does it beside the writer instead.
    fn checkpoint_if_due(&mut self) {
        if self.rows_since_checkpoint < CHECKPOINT_EVERY_ROWS {
            return;
        }
        self.rows_since_checkpoint = 0;
        // Full: one is already pending, which covers these rows too.
        let _ = self.checkpoints.try_send(());
    }

    /// Inserts gathered fire-and-forget events. Each was its own command, atomic alone,
    /// and one multi-row INSERT is atomic as a statement, so no savepoint is needed (it
    /// would copy every page it touches once more): a chunk that fails is retried row by
    /// row, so a bad event costs only itself.
    fn append_unacked(&mut self, events: &mut Vec<NewEvent>, stored: &mut Vec<Inserted>) {
        if events.is_empty() {
            return;
        }
        let events = std::mem::take(events);
        if self.connection.is_autocommit() {
            // The transaction is gone (see `commit_batch`): inserting now would commit
            // each row on its own.
            self.held.extend(events);
            return;
        }
        let ids = self.next_ids(events.len());
        // Once one event is held, every later one is too: they are stored in the order
        // they came (a command's reply after the chat line it answers).
        let mut outcome = vec![Outcome::Held; events.len()];
        let mut holding = !self.held.is_empty();
        for range in chunks(events.len()) {
            if holding {
                break;
            }
            let chunk = insert_chunk(
                &self.connection,
                &events[range.clone()],
                &ids[range.clone()],
            );
            match chunk {
                Ok(()) => outcome[range].fill(Outcome::Inserted),
                Err(StoreError::Sqlite(error)) if is_out_of_space(&error) => holding = true,
                Err(_) if range.len() > 1 => {
                    for index in range {
                        let one = index..index + 1;
                        match insert_chunk(&self.connection, &events[one.clone()], &ids[one]) {
                            Ok(()) => outcome[index] = Outcome::Inserted,
                            Err(StoreError::Sqlite(error)) if is_out_of_space(&error) => {
                                holding = true;
                                break;
                            }
                            Err(error) => {
                                tracing::error!(%error, "could not store an event");
                                outcome[index] = Outcome::Lost;
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "could not store an event");
                    outcome[range].fill(Outcome::Lost);
                }
            }
        }
        for ((event, id), outcome) in events.into_iter().zip(ids).zip(outcome) {
            match outcome {
                Outcome::Inserted => stored.push(Inserted {
                    event,
                    id,
                    unacked: true,
                }),
                Outcome::Held => self.held.push(event),
                Outcome::Lost => {}
            }
        }
    }

    /// Says in `status` while events are held for want of space, and when they are not.
    fn report_held(&mut self, commit: &Result<(), String>) {
        let holding = !self.held.is_empty();
        let reported = self.problem.borrow().is_some();
        if holding {
            let problem = format!(
                "the disk is full: {} event(s) are held in memory until there is room \
                 (free some space, e.g. old recordings)",
                self.held.len()
            );
            if !reported {
                tracing::error!("{problem}");
            }
            self.problem.send_replace(Some(problem));
        } else if reported && commit.is_ok() {
            tracing::warn!("there is room on the disk again; the held events are stored");
            self.problem.send_replace(None);
        }
    }

    /// Inserts one producer's events under a savepoint: all of them or none.
    fn append(
        &mut self,
        events: Vec<NewEvent>,
        stored: &mut Vec<Inserted>,
    ) -> Result<Vec<EventId>, StoreError> {
        // Held events go first (see `append_unacked`); these would overtake them.
        if self.connection.is_autocommit() || !self.held.is_empty() {
            return Err(StoreError::Invalid {
                field: "transaction",
                reason: ROLLED_BACK_BY_SQLITE.into(),
            });
        }
        let ids = self.next_ids(events.len());
        // One event is one statement, atomic on its own; several need a savepoint so
        // the producer's events are stored all or none.
        let needs_savepoint = events.len() > 1;
        if needs_savepoint {
            self.connection
                .prepare_cached("SAVEPOINT append")
                .and_then(|mut statement| statement.execute([]))?;
        }
        let outcome = chunks(events.len()).try_for_each(|range| {
            insert_chunk(&self.connection, &events[range.clone()], &ids[range])
        });
        if let Err(error) = outcome {
            if needs_savepoint {
                let _ = self
                    .connection
                    .execute_batch("ROLLBACK TO append; RELEASE append");
            }
            return Err(error);
        }
        if needs_savepoint {
            self.connection
                .prepare_cached("RELEASE append")
                .and_then(|mut statement| statement.execute([]))?;
        }
        stored.extend(events.into_iter().zip(&ids).map(|(event, &id)| Inserted {
            event,
            id,
            unacked: false,
        }));
        Ok(ids)
    }

    /// Fresh ids for `count` events, in order.
    fn next_ids(&mut self, count: usize) -> Vec<EventId> {
        (0..count)
            .map(|_| {
                let now = u64::try_from(crate::now_ms()).unwrap_or(0);
                let random = Self::random_bits(&self.entropy, &mut self.counter);
                self.generator.next(now, random)
            })
            .collect()
    }
}

/// An event inserted in the open transaction; it becomes an [`EventRow`] for the
/// commit hook once the transaction commits.
struct Inserted {
    event: NewEvent,
    id: EventId,
    /// Fire-and-forget: no one waits for an answer, so a full disk holds it back
    /// instead of failing it.
    unacked: bool,
}

/// What became of a fire-and-forget event's insert.
#[derive(Clone, Copy)]
enum Outcome {
    Inserted,
    /// The disk is full: kept for the next try.
    Held,
    Lost,
}

/// SQLite's errors for a full disk (or one that fails writes, which frees up as often).
fn is_out_of_space(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure)
    )
}

/// The row handed to the commit hook for an event just inserted.
fn stored_row(event: NewEvent, id: EventId) -> EventRow {
    EventRow {
        id,
        at_ms: event.at_ms,
        platform: Cow::Borrowed(event.platform.as_str()),
        kind: Cow::Borrowed(event.kind),
        data_json: event.data_json,
    }
}

/// Why the commands of a batch given up at shutdown failed.
const NOT_WRITTEN_BEFORE_SHUTDOWN: &str = "the database could not be written before shutdown";

/// Why a batch failed when SQLite rolled its transaction back itself.
const ROLLED_BACK_BY_SQLITE: &str = "the disk is full; the transaction was rolled back";

/// How long the writer waits before trying again to start a transaction that failed.
const BEGIN_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// A batch at least this big means a burst is under way (see [`Writer::run`]).
const BURST_BATCH: usize = 16;

/// How long the writer gathers commands in a burst before committing: the most a
/// burst adds to an event's latency.
const BURST_LINGER: std::time::Duration = std::time::Duration::from_micros(500);

/// Moves what is already queued into `batch`, up to `max_batch` commands.
fn drain_into(receiver: &mut mpsc::Receiver<Command>, batch: &mut Vec<Command>, max_batch: usize) {
    while batch.len() < max_batch {
        match receiver.try_recv() {
            Ok(command) => batch.push(command),
            Err(_) => break,
        }
    }
}

/// Rows (or jobs) committed between WAL checkpoints: about what SQLite's default of
/// 1,000 pages holds for typical events.
const CHECKPOINT_EVERY_ROWS: usize = 2_000;

/// Rows per multi-row INSERT: one statement per chunk instead of one per event
/// (statement start-up and cursor set-up dominate the cost of a small row).
const ROWS_PER_INSERT: usize = 50;

/// The multi-row INSERT for [`ROWS_PER_INSERT`] rows, built once.
static INSERT_CHUNK: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| insert_sql(ROWS_PER_INSERT));

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO event_log (id, at_ms, platform, type, data) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?)");
    }
    sql
}

/// `count` events split into INSERT statements: full chunks of [`ROWS_PER_INSERT`]
/// rows, then single rows.
fn chunks(count: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let full = count / ROWS_PER_INSERT * ROWS_PER_INSERT;
    (0..full)
        .step_by(ROWS_PER_INSERT)
        .map(|start| start..start + ROWS_PER_INSERT)
        .chain((full..count).map(|index| index..index + 1))
}

/// Inserts `events` (one row, or [`ROWS_PER_INSERT`]) with one statement.
fn insert_chunk(
    connection: &Connection,
    events: &[NewEvent],
    ids: &[EventId],
) -> Result<(), StoreError> {
    let sql = if events.len() == ROWS_PER_INSERT {
        INSERT_CHUNK.as_str()
    } else {
        INSERT
    };
    let mut statement = connection.prepare_cached(sql)?;
    let id_texts: Vec<EncodedEventId> = ids.iter().map(|id| id.encode()).collect();
    let id_strs: Vec<&str> = id_texts.iter().map(EncodedEventId::as_str).collect();
    let platforms: Vec<&'static str> = events.iter().map(|event| event.platform.as_str()).collect();
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(events.len() * 5);
    for (index, event) in events.iter().enumerate() {
        values.push(&id_strs[index]);
        values.push(&event.at_ms);
        values.push(&platforms[index]);
        values.push(&event.kind);
        values.push(&event.data_json);
    }
    statement.execute(values.as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use roadie_core::Platform;

    use super::*;

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A full disk (here SQLite's `max_page_count`, which fails the same way) holds
    /// fire-and-forget events back instead of dropping them; `status` says so; when
    /// there is room again they are all stored and announced, in order.
    #[test]
    fn a_full_disk_holds_fire_and_forget_events_until_there_is_room() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roadie.db");
        let mut connection =
            crate::connection::open_writer(&path, Duration::from_millis(50)).unwrap();
        crate::migrations::apply(&mut connection, &path, 1).unwrap();
        let filler = format!("{{\"filler\":\"{}\"}}", "x".repeat(2000));
        for n in 0..200 {
            connection
                .execute(
                    "INSERT INTO event_log (id, at_ms, platform, type, data) VALUES (?1, 0, 'roadie', 'custom', ?2)",
                    rusqlite::params![format!("0000000000000000000{n:07}"), filler],
                )
                .unwrap();
        }
        let pages: i64 = connection
            .query_row("PRAGMA page_count", [], |row| row.get(0))
            .unwrap();
        // No room to grow: the next page the writer needs fails like a full disk.
        let _: i64 = connection
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |row| {
                row.get(0)
            })
            .unwrap();

        let announced: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = Arc::clone(&announced);
        let hook: CommitHook = Box::new(move |rows: &[EventRow]| {
            seen.lock()
                .unwrap()
                .extend(rows.iter().map(|row| row.data_json.clone()));
        });
        let (sender, receiver) = mpsc::channel(1024);
        let (problem, mut problem_seen) = watch::channel(None);
        let opener: CheckpointOpener = {
            let path = path.clone();
            Box::new(move || crate::connection::open_writer(&path, Duration::from_millis(50)))
        };
        let thread = spawn(connection, opener, receiver, None, 64, hook, problem).unwrap();

        let event = |n: usize| NewEvent {
            at_ms: 1,
            platform: Platform::Roadie,
            kind: "custom",
            data_json: format!("{{\"n\":{n},\"pad\":\"{}\"}}", "y".repeat(500)),
        };
        for n in 0..100 {
            sender
                .blocking_send(Command::Append {
                    events: vec![event(n)],
                    ack: None,
                })
                .unwrap();
        }
        wait_until("the full disk reported", || {
            problem_seen.borrow_and_update().is_some()
        });
        let reported = problem_seen.borrow().clone().unwrap();
        assert!(reported.contains("disk is full"), "{reported}");
        std::thread::sleep(Duration::from_millis(600));
        assert!(announced.lock().unwrap().len() < 100, "nothing was held");

        // Room again: another program deletes rows, freeing pages.
        Connection::open(&path)
            .unwrap()
            .execute("DELETE FROM event_log WHERE data LIKE '%filler%'", [])
            .unwrap();
        wait_until("every held event stored", || {
            announced.lock().unwrap().len() == 100
        });
        let order: Vec<usize> = announced
            .lock()
            .unwrap()
            .iter()
            .map(|json| {
                let rest = json.strip_prefix("{\"n\":").unwrap();
                rest[..rest.find(',').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
        wait_until("the problem cleared", || problem_seen.borrow().is_none());
        let stored: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*) FROM event_log", [], |row| row.get(0))
            .unwrap();
        assert_eq!(stored, 100);

        let (ack, done) = oneshot::channel();
        sender.blocking_send(Command::Shutdown(ack)).unwrap();
        done.blocking_recv().unwrap();
        thread.join().unwrap();
    }
}
