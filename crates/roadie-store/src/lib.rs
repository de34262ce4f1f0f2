//! Roadie's SQLite store: embedded migrations with a backup before any pending one,
//! one writer thread that serialises and batches every write, and a small pool of
//! read connections that run concurrently with it.
//!
//! Architecture invariant: this crate owns the schema. It speaks `roadie-core` types
//! (ids, platforms, timestamps) and plain rows; it knows nothing of HTTP or JSON
//! envelopes (event data arrives as JSON text and is stored as is), nor of the
//! automation domain (commands, actions and points rules arrive as plain rows).

mod automation;
mod connection;
mod credentials;
mod error;
mod events;
mod migrations;
mod points;
mod streams;
mod writer;

pub use automation::{COMMAND_ROLES, StoredAction, StoredCommand, StoredScript, StoredTimer};
pub use credentials::OauthCredential;
pub use error::StoreError;
pub use events::{EventRow, NewEvent, Retention};
pub use migrations::{MIGRATIONS, Migration, MigrationReport};
pub use points::{IdentityTotal, LedgerEntry, PointsChange, PointsError, ViewerRow, ViewerSeen};
pub use streams::{LiveSession, ObsHealthSample, STALE_SESSION_MS, StreamSample, StreamSession};
pub use writer::CommitHook;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use roadie_core::{EventId, Platform};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, watch};

