//! Points in the daemon: chat credits written in batches, balances and the
//! leaderboard, gives and takes, linking accounts, and naming viewers as
//! `platform:login` or a bare login.

use std::time::Duration;

use roadie_automation::Entry;
use roadie_core::{EventKind, Platform, Role, User};
use roadie_protocol::{PointsBalance, ViewerAccount};
use roadie_store::{PointsChange, PointsError, StoreError, ViewerRow};
use tokio::sync::{mpsc, watch};

use super::{Automation, POINTS_BATCH, POINTS_FLUSH_EVERY, stopping, wall_now};

/// Why a points request failed.
#[derive(Debug, thiserror::Error)]
pub enum PointsApiError {
    /// No viewer by that name has been seen.
    #[error("no viewer {0} has been seen in chat yet")]
    UnknownViewer(String),
    /// A bare login names accounts on several platforms that are not linked.
    #[error("{login} is known on {platforms}: say which, e.g. {example}")]
    Ambiguous {
        /// The login given.
        login: String,
        /// Where it is known.
        platforms: String,
        /// `platform:login`.
        example: String,
    },
    /// The name is not `platform:login` or a login.
    #[error("{0}")]
    BadName(String),
    /// The ledger refused the change.
    #[error("{0}")]
    Refused(PointsError),
    /// The database failed.
    #[error("storage: {0}")]
    Store(StoreError),
}

impl From<StoreError> for PointsApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Points(refused) => PointsApiError::Refused(refused),
            other => PointsApiError::Store(other),
        }
    }
}

/// An accrual credit (chat or watch time) as a ledger change.
pub(super) fn ledger_change(user: &User, entry: Entry) -> PointsChange {
    PointsChange {
        platform: entry.account.platform,
        user_id: entry.account.user_id,
        login: user.login.clone(),
        name: user.name.clone(),
        delta: entry.delta,
        reason: entry.reason,
        at_ms: entry.at.unix_ms(),
        source_key: entry.source_event,
        allow_negative_balance: false,
    }
}

fn account(row: &ViewerRow) -> ViewerAccount {
    ViewerAccount {
        platform: row.platform.as_str().to_owned(),
        id: row.user_id.clone(),
        login: row.login.clone(),
        name: row.name.clone(),
    }
}

/// The user a stored account stands for in events.
fn user_of(row: &ViewerRow) -> User {
    User {
        id: row.user_id.clone(),
        login: row.login.clone(),
        name: row.name.clone(),
        roles: Vec::<Role>::new(),
    }
}