/// Tuning knobs; the defaults suit a streamer's PC.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a connection waits on a lock before failing.
    pub busy_timeout: Duration,
    /// Most write commands committed in one transaction.
    pub max_batch: usize,
    /// Capacity of the queue in front of the writer (publishers wait when it is full).
    pub queue_capacity: usize,
    /// Backups of the database kept in `backups/` (older ones are deleted).
    pub keep_backups: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(5),
            max_batch: 4096,
            queue_capacity: 16_384,
            keep_backups: 5,
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    options: StoreOptions,
    writer: mpsc::Sender<writer::Command>,
    write_problem: watch::Receiver<Option<String>>,
    readers: Mutex<Vec<Connection>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, backs it up and applies
    /// pending migrations, and starts the writer thread. `on_commit` runs on the
    /// writer thread after every commit that stored events, with those events in order.
    pub fn open(
        path: &Path,
        options: StoreOptions,
        on_commit: CommitHook,
    ) -> Result<(Store, MigrationReport), StoreError> {
        Self::open_checked(path, options, on_commit).map_err(|error| match error {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, detail))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                ) =>
            {
                StoreError::Damaged {
                    path: path.to_path_buf(),
                    reason: detail.unwrap_or_else(|| failure.to_string()),
                    backup: migrations::backups_of(path).pop(),
                }
            }
            other => other,
        })
    }

    fn open_checked(
        path: &Path,
        options: StoreOptions,
        on_commit: CommitHook,
    ) -> Result<(Store, MigrationReport), StoreError> {
        let mut write_connection = connection::open_writer(path, options.busy_timeout)?;
        let report = migrations::apply(&mut write_connection, path, options.keep_backups)?;
        let last_id = events::latest_id(&write_connection)?;
        let (checkpoint_path, busy_timeout) = (path.to_path_buf(), options.busy_timeout);
        let opener: writer::CheckpointOpener =
            Box::new(move || connection::open_writer(&checkpoint_path, busy_timeout));
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let (problem, write_problem) = watch::channel(None);
        let thread = writer::spawn(
            write_connection,
            opener,
            receiver,
            last_id,
            options.max_batch,
            on_commit,
            problem,
        )?;
        let store = Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                options,
                writer: sender,
                write_problem,
                readers: Mutex::new(Vec::new()),
                writer_thread: Mutex::new(Some(thread)),
            }),
        };
        Ok((store, report))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Why the writer is holding writes back (the database cannot be written), or
    /// `None`; changes as that starts and ends.
    pub fn write_problem(&self) -> watch::Receiver<Option<String>> {
        self.inner.write_problem.clone()
    }

    /// Queues an event for the next batch. Returns once it is queued, not stored;
    /// waits only while the writer's queue is full.
    pub async fn append_event(&self, event: NewEvent) -> Result<(), StoreError> {
        self.send(writer::Command::Append {
            events: vec![event],
            ack: None,
        })
        .await
    }

    /// Queues an event for the next batch if the writer's queue has room right now, so
    /// the busiest producers need no future per event. Gives the event back when the
    /// queue is full: [`Store::append_event`] then waits for room.
    pub fn try_append_event(&self, event: NewEvent) -> Result<Option<NewEvent>, StoreError> {
        match self.inner.writer.try_reserve() {
            Ok(room) => {
                room.send(writer::Command::Append {
                    events: vec![event],
                    ack: None,
                });
                Ok(None)
            }
            Err(mpsc::error::TrySendError::Full(())) => Ok(Some(event)),
            Err(mpsc::error::TrySendError::Closed(())) => Err(StoreError::WriterGone),
        }
    }

    /// Stores events in order and returns their ids once the transaction committed.
    pub async fn append_events_acked(
        &self,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventId>, StoreError> {
        let (ack, answer) = oneshot::channel();
        self.send(writer::Command::Append {
            events,
            ack: Some(ack),
        })
        .await?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Inserts or replaces an OAuth credential's metadata.
    pub async fn upsert_credential(
        &self,
        credential: OauthCredential,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        credential.validate()?;
        self.write(move |connection| credentials::upsert(connection, &credential, now_ms))
            .await
    }

    /// Deletes an OAuth credential's metadata; true when it existed.
    pub async fn delete_credential(
        &self,
        platform: roadie_core::Platform,
        account_id: String,
    ) -> Result<bool, StoreError> {
        self.write(move |connection| credentials::delete(connection, platform, &account_id))
            .await
    }

    /// Deletes events beyond the retention limits; returns how many were deleted.
    pub async fn prune_events(&self, retention: Retention, now_ms: i64) -> Result<u64, StoreError> {
        self.write(move |connection| events::prune(connection, retention, now_ms))
            .await
    }

    /// Runs `operation` inside the writer's current batch transaction (in a savepoint
    /// of its own, so its failure rolls back only its own changes).
    pub async fn write<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (ack, answer) = oneshot::channel();
        self.send(writer::Command::Write(writer::job(operation, ack)))
            .await?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// A platform went live: opens a session, or continues the open one if it is recent
    /// (see [`STALE_SESSION_MS`]), updating its title and category; says whether that
    /// session's `stream.online` is already stored.
    pub async fn stream_online(
        &self,
        platform: roadie_core::Platform,
        at: roadie_core::Timestamp,
        title: Option<String>,
        category: Option<String>,
    ) -> Result<LiveSession, StoreError> {
        self.write(move |connection| {
            streams::online(
                connection,
                platform,
                at,
                title.as_deref(),
                category.as_deref(),
            )
        })
        .await
    }

    /// A platform went offline: closes its open session; true when there was one.
    pub async fn stream_offline(
        &self,
        platform: roadie_core::Platform,
        at: roadie_core::Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |connection| streams::offline(connection, platform, at))
            .await
    }

    /// Stores a polled sample in the platform's open session (opening one if needed);
    /// `None` for a late sample just after a stream ended (see `streams::sample`).
    pub async fn add_stream_sample(
        &self,
        platform: roadie_core::Platform,
        sample: StreamSample,
    ) -> Result<Option<LiveSession>, StoreError> {
        self.write(move |connection| streams::sample(connection, platform, sample))
            .await
    }

    /// Stores a stream-health sample from OBS.
    pub async fn add_obs_sample(&self, sample: ObsHealthSample) -> Result<(), StoreError> {
        self.write(move |connection| streams::obs_sample(connection, &sample))
            .await
    }

    /// OBS health samples between two times (Unix ms, inclusive), oldest first.
    pub async fn obs_samples(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ObsHealthSample>, StoreError> {
        self.read(move |connection| streams::obs_samples(connection, from_ms, to_ms))
            .await
    }

    /// The newest `limit` stream sessions, newest first.
    pub async fn stream_sessions(&self, limit: usize) -> Result<Vec<StreamSession>, StoreError> {
        self.read(move |connection| streams::sessions(connection, limit))
            .await
    }

    /// A session's samples, oldest first.
    pub async fn stream_samples(&self, session_id: i64) -> Result<Vec<StreamSample>, StoreError> {
        self.read(move |connection| streams::samples(connection, session_id))
            .await
    }

    /// Every chat command, by name.
    pub async fn commands(&self) -> Result<Vec<StoredCommand>, StoreError> {
        self.read(automation::commands).await
    }

    /// Inserts a command or replaces its definition. An existing command keeps its
    /// use counter; a new one starts at `command.uses`.
    pub async fn upsert_command(&self, command: StoredCommand) -> Result<(), StoreError> {
        self.write(move |connection| automation::upsert_command(connection, &command, now_ms()))
            .await
    }

    /// Deletes a command; true when it existed.
    pub async fn remove_command(&self, name: String) -> Result<bool, StoreError> {
        self.write(move |connection| automation::remove_command(connection, &name))
            .await
    }

    /// Counts one run of a command; its new count, `None` when there is no such command.
    pub async fn bump_command_uses(&self, name: String) -> Result<Option<u64>, StoreError> {
        self.write(move |connection| automation::bump_command_uses(connection, &name))
            .await
    }

    /// Sets a command's use counter; true when the command exists.
    pub async fn set_command_uses(&self, name: String, uses: u64) -> Result<bool, StoreError> {
        self.write(move |connection| automation::set_command_uses(connection, &name, uses))
            .await
    }

    /// Replaces every command, timer and action in one transaction (an import): when
    /// any of them is refused, the previous sets stay as they were. Counters come from
    /// the given commands; scripts are untouched.
    pub async fn replace_automation(
        &self,
        commands: Vec<StoredCommand>,
        timers: Vec<StoredTimer>,
        actions: Vec<StoredAction>,
    ) -> Result<(), StoreError> {
        self.write(move |connection| {
            automation::replace(connection, &commands, &timers, &actions, now_ms())
        })
        .await
    }

    /// Every timer, by name.
    pub async fn timers(&self) -> Result<Vec<StoredTimer>, StoreError> {
        self.read(automation::timers).await
    }

    /// Inserts or replaces a timer.
    pub async fn upsert_timer(&self, timer: StoredTimer) -> Result<(), StoreError> {
        self.write(move |connection| automation::upsert_timer(connection, &timer, now_ms()))
            .await
    }

    /// Deletes a timer; true when it existed.
    pub async fn remove_timer(&self, name: String) -> Result<bool, StoreError> {
        self.write(move |connection| automation::remove_timer(connection, &name))
            .await
    }

    /// Every action, by name.
    pub async fn actions(&self) -> Result<Vec<StoredAction>, StoreError> {
        self.read(automation::actions).await
    }

    /// Inserts or replaces an action (its definition must be JSON).
    pub async fn upsert_action(&self, action: StoredAction) -> Result<(), StoreError> {
        self.write(move |connection| automation::upsert_action(connection, &action, now_ms()))
            .await
    }

    /// Deletes an action; true when it existed.
    pub async fn remove_action(&self, name: String) -> Result<bool, StoreError> {
        self.write(move |connection| automation::remove_action(connection, &name))
            .await
    }

    /// One user script with its variables.
    pub async fn script(&self, name: String) -> Result<Option<StoredScript>, StoreError> {
        self.read(move |connection| automation::script(connection, &name))
            .await
    }

    /// Every user script, by name.
    pub async fn scripts(&self) -> Result<Vec<StoredScript>, StoreError> {
        self.read(automation::scripts).await
    }

    /// Inserts a script or replaces its source; an existing script keeps its variables.
    pub async fn upsert_script(&self, name: String, source: String) -> Result<(), StoreError> {
        self.write(move |connection| {
            automation::upsert_script(connection, &name, &source, now_ms())
        })
        .await
    }

    /// Deletes a script and its variables; true when it existed.
    pub async fn remove_script(&self, name: String) -> Result<bool, StoreError> {
        self.write(move |connection| automation::remove_script(connection, &name))
            .await
    }

    /// Replaces a script's variables (a JSON object); false when there is no such script.
    pub async fn set_script_vars(&self, name: String, vars: String) -> Result<bool, StoreError> {
        self.write(move |connection| {
            automation::set_script_vars(connection, &name, &vars, now_ms())
        })
        .await
    }

    /// Records a sighting of a viewer (creating it and its identity when new) and
    /// returns its identity. Login and name follow the newest sighting.
    pub async fn upsert_viewer(&self, viewer: ViewerSeen) -> Result<i64, StoreError> {
        self.write(move |connection| points::upsert_viewer(connection, &viewer))
            .await
    }

    /// Applies points changes in order in one transaction, each on its own: a refused
    /// change (zero, duplicate source key, insufficient balance, overflow) is reported
    /// in its slot and writes nothing. An accepted change records the viewer too and
    /// yields its identity's new balance. A database error fails the whole call.
    pub async fn apply_points(
        &self,
        changes: Vec<PointsChange>,
    ) -> Result<Vec<Result<i64, PointsError>>, StoreError> {
        self.write(move |connection| points::apply(connection, &changes))
            .await
    }

    /// The balance of the account's identity; `None` for an unknown account.
    pub async fn balance(
        &self,
        platform: Platform,
        user_id: String,
    ) -> Result<Option<i64>, StoreError> {
        self.read(move |connection| points::balance(connection, platform, &user_id))
            .await
    }

    /// The `limit` identities with the highest balances (among those with any entry),
    /// ties by identity id, each with its accounts.
    pub async fn top(&self, limit: usize) -> Result<Vec<IdentityTotal>, StoreError> {
        self.read(move |connection| points::top(connection, limit))
            .await
    }

    /// Links two known accounts into one identity sharing one balance; the smaller
    /// identity id survives and is returned. Linking linked accounts changes nothing.
    /// Refused with [`PointsError::UnknownViewer`] or [`PointsError::Overflow`].
    pub async fn link_viewers(
        &self,
        a: (Platform, String),
        b: (Platform, String),
    ) -> Result<i64, StoreError> {
        self.write(move |connection| points::link(connection, (a.0, &a.1), (b.0, &b.1)))
            .await
    }

    /// Every account linked with this one, itself included; empty when unknown.
    pub async fn linked_viewers(
        &self,
        platform: Platform,
        user_id: String,
    ) -> Result<Vec<ViewerRow>, StoreError> {
        self.read(move |connection| points::linked(connection, platform, &user_id))
            .await
    }

    /// Accounts with this login (ignoring case), optionally on one platform, newest
    /// sighting first. Deciding between several is the caller's business.
    pub async fn find_viewers(
        &self,
        login: String,
        platform: Option<Platform>,
    ) -> Result<Vec<ViewerRow>, StoreError> {
        self.read(move |connection| points::find(connection, &login, platform))
            .await
    }

    /// The newest `limit` ledger entries of the account's identity (every linked
    /// account), newest first; empty for an unknown account.
    pub async fn ledger_entries(
        &self,
        platform: Platform,
        user_id: String,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        self.read(move |connection| points::entries(connection, platform, &user_id, limit))
            .await
    }

    /// Waits until everything queued before this call is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (ack, answer) = oneshot::channel();
        self.send(writer::Command::Flush(ack)).await?;
        answer.await.map_err(|_| StoreError::WriterGone)
    }

    /// Stops the writer after it committed everything queued, waiting at most `timeout`.
    /// Returns false when the writer did not finish in time.
    pub async fn close(&self, timeout: Duration) -> bool {
        let (ack, answer) = oneshot::channel();
        // The queue may be full (a writer waiting out another program's lock): the
        // time limit covers getting the request in as well.
        let stopped = tokio::time::timeout(timeout, async {
            if self
                .inner
                .writer
                .send(writer::Command::Shutdown(ack))
                .await
                .is_ok()
            {
                let _ = answer.await;
            }
        });
        let finished = stopped.await.is_ok();
        if finished {
            let handle = self
                .inner
                .writer_thread
                .lock()
                .ok()
                .and_then(|mut slot| slot.take());
            if let Some(handle) = handle {
                let _ = tokio::task::spawn_blocking(move || handle.join()).await;
            }
        }
        finished
    }

    /// Events with ids after `since` (all when `None`), oldest first, optionally only of `types`.
    pub async fn events_after(
        &self,
        since: Option<EventId>,
        types: Vec<String>,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        self.read(move |connection| events::after(connection, since, &types, limit))
            .await
    }

    /// The newest `limit` events (optionally of `types`), returned oldest first.
    pub async fn recent_events(
        &self,
        types: Vec<String>,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        self.read(move |connection| events::recent(connection, &types, limit))
            .await
    }

    /// Number of events in the log.
    pub async fn event_count(&self) -> Result<u64, StoreError> {
        self.read(events::count).await
    }

    /// Every stored OAuth credential.
    pub async fn credentials(&self) -> Result<Vec<OauthCredential>, StoreError> {
        self.read(credentials::all).await
    }

    /// Runs a read on a pooled read-only connection, off the async threads.
    pub async fn read<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut pool| pool.pop());
            let connection = match pooled {
                Some(connection) => connection,
                None => connection::open_reader(&inner.path, inner.options.busy_timeout)?,
            };
            let result = operation(&connection);
            if let Ok(mut pool) = inner.readers.lock() {
                // Keep a few warm connections; extra ones close here.
                if pool.len() < 4 {
                    pool.push(connection);
                }
            }
            result
        })
        .await
        .map_err(|_| StoreError::WriterGone)?
    }

    async fn send(&self, command: writer::Command) -> Result<(), StoreError> {
        self.inner
            .writer
            .send(command)
            .await
            .map_err(|_| StoreError::WriterGone)
    }
}

/// Current Unix time in milliseconds (the store's clock for ids and bookkeeping).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