impl Automation {
    /// Writes queued chat credits in batches until `shutdown`, then writes what is left.
    pub(super) async fn flush_points(
        &self,
        mut queue: mpsc::Receiver<PointsChange>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut batch = Vec::with_capacity(POINTS_BATCH);
        let mut tick = tokio::time::interval(POINTS_FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                change = queue.recv() => match change {
                    Some(change) => {
                        batch.push(change);
                        if batch.len() >= POINTS_BATCH {
                            self.write_points(&mut batch).await;
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => self.write_points(&mut batch).await,
                () = stopping(&mut shutdown) => {
                    // The chat loop stops at the same signal; give it a moment to hand
                    // over what it already credited.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    while let Ok(change) = queue.try_recv() {
                        batch.push(change);
                    }
                    break;
                }
            }
        }
        self.write_points(&mut batch).await;
    }

    async fn write_points(&self, batch: &mut Vec<PointsChange>) {
        if batch.is_empty() {
            return;
        }
        let changes = std::mem::take(batch);
        let applied = match self.inner.store.apply_points(changes.clone()).await {
            Ok(applied) => applied,
            Err(error) => {
                tracing::error!(%error, count = changes.len(), "could not record chat points");
                return;
            }
        };
        for (change, outcome) in changes.into_iter().zip(applied) {
            match outcome {
                Ok(balance) => {
                    let platform = change.platform;
                    let kind = EventKind::PointsChanged {
                        user: User {
                            id: change.user_id,
                            login: change.login,
                            name: change.name,
                            roles: Vec::new(),
                        },
                        delta: change.delta,
                        balance,
                        reason: change.reason,
                    };
                    self.publish(kind, platform).await;
                }
                Err(PointsError::Duplicate { .. }) => {}
                Err(error) => tracing::warn!(%error, "a chat credit was refused"),
            }
        }
    }

    /// The accounts `name` stands for: `platform:login`, or a bare login known on one
    /// platform (or on several, all linked).
    pub async fn resolve_viewer(&self, name: &str) -> Result<Vec<ViewerRow>, PointsApiError> {
        let name = name.trim().trim_start_matches('@');
        let (platform, login) = match name.split_once(':') {
            Some((platform, login)) => {
                let platform = platform
                    .parse::<Platform>()
                    .ok()
                    .filter(|platform| *platform != Platform::Roadie)
                    .ok_or_else(|| {
                        PointsApiError::BadName(format!(
                            "{platform:?} is not a platform: use twitch, kick or youtube"
                        ))
                    })?;
                (Some(platform), login)
            }
            None => (None, name),
        };
        if login.is_empty() {
            return Err(PointsApiError::BadName(
                "name a viewer: `platform:login` or a login".into(),
            ));
        }
        let found = self
            .inner
            .store
            .find_viewers(login.to_owned(), platform)
            .await?;
        let Some(first) = found.first() else {
            return Err(PointsApiError::UnknownViewer(name.to_owned()));
        };
        if found.iter().any(|row| row.identity != first.identity) {
            let mut platforms: Vec<&str> = found.iter().map(|row| row.platform.as_str()).collect();
            platforms.dedup();
            return Err(PointsApiError::Ambiguous {
                login: login.to_owned(),
                platforms: platforms.join(", "),
                example: format!("{}:{login}", first.platform),
            });
        }
        Ok(found)
    }

    /// A viewer's balance with every linked account.
    pub async fn balance(&self, name: &str) -> Result<PointsBalance, PointsApiError> {
        let found = self.resolve_viewer(name).await?;
        let first = &found[0];
        let store = &self.inner.store;
        let balance = store
            .balance(first.platform, first.user_id.clone())
            .await?
            .unwrap_or(0);
        let linked = store
            .linked_viewers(first.platform, first.user_id.clone())
            .await?;
        Ok(PointsBalance {
            accounts: linked.iter().map(account).collect(),
            balance,
        })
    }

    /// The highest balances.
    pub async fn top(&self, limit: usize) -> Result<Vec<PointsBalance>, PointsApiError> {
        let top = self.inner.store.top(limit).await?;
        Ok(top
            .into_iter()
            .map(|total| PointsBalance {
                accounts: total.accounts.iter().map(account).collect(),
                balance: total.total,
            })
            .collect())
    }

    /// Gives (positive) or takes (negative) points; a take never goes below zero.
    pub async fn adjust(
        &self,
        name: &str,
        amount: i64,
        reason: Option<String>,
    ) -> Result<PointsBalance, PointsApiError> {
        if amount == 0 {
            return Err(PointsApiError::Refused(PointsError::ZeroDelta));
        }
        let found = self.resolve_viewer(name).await?;
        let row = &found[0];
        let reason = reason.unwrap_or_else(|| if amount > 0 { "give" } else { "take" }.into());
        let change = PointsChange {
            platform: row.platform,
            user_id: row.user_id.clone(),
            login: row.login.clone(),
            name: row.name.clone(),
            delta: amount,
            reason: reason.clone(),
            at_ms: wall_now().unix_ms(),
            source_key: None,
            allow_negative_balance: false,
        };
        let applied = self.inner.store.apply_points(vec![change]).await?;
        let balance = match applied.into_iter().next() {
            Some(Ok(balance)) => balance,
            Some(Err(refused)) => return Err(PointsApiError::Refused(refused)),
            None => return Err(PointsApiError::BadName("nothing was applied".into())),
        };
        self.publish(
            EventKind::PointsChanged {
                user: user_of(row),
                delta: amount,
                balance,
                reason,
            },
            row.platform,
        )
        .await;
        self.balance(&format!("{}:{}", row.platform, row.login))
            .await
    }

    /// Links two viewers' accounts into one balance.
    pub async fn link(&self, first: &str, second: &str) -> Result<PointsBalance, PointsApiError> {
        let a = self.resolve_viewer(first).await?;
        let b = self.resolve_viewer(second).await?;
        let (a, b) = (&a[0], &b[0]);
        self.inner
            .store
            .link_viewers(
                (a.platform, a.user_id.clone()),
                (b.platform, b.user_id.clone()),
            )
            .await?;
        self.balance(&format!("{}:{}", a.platform, a.login)).await
    }
}
